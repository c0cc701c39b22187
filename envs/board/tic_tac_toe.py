"""Tic-tac-toe: the smallest game of the contract, and the reference layout for the others.

State row (int8): cells 0-8 (0 empty, 1 = player 0 'x', 2 = player 1 'o'), then to-play, done,
outcome for player 0, and the move count. Actions are cells `3 * row + col`, as in OpenSpiel.
"""

from __future__ import annotations

import numpy as np

from ponder.envs.board.base import BoardGame, check_symmetry_tables, square_symmetries
from ponder.envs.jit_cache import njit_cached

NUM_ACTIONS = 9
TO_PLAY, DONE, OUTCOME, MOVES = 9, 10, 11, 12
STATE_LEN = 13
OBS_SHAPE = (3, 3, 3)  # my marks, opponent marks, colour plane (1 when player 0 moves)
LINES = np.array(
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]],
    dtype=np.int64,
)


@njit_cached
def init(state):
    state[:] = 0


@njit_cached
def legal_mask(state, out):
    for a in range(NUM_ACTIONS):
        out[a] = state[DONE] == 0 and state[a] == 0


@njit_cached
def to_play(state):
    return int(state[TO_PLAY])


@njit_cached
def is_terminal(state):
    return state[DONE] != 0


@njit_cached
def outcome(state):
    return float(state[OUTCOME])


@njit_cached
def _wins(state, mark, action):
    for line in range(LINES.shape[0]):
        a, b, c = LINES[line, 0], LINES[line, 1], LINES[line, 2]
        if (a == action or b == action or c == action) and (
            state[a] == mark and state[b] == mark and state[c] == mark
        ):
            return True
    return False


@njit_cached
def play(state, action):
    player = state[TO_PLAY]
    state[action] = player + 1
    state[MOVES] += 1
    state[TO_PLAY] = 1 - player
    if _wins(state, player + 1, action):
        state[DONE] = 1
        state[OUTCOME] = 1 if player == 0 else -1
    elif state[MOVES] == NUM_ACTIONS:
        state[DONE] = 1
    return state[DONE] != 0, float(state[OUTCOME])


@njit_cached
def encode(state, planes):
    me = state[TO_PLAY] + 1
    colour = 1.0 if state[TO_PLAY] == 0 else 0.0
    for cell in range(NUM_ACTIONS):
        r, c = cell // 3, cell % 3
        v = state[cell]
        planes[0, r, c] = 1.0 if v == me else 0.0
        planes[1, r, c] = 1.0 if (v != 0 and v != me) else 0.0
        planes[2, r, c] = colour


def render(state: np.ndarray) -> str:
    marks = {0: ".", 1: "x", 2: "o"}
    rows = [" ".join(marks[int(state[3 * r + c])] for c in range(3)) for r in range(3)]
    return "\n".join(rows)


def cells(state: np.ndarray) -> np.ndarray:
    return np.asarray(state[:NUM_ACTIONS], dtype=np.int8).reshape(3, 3)


def action_to_string(action: int) -> str:
    return f"{'abc'[action % 3]}{action // 3 + 1}"


def string_to_action(text: str) -> int:
    """'b2' (column letter, row number from the top) or a cell number 0-8."""
    text = text.strip().lower()
    if text.isascii() and text.isdigit() and 0 <= int(text) < NUM_ACTIONS:
        return int(text)
    if len(text) == 2 and text[0] in "abc" and text[1] in "123":
        return 3 * (int(text[1]) - 1) + "abc".index(text[0])
    raise ValueError(f"not a tic-tac-toe move: {text!r} (use a1..c3 or 0..8)")


_CELL_PERMS = square_symmetries(3, "d4")
check_symmetry_tables(_CELL_PERMS, _CELL_PERMS)

GAME = BoardGame(
    name="tic_tac_toe",
    openspiel_name="tic_tac_toe",
    num_actions=NUM_ACTIONS,
    state_len=STATE_LEN,
    state_dtype=np.int8,
    obs_shape=OBS_SHAPE,
    board_shape=(3, 3),
    max_moves=9,
    init=init,
    legal_mask=legal_mask,
    play=play,
    to_play=to_play,
    is_terminal=is_terminal,
    outcome=outcome,
    encode=encode,
    action_perms=_CELL_PERMS,
    cell_perms=_CELL_PERMS,
    render=render,
    cells=cells,
    notation=action_to_string,
    parse_move=string_to_action,
    description="3x3, three in a row",
    placement=True,
)
