"""Gomoku (freestyle) on 15x15, exactly as OpenSpiel's "gomoku" with its default parameters.

OpenSpiel's rules: black (player 0) moves first; a move that makes five or more in a row
(horizontally, vertically or diagonally; overlines count) wins at once; a full board without
such a line is a draw. No opening restrictions, no swap. Cell (row r, column c) is action
`15 * r + c`, named "r,c" as OpenSpiel names it.

Only the line through the last stone can be new, so `play` counts along four directions from
it. State row (int16, since the ply count reaches 225): the 225 cells (0 empty, 1 black,
2 white), then player to move, done, outcome for player 0 and the ply count.
"""

from __future__ import annotations

import numpy as np

from ponder.envs.board.base import BoardGame, check_symmetry_tables, square_symmetries
from ponder.envs.jit_cache import njit_cached

SIZE = 15
CONNECT = 5
NUM_CELLS = SIZE * SIZE
NUM_ACTIONS = NUM_CELLS
TO_PLAY, DONE, OUTCOME, MOVES = range(NUM_CELLS, NUM_CELLS + 4)
STATE_LEN = NUM_CELLS + 4
OBS_SHAPE = (3, SIZE, SIZE)  # mine, theirs, ones (marks the board under padding)

# Line directions (row, column): horizontal, vertical, both diagonals; each walked both ways.
LINE_DR = np.array([0, 1, 1, 1], dtype=np.int64)
LINE_DC = np.array([1, 0, 1, -1], dtype=np.int64)


@njit_cached
def init(state):
    state[:] = 0


@njit_cached
def legal_mask(state, out):
    done = state[DONE] != 0
    for a in range(NUM_ACTIONS):
        out[a] = not done and state[a] == 0


@njit_cached
def to_play(state):
    return np.int64(state[TO_PLAY])


@njit_cached
def is_terminal(state):
    return state[DONE] != 0


@njit_cached
def outcome(state):
    return float(state[OUTCOME])


@njit_cached
def makes_line(state, action):
    """True when the stone on `action` lies in a run of at least CONNECT stones of its colour."""
    colour = state[action]
    row, col = action // SIZE, action % SIZE
    for k in range(4):
        dr, dc = LINE_DR[k], LINE_DC[k]
        run = 1
        for sign in (1, -1):
            r, c = row + sign * dr, col + sign * dc
            while run < CONNECT and 0 <= r < SIZE and 0 <= c < SIZE:
                if state[r * SIZE + c] != colour:
                    break
                run += 1
                r += sign * dr
                c += sign * dc
        if run >= CONNECT:
            return True
    return False


@njit_cached
def play(state, action):
    player = np.int64(state[TO_PLAY])
    state[action] = player + 1
    state[MOVES] += 1
    state[TO_PLAY] = 1 - player
    if makes_line(state, action):
        state[DONE] = 1
        state[OUTCOME] = 1 if player == 0 else -1
    elif state[MOVES] == NUM_CELLS:
        state[DONE] = 1
    return state[DONE] != 0, float(state[OUTCOME])


@njit_cached
def encode(state, planes):
    mine = state[TO_PLAY] + 1
    for r in range(SIZE):
        for c in range(SIZE):
            v = state[r * SIZE + c]
            planes[0, r, c] = 1.0 if v == mine else 0.0
            planes[1, r, c] = 1.0 if (v != 0 and v != mine) else 0.0
            planes[2, r, c] = 1.0


def render(state: np.ndarray) -> str:
    """The board with row and column numbers from 0, matching the "row,col" move names."""
    marks = {0: ".", 1: "x", 2: "o"}
    lines = ["  " + "".join(f"{c:>3}" for c in range(SIZE))]
    for r in range(SIZE):
        row = "".join(f"{marks[int(state[r * SIZE + c])]:>3}" for c in range(SIZE))
        lines.append(f"{r:>2}{row}")
    return "\n".join(lines)


def cells(state: np.ndarray) -> np.ndarray:
    return np.asarray(state[:NUM_CELLS], dtype=np.int8).reshape(SIZE, SIZE)


def action_to_string(action: int) -> str:
    return f"{action // SIZE},{action % SIZE}"


def string_to_action(text: str) -> int:
    """'7,7' (row, column from 0, as OpenSpiel names moves) or a cell number 0..224."""
    text = text.strip()
    parts = text.split(",")
    try:
        if len(parts) == 1 and 0 <= int(parts[0]) < NUM_CELLS:
            return int(parts[0])
        if len(parts) == 2:
            row, col = int(parts[0]), int(parts[1])
            if 0 <= row < SIZE and 0 <= col < SIZE:
                return row * SIZE + col
    except ValueError:
        pass
    raise ValueError(f"not a gomoku move: {text!r} (use row,col from 0,0 to 14,14 or 0..224)")


_PERMS = square_symmetries(SIZE, "d4")
check_symmetry_tables(_PERMS, _PERMS)

GAME = BoardGame(
    name="gomoku",
    openspiel_name="gomoku",
    num_actions=NUM_ACTIONS,
    state_len=STATE_LEN,
    state_dtype=np.int16,
    obs_shape=OBS_SHAPE,
    board_shape=(SIZE, SIZE),
    max_moves=NUM_CELLS,
    init=init,
    legal_mask=legal_mask,
    play=play,
    to_play=to_play,
    is_terminal=is_terminal,
    outcome=outcome,
    encode=encode,
    action_perms=_PERMS,
    cell_perms=_PERMS,
    render=render,
    cells=cells,
    notation=action_to_string,
    parse_move=string_to_action,
    description="15x15 freestyle gomoku: five or more in a row wins",
    placement=True,
)
