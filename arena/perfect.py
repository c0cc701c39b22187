"""Perfect play, verified rather than sampled: the player's move in every position it can reach.

A match against the exact solver samples a few hundred lines; a flaw off those lines goes
unseen (a tic-tac-toe run that lost no game in 1,000 against minimax from the start then lost 4
in 1,000 from the one-move openings). `perfect_play_report` walks the whole tree instead: from
the initial position, with the player in either seat, it asks the player for its move at every
position where it is to move and follows that move only, while every legal reply of the
opponent is followed. Each of the player's moves is compared with the solver's set of optimal
moves (those that keep the game-theoretic value). The positions are exactly those reachable
when the player plays either side against any opponent at all.

A search player at temperature 0 (the evaluation's player) still depends on its random stream
(root noise is off, but ties and batched leaf selection are not): each position is asked once
per repeat, each repeat with its own stream, in one batch per depth; a non-optimal answer under
any stream is a mistake, and every distinct answer is followed, so that a network which plays
well on one stream's lines and blunders on another's is caught (`eval.exhaustive_seeds`).
Feasible for games whose tree the player's choices keep small: tic-tac-toe (a few hundred
positions per seat) and hex 3x3; `max_positions` stops a walk that would not end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ponder.errors import PonderError

# Games `eval.exhaustive` accepts: an exact solver and a tree small enough to walk each time.
EXHAUSTIVE_GAMES = frozenset({"tic_tac_toe", "hex_3"})
MAX_POSITIONS = 200_000
METRIC_PREFIX = "exhaustive"
METRICS = (
    f"{METRIC_PREFIX}_optimal_rate",  # share of positions where the move was optimal
    f"{METRIC_PREFIX}_mistakes",  # positions where it was not
    f"{METRIC_PREFIX}_positions",  # positions checked, both seats
)


@dataclass
class Mistake:
    moves: tuple[int, ...]  # the position, as moves from the start
    seat: int  # 0: the player moved first in this line, 1: second
    action: int  # what the player chose
    optimal: tuple[int, ...]  # every move that keeps the value
    value: int  # the value for the mover with best play (+1 win, 0 draw, -1 loss)


@dataclass
class PerfectPlayReport:
    game: str
    player: str
    positions: int = 0
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def perfect(self) -> bool:
        return self.positions > 0 and not self.mistakes

    @property
    def optimal_rate(self) -> float:
        return 1.0 - len(self.mistakes) / max(self.positions, 1)

    def metrics(self) -> dict[str, float]:
        return dict(
            zip(
                METRICS,
                (self.optimal_rate, float(len(self.mistakes)), float(self.positions)),
                strict=True,
            )
        )

    def describe(self, game: Any = None, limit: int = 3) -> str:
        head = (
            f"{self.player}: {self.positions} positions checked (both seats), "
            f"{len(self.mistakes)} not optimal"
        )
        lines = []
        for m in self.mistakes[:limit]:
            name = (lambda a: str(a)) if game is None else game.action_to_string
            played = " ".join(name(a) for a in m.moves) or "(start)"
            lines.append(
                f"after {played}: played {name(m.action)}, optimal "
                f"{'/'.join(name(a) for a in m.optimal)}"
            )
        return head + ("; " + "; ".join(lines) if lines else "")


def check_exhaustive_game(game: Any) -> None:
    """One line when `eval.exhaustive` is asked of a game it cannot walk."""
    from ponder.envs.solvers import get_solver

    if game.name not in EXHAUSTIVE_GAMES or get_solver(game.name) is None:
        allowed = ", ".join(sorted(EXHAUSTIVE_GAMES))
        raise PonderError(
            f"eval.exhaustive checks every reachable position with an exact solver; "
            f"{game.name} is not one of the games small enough ({allowed})"
        )


def perfect_play_report(
    game: Any,
    player: Any,
    seats: tuple[int, ...] = (0, 1),
    repeats: int = 1,
    seed: int = 0,
    max_positions: int = MAX_POSITIONS,
) -> PerfectPlayReport:
    """Check the player's move in every position reachable with it in each of `seats` against
    any opponent (see the module docstring). `player` is a Player or a spec string."""
    from ponder.arena.specs import make_player
    from ponder.envs.solvers import get_solver

    game = _resolve(game)
    solve = get_solver(game.name)
    if solve is None:
        raise PonderError(f"no exact solver for {game.name}: perfect play cannot be checked")
    player = make_player(player, game)
    report = PerfectPlayReport(game=game.name, player=player.spec)
    for seat in seats:
        _walk(game, player, solve, seat, repeats, seed, max_positions, report)
    return report


def _resolve(game: Any) -> Any:
    if isinstance(game, str):
        from ponder.envs.registry import get_game

        return get_game(game)
    return game


def _walk(
    game: Any,
    player: Any,
    solve: Any,
    seat: int,
    repeats: int,
    seed: int,
    max_positions: int,
    report: PerfectPlayReport,
) -> None:
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    start = game.new_states(1)[0]
    level: list[tuple[Any, tuple[int, ...]]] = [(start, ())]
    seen: set[bytes] = set()
    while level:
        # The opponent's positions branch on every legal move until the player is to move.
        ours: dict[bytes, tuple[Any, tuple[int, ...]]] = {}
        while level:
            grown = []
            for state, moves in level:
                if game.is_terminal(state):
                    continue
                if int(game.to_play(state)) == seat:
                    key = bytes(np.asarray(state).tobytes())
                    if key not in seen:
                        seen.add(key)
                        ours[key] = (state, moves)
                    continue
                game.legal_mask(state, mask)
                for action in np.flatnonzero(mask):
                    child = state.copy()
                    game.play(child, int(action))
                    grown.append((child, (*moves, int(action))))
            level = grown
        if not ours:
            return
        report.positions += len(ours)
        if report.positions > max_positions:
            raise PonderError(
                f"perfect-play check of {game.name}: over {max_positions} positions; the game "
                "is too large to walk"
            )
        batch = list(ours.values())
        states = np.stack([s for s, _ in batch])
        histories = [m for _, m in batch]
        answers = [_ask(game, player, states, histories, seed + r) for r in range(repeats)]
        for k, (state, moves) in enumerate(batch):
            result = solve(state)
            optimal = {int(a) for a in result.best_actions}
            chosen = list(dict.fromkeys(int(a[k]) for a in answers))  # distinct, in order
            wrong = [a for a in chosen if a not in optimal]
            if wrong:
                report.mistakes.append(
                    Mistake(moves, seat, wrong[0], tuple(sorted(optimal)), int(result.value))
                )
            # Every move some stream chose is followed: the positions checked are those the
            # player reaches under any of the `repeats` streams, not only the first one's.
            for action in chosen:
                child = state.copy()
                game.play(child, action)
                level.append((child, (*moves, action)))


def _ask(game: Any, player: Any, states: np.ndarray, histories: list, seed: int) -> np.ndarray:
    player.start(game, len(states), seed)
    actions, _ = player.act(states, histories, np.arange(len(states), dtype=np.int64))
    return np.asarray(actions, dtype=np.int64)
