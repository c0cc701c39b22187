"""Connect four (7 columns x 6 rows) on 64-bit bitboards.

Bit layout: column `c`, row `r` (row 0 is the bottom) is bit `7 * c + r`; the seventh bit of
each column stays empty as a sentinel, so shifting a whole board by 1 (vertical), 7
(horizontal), 6 or 8 (diagonals) never wraps a line into the next column. This is the layout of
Pascal Pons' solver, and it lets the solver in `ponder.envs.solvers.connect_four` reuse the same
helpers.

State row (int64): the mover's stones, all stones, move count, player to move, done flag,
outcome for player 0. Actions are columns 0..6 as in OpenSpiel. `encode` writes planes with the
top row first, as `render` and OpenSpiel's `observation_string` draw the board (OpenSpiel's
`observation_tensor` stores the bottom row first).
"""

from __future__ import annotations

import numpy as np

from ponder.envs.board.base import BoardGame, check_symmetry_tables
from ponder.envs.jit_cache import njit_cached

WIDTH, HEIGHT = 7, 6
NUM_ACTIONS = WIDTH
NUM_CELLS = WIDTH * HEIGHT
STATE_LEN = 6
CURRENT, MASK, MOVES, TO_PLAY, DONE, OUTCOME = range(STATE_LEN)
OBS_SHAPE = (3, HEIGHT, WIDTH)  # my stones, opponent stones, colour plane (1 when player 0 moves)
COLUMN_LETTERS = "abcdefg"

_H1 = HEIGHT + 1
BOTTOM_MASK = sum(1 << (_H1 * c) for c in range(WIDTH))  # lowest cell of every column
BOARD_MASK = BOTTOM_MASK * ((1 << HEIGHT) - 1)  # every playable cell


@njit_cached
def bottom_mask_col(col):
    return np.int64(1) << (_H1 * col)


@njit_cached
def top_mask_col(col):
    return np.int64(1) << (HEIGHT - 1 + _H1 * col)


@njit_cached
def column_mask(col):
    return np.int64((1 << HEIGHT) - 1) << (_H1 * col)


@njit_cached
def has_four(stones):
    """True when `stones` (one player's bitboard) holds four in a row in any direction."""
    for shift in (1, _H1, HEIGHT, HEIGHT + 2):  # vertical, horizontal, both diagonals
        pairs = stones & (stones >> shift)
        if pairs & (pairs >> (2 * shift)):
            return True
    return False


@njit_cached
def winning_cells(stones, mask):
    """Empty cells (reachable or not) that would complete four for the owner of `stones`."""
    # Vertical: three stones directly below.
    r = (stones << 1) & (stones << 2) & (stones << 3)
    for shift in (_H1, HEIGHT, HEIGHT + 2):  # horizontal, diagonal /, diagonal \
        p = (stones << shift) & (stones << (2 * shift))
        r |= p & (stones << (3 * shift))  # three to the left
        r |= p & (stones >> shift)  # two left, one right
        p = (stones >> shift) & (stones >> (2 * shift))
        r |= p & (stones << shift)  # one left, two right
        r |= p & (stones >> (3 * shift))  # three to the right
    return r & (BOARD_MASK ^ mask)


@njit_cached
def playable_cells(mask):
    """The cell each non-full column would receive next."""
    return (mask + BOTTOM_MASK) & BOARD_MASK


@njit_cached
def can_win_next(state):
    """True when the player to move has an immediately winning column."""
    return (winning_cells(state[CURRENT], state[MASK]) & playable_cells(state[MASK])) != 0


@njit_cached
def is_winning_column(state, col):
    stone = (state[MASK] + bottom_mask_col(col)) & column_mask(col)
    return (winning_cells(state[CURRENT], state[MASK]) & stone) != 0


@njit_cached
def position_key(state):
    """A unique 49-bit key of the position (stones and mover); the solver's table key."""
    return state[CURRENT] + state[MASK]


@njit_cached
def init(state):
    state[:] = 0


@njit_cached
def legal_mask(state, out):
    for col in range(WIDTH):
        out[col] = state[DONE] == 0 and (state[MASK] & top_mask_col(col)) == 0


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
def play(state, action):
    mask = state[MASK]
    stone = (mask + bottom_mask_col(action)) & column_mask(action)
    mine = state[CURRENT] | stone
    player = state[TO_PLAY]
    state[MASK] = mask | stone
    state[CURRENT] = mine ^ state[MASK]  # the next mover's stones
    state[MOVES] += 1
    state[TO_PLAY] = 1 - player
    if has_four(mine):
        state[DONE] = 1
        state[OUTCOME] = 1 if player == 0 else -1
    elif state[MOVES] == NUM_CELLS:
        state[DONE] = 1
    return state[DONE] != 0, float(state[OUTCOME])


@njit_cached
def encode(state, planes):
    mine = state[CURRENT]
    theirs = state[CURRENT] ^ state[MASK]
    colour = 1.0 if state[TO_PLAY] == 0 else 0.0
    for row in range(HEIGHT):
        for col in range(WIDTH):
            bit = np.int64(1) << (_H1 * col + row)
            top_row = HEIGHT - 1 - row
            planes[0, top_row, col] = 1.0 if mine & bit else 0.0
            planes[1, top_row, col] = 1.0 if theirs & bit else 0.0
            planes[2, top_row, col] = colour


def render(state: np.ndarray) -> str:
    """OpenSpiel's picture (top row first, 'x' moves first) with the column letters below."""
    mover_mark = "x" if int(state[TO_PLAY]) == 0 else "o"
    other_mark = "o" if mover_mark == "x" else "x"
    mine, everything = int(state[CURRENT]), int(state[MASK])
    rows = []
    for row in reversed(range(HEIGHT)):
        cells = []
        for col in range(WIDTH):
            bit = 1 << (_H1 * col + row)
            cells.append("." if not everything & bit else mover_mark if mine & bit else other_mark)
        rows.append("".join(cells))
    return "\n".join([*rows, COLUMN_LETTERS])


def cells(state: np.ndarray) -> np.ndarray:
    """Top row first; 1 for the first mover's stones ('x'), 2 for the second's."""
    first_to_move = int(state[TO_PLAY]) == 0
    mine, everything = int(state[CURRENT]), int(state[MASK])
    out = np.zeros((HEIGHT, WIDTH), dtype=np.int8)
    for row in range(HEIGHT):
        for col in range(WIDTH):
            bit = 1 << (_H1 * col + row)
            if everything & bit:
                movers = bool(mine & bit)
                out[HEIGHT - 1 - row, col] = 1 if movers == first_to_move else 2
    return out


def action_to_string(action: int) -> str:
    return COLUMN_LETTERS[action]


def string_to_action(text: str) -> int:
    """A column letter 'a'..'g' or a column number '1'..'7'."""
    text = text.strip().lower()
    if len(text) == 1 and text in COLUMN_LETTERS:
        return COLUMN_LETTERS.index(text)
    if text.isascii() and text.isdigit() and 1 <= int(text) <= WIDTH:
        return int(text) - 1
    raise ValueError(f"not a connect-four move: {text!r} (use a column a..g or 1..7)")


def _mirror_tables() -> tuple[np.ndarray, np.ndarray]:
    cells = np.arange(NUM_CELLS).reshape(HEIGHT, WIDTH)
    cell_perms = np.stack([cells.reshape(-1), cells[:, ::-1].reshape(-1)]).astype(np.int64)
    action_perms = np.stack([np.arange(WIDTH), np.arange(WIDTH)[::-1]]).astype(np.int64)
    return action_perms, cell_perms


_ACTION_PERMS, _CELL_PERMS = _mirror_tables()
check_symmetry_tables(_ACTION_PERMS, _CELL_PERMS)

GAME = BoardGame(
    name="connect_four",
    openspiel_name="connect_four",
    num_actions=NUM_ACTIONS,
    state_len=STATE_LEN,
    state_dtype=np.int64,
    obs_shape=OBS_SHAPE,
    board_shape=(HEIGHT, WIDTH),
    max_moves=NUM_CELLS,
    init=init,
    legal_mask=legal_mask,
    play=play,
    to_play=to_play,
    is_terminal=is_terminal,
    outcome=outcome,
    encode=encode,
    action_perms=_ACTION_PERMS,
    cell_perms=_CELL_PERMS,
    render=render,
    cells=cells,
    layout="columns",
    notation=action_to_string,
    parse_move=string_to_action,
    description="7x6, four in a row, stones drop to the lowest free cell",
    extras={
        "can_win_next": can_win_next,
        "is_winning_column": is_winning_column,
        "position_key": position_key,
        "winning_cells": winning_cells,
        "playable_cells": playable_cells,
        "has_four": has_four,
    },
)
