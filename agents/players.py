"""The players that need no network: random, UCT with rollouts, exact solvers, OpenSpiel's MCTS
bot and a human at the terminal. Each follows `ponder.agents.player.Player` and acts on a batch.

Players are built from spec strings by `ponder.arena.specs.make_player`; construct them here
directly only from code. Every player draws its randomness from the seed given to `start`, so a
match replays exactly from its seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ponder.agents.player import MoveInfo
from ponder.errors import PonderError

QUIT_WORDS = ("quit", "exit", "resign")


class HumanQuit(Exception):  # noqa: N818 (a request to stop, not an error)
    """The human typed `quit` (or closed the input): the game stops, it is not an error."""


def legal_mask_of(game: Any, state: Any) -> np.ndarray:
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    game.legal_mask(state, mask)
    return mask


class RandomPlayer:
    """Uniform over legal moves: the anchor of every rating scale (rated 0)."""

    def __init__(self, spec: str = "random"):
        self.spec = spec
        self._rng = np.random.default_rng(0)
        self._game: Any = None

    def start(self, game: Any, num_games: int, seed: int) -> None:
        self._game = game
        self._rng = np.random.default_rng(seed)

    def act(
        self, states: np.ndarray, histories: Sequence[Sequence[int]], indices: np.ndarray
    ) -> tuple[np.ndarray, MoveInfo | None]:
        actions = np.empty(len(states), dtype=np.int64)
        for k, state in enumerate(states):
            actions[k] = self._rng.choice(np.flatnonzero(legal_mask_of(self._game, state)))
        return actions, None


class UCTPlayer:
    """UCT with random rollouts (`ponder.search.UCTRollout`), all games of a batch searched at
    once: the classic strength ladder (uct:100 < uct:1000 < ...) that needs no training."""

    def __init__(
        self, simulations: int, uct_c: float = 2.0, rollouts: int = 1, spec: str | None = None
    ):
        self.simulations = simulations
        self.uct_c = uct_c
        self.rollouts = rollouts
        self.spec = spec or f"uct:{simulations}"
        self._search: Any = None
        self._buffer: Any = None

    def start(self, game: Any, num_games: int, seed: int) -> None:
        try:
            from ponder.search import UCTRollout
        except ImportError:
            raise PonderError(
                f"player {self.spec!r}: this installation's ponder.search has no UCTRollout"
            ) from None
        self._search = UCTRollout(
            game,
            batch_size=num_games,
            num_simulations=self.simulations,
            uct_c=self.uct_c,
            rollouts=self.rollouts,
            seed=seed,
        )
        # The search runs over the whole batch; rows of games where the opponent is to move
        # (or that are over) are masked off with `active`.
        self._buffer = game.new_states(num_games)

    def act(
        self, states: np.ndarray, histories: Sequence[Sequence[int]], indices: np.ndarray
    ) -> tuple[np.ndarray, MoveInfo | None]:
        self._buffer[indices] = states
        active = np.zeros(len(self._buffer), dtype=np.bool_)
        active[indices] = True
        result = self._search.search(self._buffer, active=active)
        info = MoveInfo(
            visits=np.asarray(result.visits)[indices],
            q=np.asarray(result.q)[indices],
            prior=np.asarray(result.prior)[indices],
            root_value=np.asarray(result.root_value)[indices],
        )
        return np.asarray(result.action, dtype=np.int64)[indices], info


class SolverPlayer:
    """Perfect play from the game's exact solver. Among equally good moves it picks at random
    (`choice="random"`, so matches against it are not one game repeated) or the lowest action
    (`choice="first"`, fully deterministic)."""

    def __init__(self, choice: str = "random", spec: str = "solver"):
        if choice not in ("random", "first"):
            raise PonderError(f"player spec {spec!r}: solver choice must be random or first")
        self.choice = choice
        self.spec = spec
        self._solve: Callable[[np.ndarray], Any] | None = None
        self._rng = np.random.default_rng(0)

    def start(self, game: Any, num_games: int, seed: int) -> None:
        from ponder.envs.solvers import get_solver

        self._solve = get_solver(game.name)
        if self._solve is None:
            raise PonderError(f"player {self.spec!r}: no exact solver for {game.name}")
        self._rng = np.random.default_rng(seed)

    def act(
        self, states: np.ndarray, histories: Sequence[Sequence[int]], indices: np.ndarray
    ) -> tuple[np.ndarray, MoveInfo | None]:
        assert self._solve is not None, "start() first"
        actions = np.empty(len(states), dtype=np.int64)
        values = np.empty(len(states), dtype=np.float32)
        for k, state in enumerate(states):
            result = self._solve(state)
            best = np.asarray(result.best_actions)
            actions[k] = best[0] if self.choice == "first" else self._rng.choice(best)
            values[k] = result.value
        return actions, MoveInfo(root_value=values)


class OpenSpielMCTSPlayer:
    """OpenSpiel's C++ `MCTSBot` with random-rollout evaluation, fed each game's action history.

    It is the outside reference: the same algorithm family as `uct:N`, written by others. Works
    for native games that have an OpenSpiel twin (same action ids) and for `openspiel:*` games.
    """

    def __init__(
        self,
        simulations: int,
        uct_c: float = 2.0,
        rollouts: int = 1,
        solve: bool = False,
        max_memory_mb: int = 1000,
        spec: str | None = None,
    ):
        self.simulations = simulations
        self.uct_c = uct_c
        self.rollouts = rollouts
        self.solve = solve
        self.max_memory_mb = max_memory_mb
        self.spec = spec or f"openspiel:mcts:{simulations}"
        self._bot: Any = None
        self._spiel_game: Any = None
        self._game: Any = None

    def start(self, game: Any, num_games: int, seed: int) -> None:
        import pyspiel

        self._game = game
        self._spiel_game = spiel_twin(game, self.spec)
        seed31 = int(seed) % (2**31 - 1)
        evaluator = pyspiel.RandomRolloutEvaluator(self.rollouts, seed31)
        self._bot = pyspiel.MCTSBot(
            self._spiel_game,
            evaluator,
            self.uct_c,
            self.simulations,
            self.max_memory_mb,
            self.solve,
            seed31,
            False,
        )

    def act(
        self, states: np.ndarray, histories: Sequence[Sequence[int]], indices: np.ndarray
    ) -> tuple[np.ndarray, MoveInfo | None]:
        n, num_actions = len(histories), self._game.num_actions
        actions = np.empty(n, dtype=np.int64)
        visits = np.zeros((n, num_actions), dtype=np.float32)
        q = np.zeros((n, num_actions), dtype=np.float32)
        prior = np.zeros((n, num_actions), dtype=np.float32)
        root_value = np.zeros(n, dtype=np.float32)
        for k, history in enumerate(histories):
            state = self._spiel_game.new_initial_state()
            for action in history:
                state.apply_action(int(action))
            root = self._bot.mcts_search(state)
            actions[k] = root.best_child().action
            for child in root.children:
                visits[k, child.action] = child.explore_count
                prior[k, child.action] = child.prior
                if child.explore_count:
                    # total_reward is from the view of the player who made the move: the mover.
                    q[k, child.action] = child.total_reward / child.explore_count
            total = visits[k].sum()
            root_value[k] = float((visits[k] * q[k]).sum() / total) if total else 0.0
        return actions, MoveInfo(visits=visits, q=q, prior=prior, root_value=root_value)


def spiel_twin(game: Any, spec: str) -> Any:
    """The pyspiel game with the same action ids as `game`, or a one-line error."""
    twin = game.spiel_twin()
    if twin is None:
        raise PonderError(f"player {spec!r}: {game.name} has no OpenSpiel twin")
    return twin


class HumanPlayer:
    """A person at the terminal: shows the board, reads a move in the game's notation, asks
    again on anything illegal or unreadable; `quit` ends the game (raises HumanQuit)."""

    def __init__(
        self,
        spec: str = "human",
        read: Callable[[str], str] = input,
        write: Callable[[str], None] = print,
    ):
        self.spec = spec
        self._read = read
        self._write = write
        self._game: Any = None

    def start(self, game: Any, num_games: int, seed: int) -> None:
        self._game = game

    def act(
        self, states: np.ndarray, histories: Sequence[Sequence[int]], indices: np.ndarray
    ) -> tuple[np.ndarray, MoveInfo | None]:
        actions = np.empty(len(states), dtype=np.int64)
        for k, state in enumerate(states):
            actions[k] = self._ask(state)
        return actions, None

    def _ask(self, state: Any) -> int:
        game = self._game
        legal = np.flatnonzero(legal_mask_of(game, state))
        examples = ", ".join(game.action_to_string(a, state) for a in legal[:8])
        more = ", ..." if len(legal) > 8 else ""
        self._write(game.render(state))
        while True:
            try:
                text = self._read(f"your move ({examples}{more}; or quit): ").strip()
            except EOFError:
                raise HumanQuit from None
            if text.lower() in QUIT_WORDS:
                raise HumanQuit
            if not text:
                continue
            try:
                action = game.string_to_action(text, state)
            except ValueError as exc:
                self._write(f"  {exc}")
                continue
            if not 0 <= action < game.num_actions or action not in legal:
                self._write(f"  {text!r} is not legal here; legal: {examples}{more}")
                continue
            return action
