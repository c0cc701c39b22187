"""Exact (or strong) reference players: the ground truth for measuring strength.

Every solver module exposes `solve(state) -> SolverResult` for a state row of its game; the value
is from the view of the player to move. `get_solver(game_name)` finds the one for a game.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class SolverResult:
    value: int  # +1 the mover wins, 0 draw, -1 the mover loses (with best play by both)
    best_actions: np.ndarray  # every action that keeps `value` (int64, sorted)
    # Optional finer score where the solver has one (connect four: Pascal Pons' score).
    score: int | None = None


_SOLVERS = {
    "tic_tac_toe": "ponder.envs.solvers.tic_tac_toe",
    "connect_four": "ponder.envs.solvers.connect_four",
    **{f"hex_{n}": "ponder.envs.solvers.hex" for n in (3, 4, 5)},
}


# Solvers too slow early in the game to play whole games from the openings in useful time
# (connect four: seconds to minutes per move before ply 8); they still label positions.
SLOW_FROM_OPENINGS = frozenset({"connect_four"})


def get_solver(game_name: str) -> Callable[[np.ndarray], SolverResult] | None:
    """The exact solver's `solve` for `game_name`, or None where the game has none."""
    module = _SOLVERS.get(game_name)
    if module is None:
        return None
    try:
        return importlib.import_module(module).solve
    except ModuleNotFoundError:
        return None
