"""Exact hex for boards up to 5x5: negamax over bitboards, with proof sets that prune the losing
side's moves, virtual connections that end lines early, and a transposition table kept between
calls.

Hex has no draws, so every position is a win or a loss for the mover, and alpha-beta with the
window (-1, 1) collapses to "stop at the first child that wins": a position is lost only after
every child that might save it was refuted. Every value the search returns is exact, so the
table stores plain win/loss results that stay valid for as long as the process lives, and each
move of a game starts from what the previous moves proved. What keeps the tree small:

- bitboards: each colour's stones are one int64 (25 cells fit), so a neighbourhood is six
  shifts and a group is a flood fill of a few such steps;
- exact verdicts before any child is searched: a mover with a winning cell wins; one facing two
  winning cells of the opponent loses, and one such cell is the only move worth trying; a side
  whose stones join its edges through bridges and edge bridges with disjoint empty carriers
  has won whoever moves (it answers each intrusion in the other cell of the carrier); a mover
  with a move that leaves two winning cells, or such a virtual join, wins with it;
- proof sets (the "mustplay" of hex solvers): a won position comes with the cells its proof
  depends on, a set S such that the winner still wins if every cell outside S is handed to the
  loser. When the mover's move m loses with the opponent's proof set S, every move outside S
  loses too (an extra stone outside S is one the proof already granted the mover, and having
  the move never hurts in hex), so only moves inside the intersection of the proof sets found
  so far are searched. Each opponent move that would leave it two winning cells narrows the
  candidates the same way before any search. The union of those sets (plus the refuted moves)
  is the proof set of the loss, handed to the parent;
- the two colourings of a position related by the board's 180-degree rotation share a table
  entry; a bucket of two entries keeps the costliest result beside the newest, so the proofs
  near a game's root survive the many small ones below them;
- moves go killer first (the move that last won at the same depth), then next to the
  opponent's last stone, then centre first.

`solve` returns the value and every winning move (each child is proven or refuted, each from
the table where it is already known); `label` does the same for a batch of state rows, as the
value and a boolean mask of optimal moves per row. The cold empty 5x5 board takes tens of
seconds, so 5x5 positions of at most two stones are read from a table the solver computed
(`hex_openings.py`); from three stones on, a cold solve takes about a second at most and a
warm one (later in the same game) milliseconds (`benchmarks/solver_hex.py`). 6x6 and up are
beyond this search and refused.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ponder.envs.board import hex as hex_game
from ponder.envs.jit_cache import njit_cached
from ponder.envs.solvers import SolverResult
from ponder.errors import PonderError

MAX_SIZE = 5
OPENINGS_SIZE = 5  # positions of up to two stones are read from hex_5_openings.json
DEFAULT_TABLE_BITS = 22  # 4M entries of 16 bytes (64 MB): a 5x5 game's proofs stay resident
HEADER = hex_game.HEADER
BOARD_STRIDE = 25  # bits per colour in a table key, whatever the size (3x3 to 5x5)
NO_MOVE = 127
# Slots of the geometry array: one per board size, passed to every kernel.
SIZE, BOARD, TOP, BOTTOM, LEFT, RIGHT, NOT_FIRST_COL, NOT_LAST_COL = range(8)
NODES, LIMIT, ABORTED = range(3)  # slots of the counters array
HASH_MULTIPLIER = np.int64(-7046029254386353131)  # 2**64 / golden ratio, as a signed word
REVERSED_BYTE = np.array([int(f"{b:08b}"[::-1], 2) for b in range(256)], dtype=np.int64)


class SolverBudgetExceededError(RuntimeError):
    """The search visited `max_nodes` positions without settling the value."""


@functools.cache
def geometry(size: int) -> np.ndarray:
    """Bitboard masks of a board size: cell (r, c) is bit size * r + c, as its action id."""
    cells = np.arange(size * size)
    rows, cols = np.divmod(cells, size)

    def mask(selected: np.ndarray) -> int:
        return int(np.sum(np.int64(1) << cells[selected]))

    everything = mask(cells >= 0)
    out = np.zeros(8, dtype=np.int64)
    out[SIZE] = size
    out[BOARD] = everything
    out[TOP], out[BOTTOM] = mask(rows == 0), mask(rows == size - 1)
    out[LEFT], out[RIGHT] = mask(cols == 0), mask(cols == size - 1)
    out[NOT_FIRST_COL] = everything & ~out[LEFT]
    out[NOT_LAST_COL] = everything & ~out[RIGHT]
    return out


@functools.cache
def links(size: int) -> np.ndarray:
    """Per cell, its bridges and edge templates, the two-cell virtual connections:
    columns 0-5 the cells it bridges to (-1 for none), 6-11 each bridge's two shared empty
    neighbours (a bitmask), 12-15 the two cells of the top, bottom, left or right edge it
    reaches through an edge bridge (0 for none)."""
    cells = size * size
    geo = geometry(size)
    neighbours = [_neighbours(np.int64(1) << c, geo) for c in range(cells)]
    out = np.zeros((cells, 16), dtype=np.int64)
    out[:, :6] = -1
    for p in range(cells):
        k = 0
        for q in range(cells):
            shared = int(neighbours[p] & neighbours[q])
            if q != p and not neighbours[p] >> q & 1 and shared.bit_count() == 2:
                out[p, k], out[p, 6 + k] = q, shared
                k += 1
        for e, edge in enumerate((geo[TOP], geo[BOTTOM], geo[LEFT], geo[RIGHT])):
            shared = int(neighbours[p] & edge)
            if not edge >> p & 1 and shared.bit_count() == 2:
                out[p, 12 + e] = shared
    return out


@functools.cache
def centre_first(size: int) -> np.ndarray:
    """Cells by hex distance from the centre (axial coordinates on the rhombus), nearest first;
    ties keep the short diagonal's direction, where small-board winning moves lie."""
    rows, cols = np.divmod(np.arange(size * size), size)
    centre = (size - 1) / 2
    dr, dc = rows - centre, cols - centre
    distance = (np.abs(dr) + np.abs(dc) + np.abs(dr + dc)) / 2
    return np.argsort(distance, kind="stable").astype(np.int64)


@njit_cached(nogil=True)
def _neighbours(stones, geo):
    """Every cell next to a stone of `stones` (the six hex directions, no wrap-around)."""
    n = geo[SIZE]
    not_first, not_last = geo[NOT_FIRST_COL], geo[NOT_LAST_COL]
    out = (
        ((stones << 1) & not_first)  # (r, c + 1)
        | ((stones >> 1) & not_last)  # (r, c - 1)
        | (stones >> n)  # (r - 1, c)
        | (stones << n)  # (r + 1, c)
        | ((stones >> (n - 1)) & not_first)  # (r - 1, c + 1)
        | ((stones << (n - 1)) & not_last)  # (r + 1, c - 1)
    )
    return out & geo[BOARD]


@njit_cached(nogil=True)
def _flood(seed, allowed, geo):
    """The cells of `allowed` connected to `seed & allowed` through `allowed`."""
    grown = seed & allowed
    while True:
        bigger = (grown | _neighbours(grown, geo)) & allowed
        if bigger == grown:
            return grown
        grown = bigger


@njit_cached(nogil=True)
def _winning_cells(stones, empty, first, second, geo):
    """Empty cells that join `first` to `second` when `stones` get them."""
    touch_first = _neighbours(_flood(first, stones, geo), geo) | first
    touch_second = _neighbours(_flood(second, stones, geo), geo) | second
    return empty & touch_first & touch_second


@njit_cached(nogil=True)
def _double_threat(stones, empty, first, second, from_first, from_second, cell, geo):
    """If `stones` taking `cell` leaves two winning cells (the opponent can block only one, and
    cannot win meanwhile: its chain would have to cross both), the cells that threat rests on
    (`cell`, two winning cells and the groups they join); else 0. `from_first`/`from_second`
    are the stones' groups touching each edge."""
    group = _flood(cell, stones | cell, geo)
    if group & first:
        from_first = from_first | group
    if group & second:
        from_second = from_second | group
    wins = (empty ^ cell) & (_neighbours(from_first, geo) | first)
    wins &= _neighbours(from_second, geo) | second
    one = wins & -wins
    rest = wins ^ one
    if rest == 0:
        return np.int64(0)
    other = rest & -rest
    with_cell = stones | cell
    return cell | _flood(one, with_cell | one, geo) | _flood(other, with_cell | other, geo)


@njit_cached(nogil=True)
def _virtual_win(stones, empty, mover, geo, links):
    """Nonzero (the stones and cells it rests on) when `stones` join their two edges through
    adjacent stones, bridges and edge bridges whose carriers are pairwise disjoint and empty:
    the owner wins even moving second, answering any intrusion into a carrier with its other
    cell. Bridges are taken greedily, each marking its carrier used, so some joins are
    missed, never invented."""
    first, second = _edges(mover, geo)
    first_column = 12 + 2 * mover
    used = np.int64(0)
    reached = _flood(first, stones, geo)
    rest = stones & ~reached
    while rest:
        bit = rest & -rest
        rest ^= bit
        cell = _lowest(bit)
        carrier = links[cell, first_column]
        if carrier and (carrier & empty) == carrier and not carrier & used:
            used |= carrier
            reached |= _flood(bit, stones, geo)
            rest &= ~reached
    grown = True
    while grown:
        if reached & second:
            return reached | used
        grown = False
        frontier = reached
        while frontier:
            bit = frontier & -frontier
            frontier ^= bit
            cell = _lowest(bit)
            carrier = links[cell, first_column + 1]
            if carrier and (carrier & empty) == carrier and not carrier & used:
                return reached | used | carrier
            for k in range(6):
                target = links[cell, k]
                if target < 0:
                    break
                if not (stones >> target) & 1 or (reached >> target) & 1:
                    continue
                carrier = links[cell, 6 + k]
                if (carrier & empty) == carrier and not carrier & used:
                    used |= carrier
                    reached |= _flood(np.int64(1) << target, stones, geo)
                    grown = True
    return np.int64(0)


@njit_cached(nogil=True)
def _lowest(bit):
    """The cell index of a one-bit mask."""
    cell = np.int64(0)
    while (bit >> cell) != 1:
        cell += 1
    return cell


@njit_cached(nogil=True)
def _rotate(stones, cells):
    """The 180-degree rotation: cell i goes to cells - 1 - i, i.e. the bit order reversed."""
    reversed32 = (
        (REVERSED_BYTE[stones & 255] << 24)
        | (REVERSED_BYTE[(stones >> 8) & 255] << 16)
        | (REVERSED_BYTE[(stones >> 16) & 255] << 8)
        | REVERSED_BYTE[(stones >> 24) & 255]
    )
    return reversed32 >> (32 - cells)


@njit_cached(nogil=True)
def _edges(mover, geo):
    if mover == 0:
        return geo[TOP], geo[BOTTOM]
    return geo[LEFT], geo[RIGHT]


@njit_cached(nogil=True)
def _won(proof):
    return (proof << 1) | 1


@njit_cached(nogil=True)
def _lost(proof):
    return proof << 1


@njit_cached(nogil=True)
def _store(table, bucket, key, rotated, cells, won, proof, work):
    """Write a finished result (in the key's orientation) and return it encoded.

    A bucket holds two entries: the first keeps the costliest result seen (by `work`, the
    nodes its search took, on a log scale), the second takes whatever the first turns away,
    so the proofs near the root of a game survive the many small ones below them."""
    stored = _rotate(proof, cells) if rotated else proof
    cost = np.int64(0)
    while work > 1 and cost < 63:
        work >>= 1
        cost += 1
    data = (stored << 8) | (128 if won else 0) | cost
    if table[bucket, 0] == 0 or (table[bucket, 1] & 63) <= cost:
        table[bucket + 1, 0] = table[bucket, 0]
        table[bucket + 1, 1] = table[bucket, 1]
        table[bucket, 0] = key
        table[bucket, 1] = data
    else:
        table[bucket + 1, 0] = key
        table[bucket + 1, 1] = data
    return _won(proof) if won else _lost(proof)


@njit_cached(nogil=True)
def _negamax(
    mine, theirs, last, mover, depth, geo, links, order, table, killers, scratch, counters
):
    """The winner's proof set << 1, plus 1 when the mover (colour `mover`, stones `mine`) of
    a live position wins with best play. `depth` is the number of stones on the board."""
    counters[NODES] += 1
    start = counters[NODES]
    if counters[NODES] > counters[LIMIT]:
        counters[ABORTED] = 1
        return np.int64(0)
    empty = geo[BOARD] & ~(mine | theirs)
    my_first, my_second = _edges(mover, geo)
    their_first, their_second = _edges(1 - mover, geo)
    wins = _winning_cells(mine, empty, my_first, my_second, geo)
    if wins:
        cell = wins & -wins
        return _won(_flood(cell, mine | cell, geo))
    threats = _winning_cells(theirs, empty, their_first, their_second, geo)
    proof = np.int64(0)  # the opponent's proof, if every move the mover may try fails
    candidates = empty
    if threats:
        cell = threats & -threats
        proof = _flood(cell, theirs | cell, geo)
        rest = threats ^ cell
        if rest:  # two winning cells: the mover can take only one
            other = rest & -rest
            return _lost(proof | _flood(other, theirs | other, geo))
        candidates = cell

    cells = geo[SIZE] * geo[SIZE]
    black, white = (mine, theirs) if mover == 0 else (theirs, mine)
    key = black | (white << BOARD_STRIDE) | (mover << (2 * BOARD_STRIDE))
    rotated_key = (
        _rotate(black, cells)
        | (_rotate(white, cells) << BOARD_STRIDE)
        | (mover << (2 * BOARD_STRIDE))
    )
    rotated = rotated_key < key
    if rotated:
        key = rotated_key
    key |= geo[SIZE] << (2 * BOARD_STRIDE + 1)
    bucket = ((key * HASH_MULTIPLIER) >> 24) & (len(table) - 2)
    entry = bucket if table[bucket, 0] == key else bucket + 1
    if table[entry, 0] == key:
        data = table[entry, 1]
        stored = data >> 8
        if rotated:
            stored = _rotate(stored, cells)
        if data & 128:
            return _won(stored)
        return _lost(stored)

    # Joins that need no move: bridges and edge bridges with disjoint carriers.
    virtual = _virtual_win(mine, empty, mover, geo, links)
    if virtual:
        return _won(virtual)
    virtual = _virtual_win(theirs, empty, 1 - mover, geo, links)
    if virtual:
        return _lost(virtual)

    if not threats:
        # Two-move wins: a mover's move that leaves two winning cells wins now; every such move
        # of the opponent is a threat the mover must break, so its cells bound the candidates.
        mine_first = _flood(my_first, mine, geo)
        mine_second = _flood(my_second, mine, geo)
        theirs_first = _flood(their_first, theirs, geo)
        theirs_second = _flood(their_second, theirs, geo)
        rest = empty
        while rest:
            bit = rest & -rest
            rest ^= bit
            carrier = _double_threat(
                mine, empty, my_first, my_second, mine_first, mine_second, bit, geo
            )
            if not carrier:
                carrier = _virtual_win(mine | bit, empty ^ bit, mover, geo, links)
            if carrier:
                return _store(table, bucket, key, rotated, cells, True, carrier | bit, 1)
            carrier = _double_threat(
                theirs, empty, their_first, their_second, theirs_first, theirs_second, bit, geo
            )
            if carrier:
                candidates &= carrier | bit
                proof |= carrier | bit
        if candidates == 0:
            return _store(table, bucket, key, rotated, cells, False, proof, counters[NODES] - start)

    # Candidates in order: the killer, then cells next to the opponent's last stone (replies
    # to a threat are usually there), centre first among equals.
    moves = scratch[depth]
    count = 0
    killer = killers[depth]
    near = _neighbours(last, geo)
    for i in range(cells):
        move = order[i]
        bit = np.int64(1) << move
        if not candidates & bit:
            continue
        score = cells - i  # centre first
        if near & bit:
            score += 2 * cells
        if move == killer:
            score += 4 * cells
        j = count
        while j > 0 and moves[cells + j - 1] < score:
            moves[j] = moves[j - 1]
            moves[cells + j] = moves[cells + j - 1]
            j -= 1
        moves[j] = move
        moves[cells + j] = score
        count += 1
    for i in range(count):
        move = moves[i]
        bit = np.int64(1) << move
        if not candidates & bit:
            continue  # outside a proof set found meanwhile: loses like the refuted moves
        result = _negamax(
            theirs,
            mine | bit,
            bit,
            1 - mover,
            depth + 1,
            geo,
            links,
            order,
            table,
            killers,
            scratch,
            counters,
        )
        if counters[ABORTED]:
            return np.int64(0)  # nothing of an unfinished search may reach the table
        if result & 1 == 0:  # the opponent loses after `move`: the mover wins with it
            killers[depth] = move
            return _store(
                table,
                bucket,
                key,
                rotated,
                cells,
                True,
                (result >> 1) | bit,
                counters[NODES] - start,
            )
        # Every move outside the opponent's proof set loses as this one did.
        refuted = result >> 1
        proof |= refuted | bit
        candidates &= refuted
    return _store(table, bucket, key, rotated, cells, False, proof, counters[NODES] - start)


@njit_cached(nogil=True)
def _bitboards(state):
    cells = np.int64(state[hex_game.SIZE]) ** 2
    black = np.int64(0)
    white = np.int64(0)
    for i in range(cells):
        v = state[HEADER + i]
        if v == 1:
            black |= np.int64(1) << i
        elif v == 2:
            white |= np.int64(1) << i
    return black, white


@njit_cached(nogil=True)
def _root_value(state, geo, links, order, table, killers, scratch, counters):
    black, white = _bitboards(state)
    mover = np.int64(state[hex_game.TO_PLAY])
    mine, theirs = (black, white) if mover == 0 else (white, black)
    depth = np.int64(state[hex_game.MOVES])
    result = _negamax(
        mine,
        theirs,
        np.int64(0),
        mover,
        depth,
        geo,
        links,
        order,
        table,
        killers,
        scratch,
        counters,
    )
    return np.int64(1 if result & 1 else -1)


@njit_cached(nogil=True)
def _solve_moves(state, geo, links, order, table, killers, scratch, counters, values):
    """values[a] = 1 where action a wins for the mover, -1 where it loses, 0 where illegal;
    returns the mover's value. Each child is settled by one search (from the table when known);
    when the position itself is lost, every move is, and no child is searched."""
    black, white = _bitboards(state)
    mover = np.int64(state[hex_game.TO_PLAY])
    mine, theirs = (black, white) if mover == 0 else (white, black)
    depth = np.int64(state[hex_game.MOVES])
    cells = geo[SIZE] * geo[SIZE]
    empty = geo[BOARD] & ~(mine | theirs)
    root = _negamax(
        mine,
        theirs,
        np.int64(0),
        mover,
        depth,
        geo,
        links,
        order,
        table,
        killers,
        scratch,
        counters,
    )
    if counters[ABORTED]:
        return np.int64(0)
    value = 1 if root & 1 else -1
    for a in range(cells):
        bit = np.int64(1) << a
        if not empty & bit:
            values[a] = 0
        elif value < 0:
            values[a] = -1
        else:
            first, second = _edges(mover, geo)
            if _flood(first, mine | bit, geo) & second:
                values[a] = 1  # the move completes the chain
                continue
            child = _negamax(
                theirs,
                mine | bit,
                bit,
                1 - mover,
                depth + 1,
                geo,
                links,
                order,
                table,
                killers,
                scratch,
                counters,
            )
            if counters[ABORTED]:
                return np.int64(0)
            values[a] = -1 if child & 1 else 1
    return np.int64(value)


@functools.cache
def _opening_table() -> dict[str, list[int]] | None:
    from ponder.envs.solvers import hex_openings

    if not hex_openings.TABLE_PATH.is_file():
        return None  # not computed yet: search instead
    return hex_openings.load()


def _opening_key(state: np.ndarray, size: int) -> str:
    board = state[HEADER : HEADER + size * size]
    return ",".join(str(a) for a in [*np.flatnonzero(board == 1), *np.flatnonzero(board == 2)])


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


@dataclass
class HexLabels:
    """Per position of a batch: the value for the mover (+1 win, -1 loss) and which actions
    keep it (`optimal[b, a]`: every winning move, or every legal move where all lose)."""

    values: np.ndarray  # int8 (B,)
    optimal: np.ndarray  # bool (B, num_actions)


class HexSolver:
    """An exact hex solver with its own transposition table (kept between calls).

    A table entry is one key word and one data word (the proof set, the value and the log of
    the search's cost), written only for finished searches. Not safe to call from several
    threads at once.
    """

    def __init__(self, table_bits: int = DEFAULT_TABLE_BITS):
        if not 10 <= table_bits <= 30:
            raise ValueError(f"table_bits must be in 10..30, got {table_bits}")
        self.table = np.zeros((1 << table_bits, 2), dtype=np.int64)
        self.killers = np.full(MAX_SIZE * MAX_SIZE + 1, NO_MOVE, dtype=np.int64)
        self.scratch = np.zeros((MAX_SIZE * MAX_SIZE + 1, 2 * MAX_SIZE * MAX_SIZE), dtype=np.int64)
        self.counters = np.zeros(3, dtype=np.int64)
        self.nodes = 0  # positions visited by the latest call (a measure of its cost)

    def clear(self) -> None:
        self.table[:] = 0
        self.killers[:] = NO_MOVE

    def move_values(
        self, state: np.ndarray, max_nodes: int | None = None, use_openings: bool = True
    ) -> tuple[int, np.ndarray]:
        """(value for the mover, per action +1 win / -1 loss / 0 illegal) of a live position.
        5x5 positions with at most two stones come from the opening table unless
        `use_openings` is off (as when the table itself is computed)."""
        size = _check(state)
        values = np.zeros(size * size, dtype=np.int64)
        self.nodes = 0
        openings = _opening_table() if use_openings and size == OPENINGS_SIZE else None
        if openings is not None and state[hex_game.MOVES] <= 2:
            legal = state[HEADER : HEADER + size * size] == 0
            winning = openings[_opening_key(state, size)]
            values[legal] = -1
            values[winning] = 1
            return (1 if winning else -1), values
        self._start(max_nodes)
        value = _solve_moves(
            state,
            geometry(size),
            links(size),
            centre_first(size),
            self.table,
            self.killers,
            self.scratch,
            self.counters,
            values,
        )
        self._finish(max_nodes)
        return int(value), values

    def value(self, state: np.ndarray, max_nodes: int | None = None) -> int:
        """The mover's value alone (+1 win, -1 loss) of a live position, by search: cheaper
        than `solve` where the position is won, as no other winning move is looked for."""
        size = _check(state)
        if hex_game.is_terminal(state):
            raise PonderError("the game is finished: use solve() for its result")
        self._start(max_nodes)
        value = _root_value(
            state,
            geometry(size),
            links(size),
            centre_first(size),
            self.table,
            self.killers,
            self.scratch,
            self.counters,
        )
        self._finish(max_nodes)
        return int(value)

    def _start(self, max_nodes: int | None) -> None:
        self.counters[:] = 0
        self.counters[LIMIT] = np.iinfo(np.int64).max if max_nodes is None else max_nodes

    def _finish(self, max_nodes: int | None) -> None:
        self.nodes = int(min(self.counters[NODES], self.counters[LIMIT]))
        if self.counters[ABORTED]:
            raise SolverBudgetExceededError(
                f"hex solve gave up after max_nodes={max_nodes} positions"
            )

    def solve(self, state: np.ndarray, max_nodes: int | None = None) -> SolverResult:
        """Value for the mover (+1 win, -1 loss: hex has no draws) and every move that keeps it.
        `max_nodes` bounds the work of the call: past it, `SolverBudgetExceededError`."""
        _check(state)
        if hex_game.is_terminal(state):
            # The previous mover completed a chain.
            return SolverResult(value=-1, best_actions=np.zeros(0, dtype=np.int64))
        value, values = self.move_values(state, max_nodes)
        best = np.flatnonzero(values == value).astype(np.int64)
        return SolverResult(value=value, best_actions=best)

    def label(self, states: np.ndarray, max_nodes: int | None = None) -> HexLabels:
        """Values and optimal-move masks of a batch of live state rows (B, state_len)."""
        states = np.asarray(states)
        if states.ndim != 2:
            raise PonderError("label() needs a batch of hex state rows (B, state_len)")
        size = _check(states[0]) if len(states) else 3
        out_values = np.zeros(len(states), dtype=np.int8)
        optimal = np.zeros((len(states), size * size), dtype=np.bool_)
        for b, state in enumerate(states):
            if _check(state) != size:
                raise PonderError("label() needs rows of one board size")
            if hex_game.is_terminal(state):
                raise PonderError(f"label(): position {b} is finished; it has no moves to label")
            value, values = self.move_values(state, max_nodes)
            out_values[b] = value
            optimal[b] = values == value
        return HexLabels(values=out_values, optimal=optimal)


@functools.cache
def shared_solver() -> HexSolver:
    """The process-wide solver behind `solve` and `label` (its table is allocated on first use)."""
    return HexSolver()


def solve(state: np.ndarray, max_nodes: int | None = None) -> SolverResult:
    """Solve a hex state row with the shared solver (see `HexSolver.solve`)."""
    return shared_solver().solve(state, max_nodes=max_nodes)


def label(states: np.ndarray, max_nodes: int | None = None) -> HexLabels:
    """Label a batch of hex state rows with the shared solver (see `HexSolver.label`)."""
    return shared_solver().label(states, max_nodes=max_nodes)
