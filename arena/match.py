"""Head-to-head matches: colour-swapped game pairs over an opening set, played in batches.

`play_games` is the engine: a batch of games advances together; at each step every player
receives, in one call, the positions of the games where it is to move. `play_match` builds the
pairs, cuts them into batches ("chunks"), runs the chunks here or on Ray workers, stops early
when an SPRT decides, and returns a `MatchResult`.

Reproducibility: chunk `c` of a match seeded `s` gets players started with seeds derived from
(s, c) alone, so a match replays game for game from its seed, whatever the number of workers,
as long as the players, openings and `batch_games` are the same. Each game records its opening,
chunk, row in the chunk, and the chunk's seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ponder.agents.player import MoveInfo, Player
from ponder.arena.openings import Opening, describe, opening_book
from ponder.arena.ratings import (
    ScoreEstimate,
    elo_from_score,
    pentanomial_estimate,
    trinomial_estimate,
)
from ponder.arena.sprt import SprtConfig, SprtState, check_sprt, sprt_state
from ponder.errors import PonderError
from ponder.seeds import derive_seed

# Moves kept per position in game records: enough for a viewer's heat map on the small boards
# (all of tic-tac-toe's and connect four's), the strongest candidates on the big ones.
TOP_MOVES = 12

DEFAULT_BATCH_GAMES = 64  # games advanced together in one batch of a match
MAX_GAMES = 10_000_000  # per match: a week of the fastest players; more is a typo


def check_seed(seed: int) -> None:
    """Seeds feed numpy's SeedSequence, which refuses negative ones with a traceback."""
    from ponder.config import MAX_SEED

    if not 0 <= int(seed) <= MAX_SEED:
        raise PonderError(f"seed {seed} must be a whole number from 0 to 2**63-1")


@dataclass
class GameSetup:
    index: int  # game number within the match
    opening: Opening
    a_first: bool  # player A moves first (is player 0)


@dataclass
class GameResult:
    index: int
    opening: Opening
    a_first: bool
    chunk: int
    row: int  # the game's row in its chunk's batch
    seed: int  # the chunk's seed
    moves: list[int]  # every move from the initial position, opening included
    outcome: float  # for player 0 (the first mover): +1, 0, -1
    stats: list[dict] | None = None  # per move after the opening, when recorded
    # Moves each player made after the opening, and the network evaluations it reported
    # spending on them (0 for players without a network): the test compute `ponder think` counts.
    moves_a: int = 0
    moves_b: int = 0
    evaluations_a: int = 0
    evaluations_b: int = 0

    @property
    def pair(self) -> int:
        return self.index // 2

    @property
    def score_a(self) -> float:
        """A's points: 1 win, 0.5 draw, 0 loss."""
        first = 0.5 + 0.5 * self.outcome
        return first if self.a_first else 1.0 - first

    @property
    def result(self) -> str:
        return {1.0: "1-0", -1.0: "0-1"}.get(self.outcome, "1/2-1/2")


def top_moves(
    game: Any, info: MoveInfo, k: int, state: Any, count: int, played: int | None = None
) -> list[dict]:
    """The mover's most visited moves (or most likely, without visits) with their statistics;
    the `played` move is added last when ties or a sampled move leave it out of the first
    `count`, so a viewer can always show the statistics of the move that was made."""
    key = info.visits if info.visits is not None else info.prior
    if key is None:
        return []
    row = np.asarray(key[k], dtype=np.float64)
    order = [int(a) for a in np.argsort(-row, kind="stable")[:count] if row[a] > 0]
    if played is not None and played not in order and 0 <= played < len(row):
        order.append(int(played))
    out = []
    for a in order:
        entry: dict[str, Any] = {"move": game.action_to_string(a, state), "action": a}
        for name in ("visits", "q", "prior"):
            values = getattr(info, name)
            if values is not None:
                value = float(values[k, a])
                entry[name] = int(value) if name == "visits" else round(value, 4)
        out.append(entry)
    return out


@dataclass
class MoveEvent:
    """One move as it is played, for `ponder watch`, `ponder play` and progress displays."""

    game: int  # row in the batch
    ply: int
    player: str  # the mover's spec
    mover: int  # 0 or 1
    action: int
    text: str
    state_before: Any
    top: list[dict]  # the mover's top moves (empty when it has no statistics)
    value: float | None  # the mover's root value, when it has one


def play_games(
    game: Any,
    player_a: Player,
    player_b: Player,
    setups: Sequence[GameSetup],
    seed: int,
    chunk: int = 0,
    record: bool = False,
    on_move: Callable[[MoveEvent], None] | None = None,
    on_game_end: Callable[[GameResult], None] | None = None,
) -> list[GameResult]:
    """Play `setups` as one batch. A and B are started for the batch with seeds derived from
    `seed`; `record` keeps each move's top-move statistics; `on_move` sees every move."""
    check_seed(seed)
    from ponder.agents.players import legal_mask_of

    if player_a is player_b:
        raise ValueError(
            "player_a and player_b must be distinct objects (build each from its spec)"
        )
    batch = _new_batch(game, setups, seed, chunk, record, on_move, on_game_end)
    _play_openings(batch)
    n = len(setups)
    player_a.start(game, n, derive_seed(seed, 0))
    player_b.start(game, n, derive_seed(seed, 1))
    while not batch.done.all():
        rows_a, rows_b = _rows_to_move(batch)
        for player, side, rows in ((player_a, 0, rows_a), (player_b, 1, rows_b)):
            if len(rows) == 0:
                continue
            _play_turn(batch, player, side, rows, legal_mask_of)
    return [r for r in batch.results if r is not None]


@dataclass
class _Batch:
    """The games of one `play_games` call as they advance: positions, moves so far, tallies."""

    game: Any
    setups: Sequence[GameSetup]
    seed: int
    chunk: int
    record: bool
    on_move: Callable[[MoveEvent], None] | None
    on_game_end: Callable[[GameResult], None] | None
    states: Any
    histories: list[list[int]]
    done: np.ndarray
    outcome: np.ndarray
    stats: list[list[dict] | None]
    a_seat: np.ndarray  # per game: the seat (0 first, 1 second) A plays from
    results: list[GameResult | None]
    moves: np.ndarray  # per game: A's and B's moves after the opening
    spent: np.ndarray  # and the evaluations they reported


def _new_batch(
    game: Any,
    setups: Sequence[GameSetup],
    seed: int,
    chunk: int,
    record: bool,
    on_move: Callable[[MoveEvent], None] | None,
    on_game_end: Callable[[GameResult], None] | None,
) -> _Batch:
    """Fresh positions and empty tallies for `setups`; openings are played by `_play_openings`."""
    n = len(setups)
    return _Batch(
        game=game,
        setups=setups,
        seed=seed,
        chunk=chunk,
        record=record,
        on_move=on_move,
        on_game_end=on_game_end,
        states=game.new_states(n),
        histories=[],
        done=np.zeros(n, dtype=np.bool_),
        outcome=np.zeros(n),
        stats=[[] if record else None for _ in range(n)],
        a_seat=np.array([0 if s.a_first else 1 for s in setups], dtype=np.int64),
        results=[None] * n,
        moves=np.zeros((n, 2), dtype=np.int64),
        spent=np.zeros((n, 2), dtype=np.int64),
    )


def _finish(batch: _Batch, i: int) -> None:
    """Close game `i`: its outcome, its `GameResult`, and the `on_game_end` callback."""
    batch.done[i] = True
    batch.outcome[i] = float(batch.game.outcome(batch.states[i]))
    s = batch.setups[i]
    moves, spent = batch.moves, batch.spent
    batch.results[i] = GameResult(
        s.index,
        s.opening,
        s.a_first,
        batch.chunk,
        int(i),
        batch.seed,
        batch.histories[i],
        float(batch.outcome[i]),
        batch.stats[i],
        *(int(x) for x in (moves[i, 0], moves[i, 1], spent[i, 0], spent[i, 1])),
    )
    if batch.on_game_end is not None:
        batch.on_game_end(batch.results[i])


def _play_openings(batch: _Batch) -> None:
    """Play each game's opening moves; a game the opening already ends is finished here."""
    for i, s in enumerate(batch.setups):
        batch.histories.append(list(s.opening))
        for action in s.opening:
            batch.game.play(batch.states[i], action)
        if batch.game.is_terminal(batch.states[i]):
            _finish(batch, i)


def _rows_to_move(batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
    """The live games where A is to move and those where B is, fixed for one round."""
    live = np.flatnonzero(~batch.done)
    to_play = np.array([batch.game.to_play(batch.states[i]) for i in live], dtype=np.int64)
    a_to_move = to_play == batch.a_seat[live]
    return live[a_to_move], live[~a_to_move]


def _play_turn(
    batch: _Batch,
    player: Player,
    side: int,
    rows: np.ndarray,
    legal_mask_of: Callable[[Any, Any], np.ndarray],
) -> None:
    """One call to `player` for every game in `rows`, then each chosen move checked and made."""
    states, histories = batch.states, batch.histories
    actions, info = player.act(states[rows], [histories[i] for i in rows], rows)
    batch.moves[rows, side] += 1
    if info is not None and info.evaluations is not None:
        batch.spent[rows, side] += np.asarray(info.evaluations, dtype=np.int64)
    for k, i in enumerate(rows):
        action = int(actions[k])
        state = states[i]
        if not (0 <= action < batch.game.num_actions and legal_mask_of(batch.game, state)[action]):
            raise RuntimeError(
                f"player {player.spec!r} chose illegal action {action} in game "
                f"{batch.setups[i].index} after moves {histories[i]}"
            )
        if batch.record or batch.on_move is not None:
            _report_move(batch, player, info, k, i, state, action)
        batch.game.play(state, action)
        histories[i].append(action)
        if batch.game.is_terminal(state):
            _finish(batch, i)


def _report_move(
    batch: _Batch,
    player: Player,
    info: MoveInfo | None,
    k: int,
    i: int,
    state: Any,
    action: int,
) -> None:
    """Before move `action` is made in game `i`: its statistics into the record, and the event
    to `on_move`; `k` is the game's row in the player's batch."""
    game = batch.game
    top = top_moves(game, info, k, state, TOP_MOVES, action) if info else []
    value = float(info.root_value[k]) if info is not None and info.root_value is not None else None
    mover = int(game.to_play(state))
    if batch.record:
        entry = _stats_entry(batch.histories[i], player, info, k, top, value)
        batch.stats[i].append(entry)  # type: ignore[union-attr]
    if batch.on_move is not None:
        text = game.action_to_string(action, state)
        before = game.clone(state)
        batch.on_move(
            MoveEvent(
                i, len(batch.histories[i]), player.spec, mover, action, text, before, top, value
            )
        )


def _stats_entry(
    history: list[int],
    player: Player,
    info: MoveInfo | None,
    k: int,
    top: list[dict],
    value: float | None,
) -> dict[str, Any]:
    """A recorded move's statistics: who moved at which ply, its top moves and root value."""
    entry: dict[str, Any] = {"ply": len(history), "player": player.spec}
    if top:
        entry["top"] = top
    if info is not None and info.visits is not None:
        # The whole search, so shares stay right when `top` is cut short.
        entry["visits_total"] = int(np.asarray(info.visits[k]).sum())
    if value is not None:
        entry["value"] = round(value, 4)
    return entry


@dataclass
class MatchResult:
    """Every game of A against B, with statistics from A's view."""

    game: str
    player_a: str
    player_b: str
    seed: int
    openings: str
    games: list[GameResult]
    planned_games: int
    sprt: SprtState | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def wins(self) -> int:
        return sum(1 for g in self.games if g.score_a == 1.0)

    @property
    def draws(self) -> int:
        return sum(1 for g in self.games if g.score_a == 0.5)

    @property
    def losses(self) -> int:
        return sum(1 for g in self.games if g.score_a == 0.0)

    @property
    def num_games(self) -> int:
        return len(self.games)

    @property
    def score(self) -> float:
        """A's mean points per game (0.5 when no game was played)."""
        return sum(g.score_a for g in self.games) / len(self.games) if self.games else 0.5

    @property
    def pentanomial(self) -> list[int]:
        """Complete pairs by A's points in the pair: [0, 1/2, 1, 3/2, 2]."""
        points: dict[int, float] = {}
        sizes: dict[int, int] = {}
        for g in self.games:
            points[g.pair] = points.get(g.pair, 0.0) + g.score_a
            sizes[g.pair] = sizes.get(g.pair, 0) + 1
        counts = [0] * 5
        for pair, total in points.items():
            if sizes[pair] == 2:
                counts[round(2 * total)] += 1
        return counts

    @property
    def estimate(self) -> ScoreEstimate:
        """Pair-based (pentanomial) when every game is in a complete pair, else per game."""
        penta = self.pentanomial
        if 2 * sum(penta) == len(self.games):
            return pentanomial_estimate(penta)
        return trinomial_estimate(self.wins, self.draws, self.losses)

    @property
    def elo(self) -> float:
        return elo_from_score(self.score)

    @property
    def elo_ci(self) -> tuple[float, float]:
        return self.estimate.elo_interval()

    @property
    def los(self) -> float:
        return self.estimate.los

    def to_dict(self, with_games: bool = False) -> dict[str, Any]:
        lo, hi = self.elo_ci
        out: dict[str, Any] = {
            "game": self.game,
            "player_a": self.player_a,
            "player_b": self.player_b,
            "games": self.num_games,
            "planned_games": self.planned_games,
            "wins": self.wins,
            "draws": self.draws,
            "losses": self.losses,
            "score": self.score,
            "elo": json_float(self.elo),
            "elo_ci95": [json_float(lo), json_float(hi)],
            "los": self.los,
            "pentanomial": self.pentanomial,
            "seed": self.seed,
            "openings": self.openings,
            "sprt": self.sprt.to_dict() if self.sprt else None,
            **self.extra,
        }
        if with_games:
            out["game_list"] = [
                {
                    "index": g.index,
                    "opening": list(g.opening),
                    "a_first": g.a_first,
                    "result": g.result,
                    "score_a": g.score_a,
                    "plies": len(g.moves),
                    "chunk": g.chunk,
                    "row": g.row,
                    "seed": g.seed,
                }
                for g in self.games
            ]
        return out


def json_float(x: float) -> float | str:
    """JSON has no infinity: a perfect score's Elo is written as "inf" / "-inf"."""
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def match_setups(num_games: int, book: Sequence[Opening]) -> list[GameSetup]:
    """Game 2k and 2k+1 share opening k (cycling through the book) with colours swapped."""
    return [
        GameSetup(index=i, opening=book[(i // 2) % len(book)], a_first=(i % 2 == 0))
        for i in range(num_games)
    ]


def chunk_setups(setups: Sequence[GameSetup], batch_games: int) -> list[list[GameSetup]]:
    size = max(2, batch_games - batch_games % 2)  # keep pairs inside one chunk
    return [list(setups[i : i + size]) for i in range(0, len(setups), size)]


def resolve_game(game: Any) -> Any:
    if isinstance(game, str):
        from ponder.envs.registry import get_game

        return get_game(game)
    return game


def play_match(
    game: Any,
    player_a: str | Player,
    player_b: str | Player,
    num_games: int,
    seed: int = 0,
    workers: int = 0,
    openings: Any = "auto",
    record: Any = None,
    progress: bool = False,
    sprt: SprtConfig | None = None,
    batch_games: int = DEFAULT_BATCH_GAMES,
) -> MatchResult:
    """Play A against B: `num_games` games in colour-swapped pairs (the maximum, with `sprt`).

    `game` is a game name or object; players are spec strings (see `ponder.arena.specs`) or
    Player objects. `workers` > 0 plays chunks of `batch_games` games on that many Ray workers.
    `record`: None keeps moves only; True also keeps each move's search statistics; a path
    additionally writes the games there as JSON lines. `progress` shows a progress bar.
    """
    from ponder.arena.parallel import run_chunks
    from ponder.arena.specs import check_player_for_game, make_player

    game = resolve_game(game)
    if num_games < 1:
        raise PonderError(f"the number of games must be positive (got {num_games})")
    if num_games > MAX_GAMES:
        raise PonderError(f"{num_games:,} games is over the limit of {MAX_GAMES:,} per match")
    check_seed(seed)
    if sprt is not None:
        check_sprt(sprt)
    a = make_player(player_a, game)
    b = make_player(player_b, game)
    if a is b:
        raise PonderError("a match needs two player objects; pass the spec string twice instead")
    for p in (a, b):
        check_player_for_game(p, game)
    book = opening_book(game, openings, seed)
    setups = match_setups(num_games, book)
    chunks = chunk_setups(setups, batch_games)
    keep_stats = record is not None and record is not False

    games: list[GameResult] = []
    state: SprtState | None = None
    with ProgressBar(progress, f"{a.spec} vs {b.spec}", num_games) as advance:
        for chunk_results in run_chunks(
            game, a, b, player_a, player_b, chunks, seed, workers, keep_stats, advance
        ):
            games.extend(chunk_results)
            if sprt is not None:
                partial = MatchResult(game.name, a.spec, b.spec, seed, "", games, num_games)
                state = sprt_state(
                    sprt, partial.pentanomial, [partial.wins, partial.draws, partial.losses]
                )
                if state.verdict is not None:
                    break
    games.sort(key=lambda g: g.index)
    result = MatchResult(
        game.name, a.spec, b.spec, seed, describe(openings, book), games, num_games, state
    )
    if isinstance(record, str) or hasattr(record, "__fspath__"):
        from ponder.arena.records import write_records

        write_records(record, [result], game)
    return result


class ProgressBar:
    """A rich progress bar (or nothing): `with ProgressBar(on, label, total) as advance`."""

    def __init__(self, enabled: bool, label: str, total: int):
        self.enabled, self.label, self.total = enabled, label, total
        self._progress: Any = None

    def __enter__(self) -> Callable[[int], None]:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        console = Console(stderr=True)
        if not self.enabled or not console.is_terminal:
            return lambda n: None
        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._progress.start()
        task = self._progress.add_task(self.label, total=self.total)
        return lambda n: self._progress.advance(task, n)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
