"""The Player interface: everything that chooses moves acts on a batch of positions.

Arena matches, `ponder watch`, `ponder play` and training's evaluation all speak `Player`, so a
new kind of player (a checkpoint, UCT, a solver, an OpenSpiel bot, a human) works everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass
class MoveInfo:
    """Per-move search statistics (None where a player has none). Arrays are (batch, actions)."""

    visits: np.ndarray | None = None
    q: np.ndarray | None = None
    prior: np.ndarray | None = None
    root_value: np.ndarray | None = None  # (batch,), from the mover's view
    # (batch,) network evaluations spent on this move: the test-time compute `ponder think`
    # counts (None for players without a network).
    evaluations: np.ndarray | None = None


@runtime_checkable
class Player(Protocol):
    """A move chooser for one game.

    `spec` is the string that names the player on the command line and in results
    (e.g. `uct:1000`, `runs/c4/ckpt_000200@64`). `start` begins a new batch of games; `act`
    gets the current states (rows of the game's state array) of the games where this player is
    to move, with each game's action history from the start (OpenSpiel bots and tree reuse need
    it; `indices` says which games of the batch these are) and returns one legal action each.
    """

    spec: str

    def start(self, game: Any, num_games: int, seed: int) -> None: ...

    def act(
        self, states: np.ndarray, histories: Sequence[Sequence[int]], indices: np.ndarray
    ) -> tuple[np.ndarray, MoveInfo | None]: ...
