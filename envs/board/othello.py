"""Othello on 64-bit bitboards: 8x8 exactly as OpenSpiel's "othello", and 6x6 with the same rules.

Rules as OpenSpiel plays them: black (player 0, 'x') moves first from the standard start (white
on d4 and e5 of 8x8, black on e4 and d5; the same four centre cells on 6x6). Cell (row r, column
c) is action `n * r + c`, named column letter + row number ("d3"); action `n * n` is the pass,
legal only, and then the only legal action, when the mover has no capturing move. The game ends
as soon as a move leaves neither player a move (so it never ends on a pass); the player with more
discs wins (+1/-1), equal counts draw.

Cell (r, c) is bit `n * r + c`. Moves and flips are computed for all eight directions with
shifts: each shift is masked so that nothing wraps from one edge column into the other, or off
the n * n board when n < 8.

State row (uint64): black discs, white discs, player to move, done, outcome for player 0 plus
one (the row is unsigned), ply count (passes included), board size. As in `hex`, the size lives
in the row so one compiled set of kernels serves both sizes; only `init`, which must write the
size into a blank row, is built per size.
"""

from __future__ import annotations

import functools

import numpy as np

from ponder.envs.board.base import BoardGame, check_symmetry_tables, square_symmetries
from ponder.envs.jit_cache import njit_cached
from ponder.errors import PonderError

SIZES = (6, 8)
BLACK, WHITE, TO_PLAY, DONE, RESULT, MOVES, SIZE = range(7)
STATE_LEN = 7
NUM_PLANES = 4  # mine, theirs, the mover's legal moves, ones (marks the board under padding)
LETTERS = "abcdefgh"


def _edge_masks(size: int) -> tuple[int, int, int]:
    cells = size * size
    full = (1 << cells) - 1
    first_col = sum(1 << (size * r) for r in range(size))
    last_col = first_col << (size - 1)
    return full, full & ~first_col, full & ~last_col


# MASKS[size] = (every cell, every cell but the first column, every cell but the last column).
MASKS = np.zeros((max(SIZES) + 1, 3), dtype=np.uint64)
for _size in SIZES:
    MASKS[_size] = _edge_masks(_size)

ONE = np.uint64(1)
ZERO = np.uint64(0)


@njit_cached
def _shift(bits, direction, size):
    """Move every disc one step in `direction` (0..7), dropping those that leave the board."""
    not_first = MASKS[size, 1]
    not_last = MASKS[size, 2]
    n = np.uint64(size)
    if direction == 0:  # east: column + 1
        return (bits << ONE) & not_first
    if direction == 1:  # west
        return (bits >> ONE) & not_last
    if direction == 2:  # south: row + 1
        return (bits << n) & MASKS[size, 0]
    if direction == 3:  # north
        return bits >> n
    if direction == 4:  # south-east
        return (bits << (n + ONE)) & not_first
    if direction == 5:  # south-west
        return (bits << (n - ONE)) & not_last
    if direction == 6:  # north-west
        return (bits >> (n + ONE)) & not_last
    return (bits >> (n - ONE)) & not_first  # north-east


@njit_cached
def capturing_moves(own, opp, size):
    """Bitboard of the empty cells where the owner of `own` captures at least one disc."""
    empty = MASKS[size, 0] & ~(own | opp)
    moves = ZERO
    for direction in range(8):
        run = _shift(own, direction, size) & opp
        # A capturable run holds at most size - 2 discs.
        for _ in range(size - 3):
            run |= _shift(run, direction, size) & opp
        moves |= _shift(run, direction, size) & empty
    return moves


@njit_cached
def _flips(own, opp, move_bit, size):
    flips = ZERO
    for direction in range(8):
        line = ZERO
        cell = _shift(move_bit, direction, size)
        while cell & opp:
            line |= cell
            cell = _shift(cell, direction, size)
        if cell & own:
            flips |= line
    return flips


@njit_cached
def popcount(bits):
    count = 0
    while bits:
        bits &= bits - ONE
        count += 1
    return count


@functools.cache
def _make_init(size: int):
    """`init` for one size: the row alone cannot tell 6x6 from 8x8, so the size is frozen in."""
    half = size // 2
    a, b = half - 1, half  # the two centre rows and columns
    white = (1 << (a * size + a)) | (1 << (b * size + b))
    black = (1 << (a * size + b)) | (1 << (b * size + a))

    @njit_cached  # closes over plain ints only, so numba's disk cache hits across processes
    def init(state):
        state[:] = 0
        state[BLACK] = black
        state[WHITE] = white
        state[SIZE] = size

    return init


@njit_cached
def legal_mask(state, out):
    size = np.int64(state[SIZE])
    cells = size * size
    out[:] = False
    if state[DONE] != 0:
        return
    player = np.int64(state[TO_PLAY])
    moves = capturing_moves(state[player], state[1 - player], size)
    if moves == ZERO:
        out[cells] = True
        return
    for a in range(cells):
        out[a] = (moves >> np.uint64(a)) & ONE != ZERO


@njit_cached
def to_play(state):
    return np.int64(state[TO_PLAY])


@njit_cached
def is_terminal(state):
    return state[DONE] != 0


@njit_cached
def outcome(state):
    return float(np.int64(state[RESULT]) - 1)


@njit_cached
def play(state, action):
    size = np.int64(state[SIZE])
    player = np.int64(state[TO_PLAY])
    state[MOVES] += ONE
    state[TO_PLAY] = 1 - player
    if action == size * size:  # pass
        return False, 0.0
    own, opp = state[player], state[1 - player]
    move_bit = ONE << np.uint64(action)
    flips = _flips(own, opp, move_bit, size)
    own |= move_bit | flips
    opp &= ~flips
    state[player], state[1 - player] = own, opp
    if capturing_moves(opp, own, size) == ZERO and capturing_moves(own, opp, size) == ZERO:
        mine, theirs = popcount(own), popcount(opp)
        result = 0 if mine == theirs else (1 if mine > theirs else -1)
        if player == 1:
            result = -result
        state[DONE] = 1
        state[RESULT] = result + 1
        return True, float(result)
    return False, 0.0


@njit_cached
def encode(state, planes):
    size = np.int64(state[SIZE])
    player = np.int64(state[TO_PLAY])
    own, opp = state[player], state[1 - player]
    moves = capturing_moves(own, opp, size) if state[DONE] == 0 else ZERO
    for r in range(size):
        for c in range(size):
            bit = ONE << np.uint64(r * size + c)
            planes[0, r, c] = 1.0 if own & bit else 0.0
            planes[1, r, c] = 1.0 if opp & bit else 0.0
            planes[2, r, c] = 1.0 if moves & bit else 0.0
            planes[3, r, c] = 1.0


def _render(state: np.ndarray) -> str:
    size = int(state[SIZE])
    black, white = int(state[BLACK]), int(state[WHITE])
    letters = " ".join(LETTERS[:size])
    lines = [f"   {letters}"]
    for r in range(size):
        marks = []
        for c in range(size):
            bit = 1 << (r * size + c)
            marks.append("x" if black & bit else "o" if white & bit else ".")
        lines.append(f"{r + 1:>2} {' '.join(marks)} {r + 1}")
    lines.append(f"   {letters}")
    return "\n".join(lines)


def _cells(state: np.ndarray) -> np.ndarray:
    size = int(state[SIZE])
    black, white = int(state[BLACK]), int(state[WHITE])
    out = np.zeros(size * size, dtype=np.int8)
    for i in range(size * size):
        out[i] = 1 if black >> i & 1 else 2 if white >> i & 1 else 0
    return out.reshape(size, size)


def _action_to_string(size: int, action: int) -> str:
    if action == size * size:
        return "pass"
    return f"{LETTERS[action % size]}{action // size + 1}"


def _string_to_action(size: int, text: str) -> int:
    """'d3' (column letter, row number from the top, as OpenSpiel), 'pass', or 0..n*n."""
    text = text.strip().lower()
    cells = size * size
    if text == "pass":
        return cells
    if text.isascii() and text.isdigit() and int(text) <= cells:
        return int(text)
    if len(text) == 2 and text[0] in LETTERS[:size] and text[1].isascii() and text[1].isdigit():
        row = int(text[1]) - 1
        if 0 <= row < size:
            return row * size + LETTERS.index(text[0])
    last = f"{LETTERS[size - 1]}{size}"
    raise ValueError(f"not an othello move on {size}x{size}: {text!r} (use a1..{last} or pass)")


@functools.cache
def make_game(size: int) -> BoardGame:
    """Othello on a size x size board, 6 or 8 (the same object for the same size)."""
    if size not in SIZES:
        raise PonderError(f"othello board size must be one of {SIZES}, got {size}")
    cells = size * size
    # The four symmetries that keep the start position: identity, rot180 and both diagonal
    # reflections (the other four swap the colours of the centre discs). Pass maps to itself.
    cell_perms = square_symmetries(size, "diag")
    passes = np.full((len(cell_perms), 1), cells, dtype=np.int64)
    action_perms = np.concatenate([cell_perms, passes], axis=1)
    check_symmetry_tables(action_perms, cell_perms)
    return BoardGame(
        name="othello" if size == 8 else f"othello_{size}x{size}",
        openspiel_name="othello" if size == 8 else None,
        num_actions=cells + 1,
        state_len=STATE_LEN,
        state_dtype=np.uint64,
        obs_shape=(NUM_PLANES, size, size),
        board_shape=(size, size),
        # Every ply but the first may be a pass only if the next is not: at most 2 (n^2 - 4).
        max_moves=2 * (cells - 4),
        init=_make_init(size),
        legal_mask=legal_mask,
        play=play,
        to_play=to_play,
        is_terminal=is_terminal,
        outcome=outcome,
        encode=encode,
        action_perms=action_perms,
        cell_perms=cell_perms,
        render=_render,
        cells=_cells,
        notation=functools.partial(_action_to_string, size),
        parse_move=functools.partial(_string_to_action, size),
        description=f"{size}x{size} othello: most discs wins; pass only without a capture",
        extras={"size": size},
    )
