"""The board-game contract shared by every numba-native game (see DESIGN.md, "Board game").

A game is a set of jitted functions over one fixed-length state row, so a batch of games is a
2-D array and no Python object exists per position. `BoardGame` bundles those functions with the
game's constants; search, self-play and the arena receive a `BoardGame` and call its functions
from inside their own jitted kernels (numba specialises a kernel per game).

Conventions every game follows:
- Players are 0 and 1; player 0 moves first. Action ids equal OpenSpiel's for the same game.
- `play(state, action) -> (done, outcome)`: applies a legal action in place; `outcome` is the
  final result for player 0 (+1 win, 0 draw, -1 loss) and 0.0 while the game goes on.
- `outcome(state)` returns the same value for a finished game; `to_play(state)` is the player to
  move (for a finished game: whoever would be next, unused).
- `encode(state, planes)` writes float32 planes of shape `obs_shape` from the mover's view.
- Viewers (HTML replays, the live terminal board) draw a position from `cells(state)`: an
  int8 (height, width) array, top row first, 0 empty, 1 player 0's stone, 2 player 1's. `layout`
  says how the board is drawn and which cell an action names: "grid" and "hex" (action
  `width * r + c` is cell (r, c); hex draws the rhombus of hexagons, leaning right) or "columns"
  (action c names column c, stones drop). Actions past the cells (othello's pass) name none.
- Symmetries are index gathers: for symmetry s, `new_planes[c].flat[i] = planes[c].flat[
  cell_perms[s, i]]` and `new_policy[a] = policy[action_perms[s, a]]`. Row 0 is the identity.
  The table holds the exact symmetry group of the game under mover-view encoding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NATIVE = "native"
OPENSPIEL = "openspiel"


@dataclass(frozen=True, eq=False)
class BoardGame:
    """Constants and jitted functions of one numba-native game (one size of it)."""

    name: str  # registry name, e.g. "connect_four", "hex_7"
    openspiel_name: str | None  # pyspiel.load_game string of the same game, if OpenSpiel has it
    num_actions: int
    state_len: int
    state_dtype: Any  # numpy dtype of a state row
    obs_shape: tuple[int, int, int]  # (planes, height, width)
    board_shape: tuple[int, int]
    max_moves: int  # upper bound on game length in plies (sizes the search and replay)
    init: Callable  # init(state) -> None
    legal_mask: Callable  # legal_mask(state, out: bool[num_actions]) -> None
    play: Callable  # play(state, action) -> (bool done, float outcome_for_player0)
    to_play: Callable  # to_play(state) -> int
    is_terminal: Callable  # is_terminal(state) -> bool
    outcome: Callable  # outcome(state) -> float for player 0
    encode: Callable  # encode(state, planes: float32[obs_shape]) -> None
    action_perms: np.ndarray  # int64 [num_symmetries, num_actions]
    cell_perms: np.ndarray  # int64 [num_symmetries, height * width]
    render: Callable[[np.ndarray], str]  # Python: a text picture of the position
    notation: Callable[[int], str]  # Python: e.g. "d" or "c3" (see `action_to_string`)
    parse_move: Callable[[str], int]  # Python: inverse, raises ValueError on bad text
    kind: str = NATIVE
    cells: Callable[[np.ndarray], np.ndarray] | None = None  # Python: the board, for viewers
    layout: str = "grid"  # "grid", "hex" or "columns": see the module docstring
    description: str = ""
    # True when a move takes one free action for good and changes no other: the legal actions
    # after a move are those before it, less the one played (hex, tic-tac-toe, gomoku). Random
    # playouts then keep one legal mask per game instead of rebuilding it every move.
    placement: bool = False
    extras: dict[str, Any] = field(default_factory=dict)  # game-specific helpers

    @property
    def num_symmetries(self) -> int:
        return int(self.action_perms.shape[0])

    def new_states(self, batch: int) -> np.ndarray:
        """A batch of initial positions, shape (batch, state_len)."""
        states = np.zeros((batch, self.state_len), dtype=self.state_dtype)
        for row in states:
            self.init(row)
        return states

    # --- the parts of the `Game` contract (envs/game.py) that are plain Python ---
    def reset_row(self, states: np.ndarray, row: int) -> None:
        """Start game `row` of a batch again from the initial position."""
        self.init(states[row])

    def batch_with(self, size: int, rows: np.ndarray, states: np.ndarray) -> np.ndarray:
        """A batch of `size` positions holding `states` at `rows`, initial positions elsewhere."""
        full = self.new_states(size)
        full[rows] = states
        return full

    def clone(self, state: np.ndarray) -> np.ndarray:
        return state.copy()

    def action_to_string(self, action: int, state: Any = None) -> str:
        """The move's notation; native notations do not depend on the position."""
        return self.notation(int(action))

    def string_to_action(self, text: str, state: Any = None) -> int:
        """Inverse of `action_to_string`; raises ValueError on text that names no move."""
        return int(self.parse_move(text))

    def spiel_twin(self) -> Any:
        """The pyspiel game with the same action ids, or None where OpenSpiel has none."""
        if not self.openspiel_name:
            return None
        import pyspiel

        return pyspiel.load_game(self.openspiel_name)

    def legal_actions(self, state: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.num_actions, dtype=np.bool_)
        self.legal_mask(state, mask)
        return np.flatnonzero(mask)

    def encode_batch(self, states: np.ndarray) -> np.ndarray:
        planes = np.zeros((len(states), *self.obs_shape), dtype=np.float32)
        for i, row in enumerate(states):
            self.encode(row, planes[i])
        return planes


def check_symmetry_tables(action_perms: np.ndarray, cell_perms: np.ndarray) -> None:
    """Each row must be a permutation and row 0 the identity (cheap guard at import time)."""
    for table in (action_perms, cell_perms):
        n = table.shape[1]
        assert np.array_equal(table[0], np.arange(n)), "symmetry 0 must be the identity"
        for row in table:
            assert np.array_equal(np.sort(row), np.arange(n)), "symmetry rows must be permutations"


def square_symmetries(size: int, which: str = "d4") -> np.ndarray:
    """Cell gathers of a size x size board: 'd4' (8), 'rot180' (2), 'diag' (identity, rot180 and
    both diagonal reflections: the 4 that keep othello's start), 'mirror' (left-right, 2)."""
    idx = np.arange(size * size).reshape(size, size)
    maps = {
        "id": idx,
        "rot90": np.rot90(idx, 1),
        "rot180": np.rot90(idx, 2),
        "rot270": np.rot90(idx, 3),
        "flip_lr": idx[:, ::-1],
        "flip_ud": idx[::-1, :],
        "transpose": idx.T,
        "anti_transpose": np.rot90(idx, 2).T,
    }
    names = {
        "d4": [
            "id",
            "rot90",
            "rot180",
            "rot270",
            "flip_lr",
            "flip_ud",
            "transpose",
            "anti_transpose",
        ],
        "rot180": ["id", "rot180"],
        "diag": ["id", "rot180", "transpose", "anti_transpose"],
        "mirror": ["id", "flip_lr"],
    }[which]
    return np.stack([maps[n].reshape(-1) for n in names]).astype(np.int64)
