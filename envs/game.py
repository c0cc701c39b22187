"""The `Game` contract: what search, self-play, the arena and the CLI may ask of a game.

Two kinds satisfy it: the numba-native `BoardGame` (envs/board/base.py; a state is a row of a
NumPy array and every function is jitted) and the `OpenSpielGame` adapter (envs/openspiel.py; a
state is a `pyspiel.State`). Callers use only these names, so no code above envs/ branches on the
kind; search's state backends (search/backends.py) are the one place that picks a fast path.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Game(Protocol):
    """A two-player, zero-sum, perfect-information, deterministic, turn-based game."""

    name: str  # registry name: "connect_four", "hex_7", "openspiel:chess"
    openspiel_name: str | None  # pyspiel.load_game string of the same game, if any
    kind: str  # "native" or "openspiel": read only by search/backends.py
    num_actions: int
    obs_shape: tuple[int, int, int]  # (planes, height, width) that `encode` writes
    board_shape: tuple[int, int]
    max_moves: int  # upper bound on game length in plies
    action_perms: np.ndarray  # symmetry gathers (row 0 is the identity)
    cell_perms: np.ndarray
    layout: str  # how viewers draw the board ("grid", "hex", "columns"; "text": `render`)
    description: str

    @property
    def num_symmetries(self) -> int: ...

    # --- batches of positions ---
    def new_states(self, batch: int) -> Any:
        """`batch` initial positions (a 2-D array of rows, or an object array of states)."""

    def reset_row(self, states: Any, row: int) -> None:
        """Start game `row` of a batch again from the initial position."""

    def batch_with(self, size: int, rows: np.ndarray, states: Any) -> Any:
        """A batch of `size` positions holding `states` at `rows`, initial positions elsewhere."""

    def clone(self, state: Any) -> Any:
        """An independent copy of one position."""

    # --- one position ---
    def legal_mask(self, state: Any, out: np.ndarray) -> None: ...

    def legal_actions(self, state: Any) -> np.ndarray: ...

    def play(self, state: Any, action: int) -> tuple[bool, float]:
        """Apply a legal action in place: (done, final outcome for player 0, else 0.0)."""

    def to_play(self, state: Any) -> int: ...

    def is_terminal(self, state: Any) -> bool: ...

    def outcome(self, state: Any) -> float: ...

    def encode(self, state: Any, planes: np.ndarray) -> None: ...

    def encode_batch(self, states: Any) -> np.ndarray: ...

    def render(self, state: Any) -> str: ...

    # --- notation and the OpenSpiel twin ---
    def action_to_string(self, action: int, state: Any = None) -> str:
        """The move's notation, played from `state` where the notation depends on it."""

    def string_to_action(self, text: str, state: Any = None) -> int:
        """Inverse of `action_to_string`; raises ValueError on text that names no move."""

    def spiel_twin(self) -> Any:
        """The pyspiel game with the same action ids (for OpenSpiel's bots), or None."""
