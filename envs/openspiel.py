"""The generic path: any two-player, zero-sum, perfect-information, deterministic, sequential
OpenSpiel game behind the same field names as a native `BoardGame`.

Both kinds satisfy the `Game` contract (envs/game.py), so search, self-play, the arena and the
CLI call `new_states`, `reset_row`, `batch_with`, `clone`, `legal_mask`, `play`, `to_play`,
`encode`, `action_to_string` ... without asking which kind they hold; only search's state
backends (search/backends.py) do. What differs underneath:
- A state is a `pyspiel.State` object, not a row of a NumPy array, and the functions are plain
  Python (no numba): this path is for breadth, the native games are for speed.
- `init()` takes no argument and returns a new initial state (native: `init(row)` fills a row,
  which is why callers use `reset_row`). `new_states(batch)` returns an object array of states.
- `encode` writes OpenSpiel's observation tensor for the player to move. Many OpenSpiel games
  encode absolute colours (often with a to-play plane) rather than the mover's view.
- Symmetry tables hold only the identity: OpenSpiel does not describe a game's symmetries.
- Players are numbered by move order, as in the native contract (player 0 moves first).
  OpenSpiel's chess family numbers black 0 although white starts; there the ids are swapped,
  and `first_player` holds OpenSpiel's id of the player who starts.
- `outcome` is the sign of player 0's return, so margin-scored variants count as win/draw/loss.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ponder.envs.board.base import OPENSPIEL
from ponder.errors import PonderError


def _observation_shape(shape: list[int], board: tuple[int, int]) -> tuple[int, int, int]:
    """OpenSpiel's tensor shape as (planes, height, width).

    A flat feature vector becomes N planes of a 1x1 board, so a convolutional tower acts on it
    as a per-feature MLP instead of convolving unrelated neighbours. (C, N) becomes C planes of
    the board when N fills it (gomoku: 3 x 225 -> 3 x 15 x 15), else C planes of 1 x N.
    """
    if len(shape) == 1:
        return (shape[0], 1, 1)
    if len(shape) == 2:
        channels, cells = shape
        h, w = board
        if h * w == cells and h > 0:
            return (channels, h, w)
        side = math.isqrt(cells)
        return (channels, side, side) if side * side == cells else (channels, 1, cells)
    if len(shape) == 3:
        return (shape[0], shape[1], shape[2])
    return (math.prod(shape[:-2]), shape[-2], shape[-1])


def _board_shape(params: dict[str, Any], tensor_shape: list[int]) -> tuple[int, int]:
    """Best effort: the spatial part of a 3-D observation, else size parameters, else (0, 0)."""
    if len(tensor_shape) == 3:
        return (tensor_shape[1], tensor_shape[2])
    for rows_key, cols_key in (("rows", "columns"), ("num_rows", "num_cols")):
        if isinstance(params.get(rows_key), int) and isinstance(params.get(cols_key), int):
            return (params[rows_key], params[cols_key])
    for key in ("board_size", "size"):
        if isinstance(params.get(key), int):
            return (params[key], params[key])
    return (0, 0)


def _check_game_type(spec: str, game: Any) -> None:
    import pyspiel

    kind = game.get_type()
    problems = [
        (game.num_players() != 2, f"has {game.num_players()} players (ponder needs 2)"),
        (kind.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL, "is not turn-based"),
        (
            kind.information != pyspiel.GameType.Information.PERFECT_INFORMATION,
            "has imperfect information",
        ),
        (
            kind.chance_mode != pyspiel.GameType.ChanceMode.DETERMINISTIC,
            "has chance events (dice, shuffles)",
        ),
        (kind.utility != pyspiel.GameType.Utility.ZERO_SUM, "is not zero-sum"),
        (not kind.provides_observation_tensor, "provides no observation tensor"),
    ]
    for failed, why in problems:
        if failed:
            raise PonderError(
                f"OpenSpiel game {spec} {why}; ponder plays two-player, zero-sum, "
                "perfect-information, deterministic, turn-based games"
            )


@dataclass(frozen=True, eq=False)
class OpenSpielGame:
    """One OpenSpiel game (with its parameters) behind the `BoardGame` field names."""

    name: str  # "openspiel:<spec>"
    openspiel_name: str  # the pyspiel.load_game string
    spiel_game: Any  # pyspiel.Game, for OpenSpiel's own bots
    num_actions: int
    obs_shape: tuple[int, int, int]
    board_shape: tuple[int, int]
    max_moves: int
    first_player: int  # OpenSpiel's id of the player who moves first (chess: 1, white)
    action_perms: np.ndarray
    cell_perms: np.ndarray
    kind: str = OPENSPIEL
    description: str = ""
    state_len: int = 0  # states are pyspiel.State objects, not rows
    state_dtype: Any = object
    extras: dict[str, Any] = field(default_factory=dict)
    # OpenSpiel does not say how to draw its boards: viewers show `render`'s text instead.
    cells: Any = None
    layout: str = "text"

    @property
    def num_symmetries(self) -> int:
        return 1

    # --- the game contract over pyspiel.State objects ---
    def init(self) -> Any:
        """A new initial state (native games fill a given row instead)."""
        return self.spiel_game.new_initial_state()

    def clone(self, state: Any) -> Any:
        return state.clone()

    def legal_mask(self, state: Any, out: np.ndarray) -> None:
        out[:] = False
        out[state.legal_actions()] = True

    def play(self, state: Any, action: int) -> tuple[bool, float]:
        """Apply a legal action in place; returns (done, outcome for the first mover)."""
        state.apply_action(int(action))
        if state.is_terminal():
            return True, self.outcome(state)
        return False, 0.0

    def to_play(self, state: Any) -> int:
        return int(state.current_player()) ^ self.first_player

    def is_terminal(self, state: Any) -> bool:
        return bool(state.is_terminal())

    def outcome(self, state: Any) -> float:
        if not state.is_terminal():
            return 0.0
        return float(np.sign(state.returns()[self.first_player]))

    def encode(self, state: Any, planes: np.ndarray) -> None:
        # A finished game has no player to move; player 0's view keeps the shape valid.
        player = 0 if state.is_terminal() else state.current_player()
        tensor = np.asarray(state.observation_tensor(player), dtype=np.float32)
        planes[...] = tensor.reshape(self.obs_shape)

    def render(self, state: Any) -> str:
        return str(state)

    def action_to_string(self, action: int, state: Any = None) -> str:
        """OpenSpiel's notation for `action` played from `state` (default: the initial
        position). Chess-like notations depend on the position, so an action that is not legal
        there is shown as its id rather than asking OpenSpiel to describe an impossible move."""
        state = self.init() if state is None else state
        if state.is_terminal() or int(action) not in state.legal_actions():
            return f"#{int(action)}"
        return state.action_to_string(state.current_player(), int(action))

    def string_to_action(self, text: str, state: Any = None) -> int:
        """Inverse of `action_to_string` in `state` (default: the initial position); also
        accepts an action id. Raises ValueError on text that names no action."""
        text = text.strip()
        digits = text.lstrip("#")
        if digits.isascii() and digits.isdigit() and int(digits) < self.num_actions:
            return int(digits)
        state = self.init() if state is None else state
        if not state.is_terminal():
            player = state.current_player()
            for action in state.legal_actions():
                if state.action_to_string(player, action) == text:
                    return action
        try:
            return int(state.string_to_action(text))
        except Exception as exc:  # pyspiel.SpielError: OpenSpiel could not parse it
            raise ValueError(f"not a move of {self.openspiel_name}: {text!r}") from exc

    # --- batch helpers of the `Game` contract ---
    def new_states(self, batch: int) -> np.ndarray:
        states = np.empty(batch, dtype=object)
        for i in range(batch):
            states[i] = self.init()
        return states

    def reset_row(self, states: Any, row: int) -> None:
        states[row] = self.init()

    def batch_with(self, size: int, rows: np.ndarray, states: Any) -> np.ndarray:
        full = self.new_states(size)
        for state, row in zip(states, rows, strict=True):
            full[row] = state
        return full

    def spiel_twin(self) -> Any:
        return self.spiel_game

    def legal_actions(self, state: Any) -> np.ndarray:
        return np.asarray(state.legal_actions(), dtype=np.int64)

    def encode_batch(self, states: Any) -> np.ndarray:
        planes = np.zeros((len(states), *self.obs_shape), dtype=np.float32)
        for i, state in enumerate(states):
            self.encode(state, planes[i])
        return planes


def _load(spec: str) -> Any:
    import pyspiel

    short_name = spec.split("(", 1)[0].strip()
    # Checked first because OpenSpiel's own message lists every registered game.
    if short_name not in pyspiel.registered_names():
        raise PonderError(
            f"unknown OpenSpiel game {short_name!r} in {spec!r} "
            "(python -c 'import pyspiel; print(pyspiel.registered_names())' lists them)"
        )
    try:
        with _quiet_stderr():
            return pyspiel.load_game(spec)
    except pyspiel.SpielError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "cannot load"
        raise PonderError(f"bad OpenSpiel game string {spec!r}: {first_line}") from None


@contextlib.contextmanager
def _quiet_stderr() -> Any:
    """OpenSpiel's C++ prints `OpenSpiel exception: ...` to file descriptor 2 before raising
    the same text as SpielError; the user should see it once, as ponder's one line."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (an embedding host): leave it be
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@functools.cache
def make_game(spec: str) -> OpenSpielGame:
    """The adapter for `pyspiel.load_game(spec)`, e.g. "go(board_size=9)"; cached per spec.
    Games outside two-player, zero-sum, perfect information, deterministic and turn-based are
    refused with a PonderError that says which property is missing."""
    spec = spec.strip()
    if not spec:
        raise PonderError("empty OpenSpiel game string; e.g. openspiel:breakthrough")
    game = _load(spec)
    _check_game_type(spec, game)
    tensor_shape = list(game.observation_tensor_shape())
    board = _board_shape(game.get_parameters(), tensor_shape)
    obs_shape = _observation_shape(tensor_shape, board)
    num_actions = game.num_distinct_actions()
    return OpenSpielGame(
        name=f"openspiel:{spec}",
        openspiel_name=spec,
        spiel_game=game,
        num_actions=num_actions,
        obs_shape=obs_shape,
        board_shape=board,
        max_moves=game.max_game_length(),
        first_player=int(game.new_initial_state().current_player()),
        action_perms=np.arange(num_actions, dtype=np.int64)[None, :],
        cell_perms=np.arange(obs_shape[1] * obs_shape[2], dtype=np.int64)[None, :],
        description=game.get_type().long_name,
    )
