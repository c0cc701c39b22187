"""Exact tic-tac-toe: minimax over every reachable position, tabulated once.

A position is indexed by its base-3 code (cell `i` contributes `mark * 3**i`, mark 0 empty,
1 'x', 2 'o'); the mover follows from the counts, so the code alone identifies the position.
The table holds the minimax value for the player to move, and `UNREACHED` for codes that no
legal game reaches. Building it is a few thousand nodes of jitted recursion, so it is done on
first use and then every `solve` is a handful of lookups.
"""

from __future__ import annotations

import functools

import numpy as np

from ponder.envs.board import tic_tac_toe as ttt
from ponder.envs.jit_cache import njit_cached
from ponder.envs.solvers import SolverResult

NUM_CODES = 3**9
UNREACHED = np.int8(-128)
POWERS = 3 ** np.arange(9, dtype=np.int64)


@njit_cached
def board_code(state):
    code = 0
    for cell in range(9):
        code += np.int64(state[cell]) * POWERS[cell]
    return code


@njit_cached
def _fill(state, table):
    """Minimax value for the mover of `state`; memoised in `table` by board code."""
    code = board_code(state)
    if table[code] != UNREACHED:
        return table[code]
    best = -1
    if state[ttt.DONE] != 0:
        # The previous mover either completed a line (the mover lost) or filled the board.
        best = 0 if state[ttt.OUTCOME] == 0 else -1
    else:
        child = state.copy()
        for action in range(9):
            if state[action] == 0:
                child[:] = state
                ttt.play(child, action)
                value = -_fill(child, table)
                if value > best:
                    best = value
    table[code] = best
    return best


@functools.cache
def value_table() -> np.ndarray:
    """int8[3**9]: value for the mover of every reachable position, `UNREACHED` elsewhere."""
    table = np.full(NUM_CODES, UNREACHED, dtype=np.int8)
    state = np.zeros(ttt.STATE_LEN, dtype=np.int8)
    _fill(state, table)
    table.flags.writeable = False
    return table


def solve(state: np.ndarray) -> SolverResult:
    """Value for the mover and every action that keeps it (empty for a finished game)."""
    table = value_table()
    value = int(table[board_code(state)])
    if value == UNREACHED:
        raise ValueError("not a position reachable in tic-tac-toe")
    if ttt.is_terminal(state):
        return SolverResult(value=value, best_actions=np.zeros(0, dtype=np.int64))
    best = []
    child = state.copy()
    for action in range(ttt.NUM_ACTIONS):
        if state[action] == 0:
            child[:] = state
            ttt.play(child, action)
            if -int(table[board_code(child)]) == value:
                best.append(action)
    return SolverResult(value=value, best_actions=np.array(best, dtype=np.int64))
