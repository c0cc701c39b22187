"""Exact hex for boards up to 4x4: negamax with a transposition table over the numba state.

Hex has no draws, so every position is a win or a loss for the mover and alpha-beta with the
window (-1, 1) collapses to "stop at the first child that wins": a child that is lost for the
opponent gives the mover the maximum value, which is a beta cutoff, and a position is lost only
after every child was searched. That makes every returned value exact, so the transposition
table stores plain win/loss results that stay valid forever; it is kept between calls.

Children are tried centre-first, where hex's winning moves cluster. A position is keyed by its
two stone bitmasks plus the board size (the mover follows from the stone counts). On 4x4 the
empty board takes well under a second; 5x5 is beyond this simple search and refused.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from ponder.envs.board import hex as hex_game
from ponder.envs.solvers import SolverResult
from ponder.errors import PonderError

MAX_SIZE = 4
TABLE_BITS = 22  # direct-mapped; a collision only costs a re-search
EMPTY_KEY = np.int64(-1)
HEADER = hex_game.HEADER


@njit(cache=True)
def position_key(state):
    size = np.int64(state[hex_game.SIZE])
    cells = size * size
    black = np.int64(0)
    white = np.int64(0)
    for i in range(cells):
        v = state[HEADER + i]
        if v == 1:
            black |= np.int64(1) << i
        elif v == 2:
            white |= np.int64(1) << i
    return black | (white << 16) | (size << 32)


@njit(cache=True)
def _slot(key, table_mask):
    # Fibonacci hashing spreads the structured keys over the table.
    return ((key * np.int64(-7046029254386353131)) >> 20) & table_mask


@njit(cache=True)
def _negamax(stack, depth, order, keys, values):
    """+1 when the mover of `stack[depth]` (a live position) wins with best play, else -1."""
    state = stack[depth]
    key = position_key(state)
    slot = _slot(key, len(keys) - 1)
    if keys[slot] == key:
        return np.int64(values[slot])
    child = stack[depth + 1]
    value = -1
    for action in order:
        if state[HEADER + action] != 0:
            continue
        child[:] = state
        done, _ = hex_game.play(child, action)
        if done or _negamax(stack, depth + 1, order, keys, values) < 0:
            value = 1
            break
    keys[slot] = key
    values[slot] = value
    return np.int64(value)


@functools.cache
def _transposition_table() -> tuple[np.ndarray, np.ndarray]:
    keys = np.full(1 << TABLE_BITS, EMPTY_KEY, dtype=np.int64)
    values = np.zeros(1 << TABLE_BITS, dtype=np.int8)
    return keys, values


@functools.cache
def _centre_first(size: int) -> np.ndarray:
    rows, cols = np.divmod(np.arange(size * size), size)
    centre = (size - 1) / 2
    # Hex distance from the centre on the rhombus (axial coordinates).
    dr, dc = rows - centre, cols - centre
    distance = (np.abs(dr) + np.abs(dc) + np.abs(dr + dc)) / 2
    return np.argsort(distance, kind="stable").astype(np.int64)


def _check(state: np.ndarray) -> int:
    if state.dtype != np.int8 or state.ndim != 1 or len(state) < HEADER:
        raise PonderError("the hex solver needs one hex state row (int8)")
    size = int(state[hex_game.SIZE])
    if not hex_game.MIN_SIZE <= size <= hex_game.MAX_SIZE or len(state) != hex_game.state_len(size):
        raise PonderError("the hex solver needs one hex state row (int8)")
    if size > MAX_SIZE:
        raise PonderError(
            f"the exact hex solver handles boards up to {MAX_SIZE}x{MAX_SIZE}; "
            f"hex_{size} is too big to solve"
        )
    return size


def solve(state: np.ndarray) -> SolverResult:
    """Value for the mover (+1 win, -1 loss: hex has no draws) and every move that keeps it."""
    size = _check(state)
    if hex_game.is_terminal(state):
        # The previous mover completed a chain.
        return SolverResult(value=-1, best_actions=np.zeros(0, dtype=np.int64))
    keys, values = _transposition_table()
    order = _centre_first(size)
    stack = np.zeros((size * size + 2, len(state)), dtype=np.int8)
    child_values: dict[int, int] = {}
    for action in hex_game.make_game(size).legal_actions(state):
        stack[1] = state
        done, _ = hex_game.play(stack[1], action)
        child_values[int(action)] = 1 if done else -int(_negamax(stack, 1, order, keys, values))
    value = max(child_values.values())
    best = sorted(a for a, v in child_values.items() if v == value)
    return SolverResult(value=value, best_actions=np.array(best, dtype=np.int64))
