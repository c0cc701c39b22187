"""Hex on an n x n rhombus (n = 3..11), with OpenSpiel's rules, action ids and move names.

Rules as in `pyspiel.load_game("hex(board_size=n)")`, no swap rule: player 0 ('x') moves first
and joins the top row to the bottom row; player 1 ('o') joins the left column to the right one.
Cell (row r, column c) is action `n * r + c` and is named column letter + row number ("c3").
Its six neighbours are (r, c-1), (r, c+1), (r-1, c), (r-1, c+1), (r+1, c-1), (r+1, c): the rhombus
leans right, as OpenSpiel draws it. A full board always has exactly one winner, so no draws.

Win detection is union-find over the state row: every stone points at a parent stone of its
group, and the group's root holds which of its owner's two goal edges the group touches. Placing a
stone merges it with its (up to six) same-coloured neighbours' groups; the game is won when the
merged group touches both edges. No allocation and no flood fill per move.

State row (int8): size, player to move, done, outcome for player 0, move count, then three
n*n blocks: cell colours (0 empty, 1 'x', 2 'o'), union-find parents, group edge flags. A parent
is a cell index, so int8 caps the board at 11 x 11 (121 cells).

The board size lives in the state row rather than in per-size closures: one compiled (and
disk-cached) set of kernels serves every size, and the size check costs one load.
"""

from __future__ import annotations

import functools

import numpy as np

from ponder.envs.board.base import BoardGame, check_symmetry_tables
from ponder.envs.jit_cache import njit_cached
from ponder.errors import PonderError

MIN_SIZE, MAX_SIZE = 3, 11
SIZE, TO_PLAY, DONE, OUTCOME, MOVES = range(5)
HEADER = 5
NUM_PLANES = 5  # mine, theirs, colour (1 when player 0 moves), my goal edges, their goal edges
FIRST_EDGE, SECOND_EDGE = 1, 2  # top/bottom for player 0, left/right for player 1
BOTH_EDGES = FIRST_EDGE | SECOND_EDGE
LETTERS = "abcdefghijk"

# Neighbour offsets (row, column), in OpenSpiel's order.
NEIGHBOUR_DR = np.array([-1, -1, 0, 1, 1, 0], dtype=np.int64)
NEIGHBOUR_DC = np.array([0, 1, 1, 0, -1, -1], dtype=np.int64)


def state_len(size: int) -> int:
    return HEADER + 3 * size * size


@njit_cached
def board_size(state):
    return np.int64(state[SIZE])


@njit_cached
def init(state):
    # The size follows from the row length (HEADER + 3 n^2), so init needs no argument.
    size = np.int64(np.sqrt((len(state) - HEADER) // 3) + 0.5)
    state[:] = 0
    state[SIZE] = size


@njit_cached
def legal_mask(state, out):
    cells = board_size(state) ** 2
    done = state[DONE] != 0
    for a in range(cells):
        out[a] = not done and state[HEADER + a] == 0


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
def _find(state, parents, cell):
    """Root of `cell`'s group; halves the path on the way (parents live in the state row)."""
    while True:
        parent = np.int64(state[parents + cell])
        if parent == cell:
            return cell
        grandparent = np.int64(state[parents + parent])
        state[parents + cell] = grandparent
        cell = grandparent


@njit_cached
def play(state, action):
    size = board_size(state)
    cells = size * size
    parents, flags = HEADER + cells, HEADER + 2 * cells
    player = np.int64(state[TO_PLAY])
    colour = player + 1
    row, col = action // size, action % size
    along = row if player == 0 else col  # distance across the board toward this player's goal
    edges = 0
    if along == 0:
        edges |= FIRST_EDGE
    if along == size - 1:
        edges |= SECOND_EDGE
    state[HEADER + action] = colour
    state[parents + action] = action
    # The new stone becomes the root of the merged group.
    for k in range(6):
        r, c = row + NEIGHBOUR_DR[k], col + NEIGHBOUR_DC[k]
        if 0 <= r < size and 0 <= c < size:
            other = r * size + c
            if state[HEADER + other] == colour:
                root = _find(state, parents, other)
                if root != action:
                    state[parents + root] = action
                    edges |= state[flags + root]
    state[flags + action] = edges
    state[MOVES] += 1
    state[TO_PLAY] = 1 - player
    if edges == BOTH_EDGES:
        state[DONE] = 1
        state[OUTCOME] = 1 if player == 0 else -1
    return state[DONE] != 0, float(state[OUTCOME])


@njit_cached
def encode(state, planes):
    size = board_size(state)
    mover = np.int64(state[TO_PLAY])
    mine = mover + 1
    colour = 1.0 if mover == 0 else 0.0
    for r in range(size):
        for c in range(size):
            v = state[HEADER + r * size + c]
            on_rows = r == 0 or r == size - 1  # player 0's goal edges
            on_cols = c == 0 or c == size - 1  # player 1's goal edges
            planes[0, r, c] = 1.0 if v == mine else 0.0
            planes[1, r, c] = 1.0 if (v != 0 and v != mine) else 0.0
            planes[2, r, c] = colour
            planes[3, r, c] = 1.0 if (on_rows if mover == 0 else on_cols) else 0.0
            planes[4, r, c] = 1.0 if (on_cols if mover == 0 else on_rows) else 0.0


def _render(state: np.ndarray) -> str:
    size = int(state[SIZE])
    marks = {0: ".", 1: "x", 2: "o"}
    letters = " ".join(LETTERS[:size])
    lines = [f"    {letters}"]
    for r in range(size):
        row = " ".join(marks[int(state[HEADER + r * size + c])] for c in range(size))
        lines.append(f"{r + 1:>2} {' ' * r} {row} {r + 1}")
    lines.append(f"    {' ' * size}{letters}")
    return "\n".join(lines)


def _cells(state: np.ndarray) -> np.ndarray:
    size = int(state[SIZE])
    return np.asarray(state[HEADER : HEADER + size * size], dtype=np.int8).reshape(size, size)


def _action_to_string(size: int, action: int) -> str:
    return f"{LETTERS[action % size]}{action // size + 1}"


def _string_to_action(size: int, text: str) -> int:
    """'c3' (column letter, row number from the top, as OpenSpiel names moves) or 0..n*n-1."""
    text = text.strip().lower()
    cells = size * size
    if text.isascii() and text.isdigit() and int(text) < cells:
        return int(text)
    if len(text) >= 2 and text[0] in LETTERS[:size] and text[1:].isascii() and text[1:].isdigit():
        row = int(text[1:]) - 1
        if 0 <= row < size:
            return row * size + LETTERS.index(text[0])
    last = f"{LETTERS[size - 1]}{size}"
    raise ValueError(
        f"not a hex move on {size}x{size}: {text!r} (use a1..{last} or 0..{cells - 1})"
    )


def _symmetries(size: int) -> np.ndarray:
    """Identity and the 180-degree rotation: the whole group under the mover-view encoding.

    The rhombus has one more automorphism, the transpose (r, c) -> (c, r), but it turns the top
    and bottom edges into the left and right ones, i.e. it swaps which player joins which edges.
    A transposed position is therefore the same position only with the colours swapped, and the
    encoding states the mover's colour and goal edges, so no gather of planes can express it.
    The left-right mirror is not even an automorphism: it breaks the rhombus' neighbourhood.
    """
    cells = np.arange(size * size, dtype=np.int64)
    return np.stack([cells, cells[::-1]])


@functools.cache
def make_game(size: int) -> BoardGame:
    """The hex game of one board size (the same object for the same size)."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise PonderError(f"hex board size must be {MIN_SIZE}..{MAX_SIZE}, got {size}")
    perms = _symmetries(size)
    check_symmetry_tables(perms, perms)
    return BoardGame(
        name=f"hex_{size}",
        openspiel_name=f"hex(board_size={size})",
        num_actions=size * size,
        state_len=state_len(size),
        state_dtype=np.int8,
        obs_shape=(NUM_PLANES, size, size),
        board_shape=(size, size),
        max_moves=size * size,
        init=init,
        legal_mask=legal_mask,
        play=play,
        to_play=to_play,
        is_terminal=is_terminal,
        outcome=outcome,
        encode=encode,
        action_perms=perms,
        cell_perms=perms,
        render=_render,
        cells=_cells,
        layout="hex",
        notation=functools.partial(_action_to_string, size),
        parse_move=functools.partial(_string_to_action, size),
        description=f"{size}x{size} hex: x joins top and bottom, o joins left and right",
        placement=True,
        extras={"size": size},
    )
