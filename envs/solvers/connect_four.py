"""Exact connect four: negamax with alpha-beta on bitboards, after Pascal Pons' solver.

Scores follow Pons: 0 for a draw; a win is `22 - k` for the mover (negated for a loss), where
`k` is how many stones the winner has placed when four in a row lands, so quicker wins score
higher. What keeps the tree small:

- only "non-losing" moves are searched: a move that lets the opponent win at once is skipped,
  and a forced block is the only move;
- the window is narrowed by the bounds the move count allows, by a transposition-table bound,
  and by the claimeven bound (`_claimeven_bound`), before any child is searched;
- enhanced transposition cutoffs: a child whose stored bound already refutes the window ends
  the node without ordering or searching;
- moves are ordered by the number of winning cells they create, then by how many lines pass
  through the cell (the centre first);
- only null-window searches run ("is the score above m?"), bisecting the score range.

`best_actions` is the set of columns whose win/draw/loss value equals the position's. The weak
solve (the default) asks each child one or two yes/no questions ("does this move win?", "does
it hold the draw?") instead of solving the position and then its children; those questions
run on two threads where the machine has two cores, sharing one lock-free table (each entry is
one 64-bit word, so a reader never pairs one position's key with another's bound). The table
lives in a `ConnectFourSolver` and persists across calls, so labelling many positions of one
game reuses earlier work; the module-level `solve` uses one shared solver per process (a solver
is not safe to call from several threads at once).

Cost grows steeply toward the opening (figures from `benchmarks/solver.py` in the README):
positions from move 12 on take milliseconds, move 8 a few tenths of a second typically and
seconds at worst, and the empty board minutes (its weak solve proves the centre is the only
winning first move).
"""

from __future__ import annotations

import os
import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ponder.envs.board.connect_four import (
    BOARD_MASK,
    CURRENT,
    HEIGHT,
    MASK,
    MOVES,
    NUM_CELLS,
    WIDTH,
    column_mask,
    has_four,
    is_terminal,
    outcome,
    playable_cells,
    to_play,
    winning_cells,
)
from ponder.envs.jit_cache import njit_cached
from ponder.envs.solvers import SolverResult

MIN_SCORE = -(NUM_CELLS // 2) + 3  # the quickest possible loss for the mover
MAX_SCORE = (NUM_CELLS + 1) // 2 - 3  # the quickest possible win for a mover who cannot win now
# A table entry packs the position key (49 bits) above an 8-bit value: 0 an empty slot,
# 1..UPPER_TOP an upper bound, above it a lower bound (Pons' encoding). One aligned 64-bit word
# per entry is one cache miss per probe, and threads sharing the table can never read a key
# with another position's value.
UPPER_TOP = MAX_SCORE - MIN_SCORE + 1
VALUE_BITS = 8
VALUE_MASK = (1 << VALUE_BITS) - 1
EVEN_ROWS = sum(0b010101 << (7 * c) for c in range(WIDTH))  # rows 0, 2, 4 (0 is the bottom)
ODD_ROWS = sum(0b101010 << (7 * c) for c in range(WIDTH))  # rows 1, 3, 5
COLUMN_ORDER = np.array([3, 2, 4, 1, 5, 0, 6], dtype=np.int64)  # centre first
DEFAULT_TABLE_BITS = 20  # 8 MB: bigger tables help only deep searches and cost cache misses
HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: spreads nearby keys


def _cell_lines() -> np.ndarray:
    """How many four-in-a-row lines pass through each cell (row 0 at the bottom)."""
    lines = np.zeros((HEIGHT, WIDTH), dtype=np.int64)
    for r in range(HEIGHT):
        for c in range(WIDTH):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                for start in range(4):
                    r0, c0 = r - start * dr, c - start * dc
                    cells = [(r0 + k * dr, c0 + k * dc) for k in range(4)]
                    if all(0 <= rr < HEIGHT and 0 <= cc < WIDTH for rr, cc in cells):
                        lines[r, c] += 1
    return lines


CELL_LINES = _cell_lines()
NODES, LIMIT, ABORTED, SHIFT = 0, 1, 2, 3  # slots of the counters array


class SolverBudgetExceededError(RuntimeError):
    """The search visited `max_nodes` positions without settling the value."""


@njit_cached(nogil=True)
def _popcount(x):
    count = 0
    while x:
        x &= x - 1
        count += 1
    return count


@njit_cached(nogil=True)
def _slot(key, shift):
    """Table index of a key: the top bits of a multiplicative hash, so that keys that differ
    only in high columns do not collide."""
    return np.int64((np.uint64(key) * HASH_MULTIPLIER) >> np.uint64(shift))


@njit_cached(nogil=True)
def _half(x):
    """x / 2 rounded toward zero, as the C++ score arithmetic of the original does."""
    return x // 2 if x >= 0 else -((-x) // 2)


@njit_cached(nogil=True)
def non_losing_moves(current, mask):
    """Bitboard of the playable cells that do not hand the opponent an immediate win."""
    possible = playable_cells(mask)
    opponent_wins = winning_cells(current ^ mask, mask)
    forced = possible & opponent_wins
    if forced:
        if forced & (forced - 1):
            return np.int64(0)  # two threats to block: every move loses
        possible = forced
    return possible & ~(opponent_wins >> 1)  # never fill the cell under an opponent's threat


@njit_cached(nogil=True)
def _claimeven_bound(current, mask):
    """Upper bound on the mover's score when every column has an even number of empty cells.

    The opponent can then answer every move on top of it in the same column ("claimeven",
    from Allis' analysis), taking every empty cell of an odd row (0-based) and leaving the
    mover the even rows. If the mover cannot make four with those, it cannot win (bound 0); if
    the opponent's cells then hold four, the mover loses (bound -1)."""
    empty = BOARD_MASK ^ mask
    if has_four(current | (empty & EVEN_ROWS)):
        return MAX_SCORE + 3  # no bound
    if has_four((current ^ mask) | (empty & ODD_ROWS)):
        return -1
    return 0


@njit_cached(nogil=True)
def _negamax(current, mask, moves, alpha, beta, table, order, counters):
    """Score of a position whose mover cannot win at once, clipped to [alpha, beta]."""
    counters[NODES] += 1
    if counters[NODES] > counters[LIMIT]:
        counters[ABORTED] = 1
        return 0
    candidates = non_losing_moves(current, mask)
    if candidates == 0:
        return -((NUM_CELLS - moves) // 2)  # the opponent wins with the next stone
    if moves >= NUM_CELLS - 2:
        return 0  # neither side can complete a line in the last two plies
    low = -((NUM_CELLS - 2 - moves) // 2)
    if alpha < low:
        alpha = low
        if alpha >= beta:
            return alpha
    high = (NUM_CELLS - 1 - moves) // 2
    if (playable_cells(mask) & ODD_ROWS) == 0:
        high = min(high, _claimeven_bound(current, mask))
    if beta > high:
        beta = high
        if alpha >= beta:
            return beta
    key = current + mask
    slot = _slot(key, counters[SHIFT])
    entry = table[slot]
    if entry != 0 and (entry >> VALUE_BITS) == key:
        stored = entry & VALUE_MASK
        if stored > UPPER_TOP:
            low = stored + 2 * MIN_SCORE - MAX_SCORE - 2
            if alpha < low:
                alpha = low
                if alpha >= beta:
                    return alpha
        else:
            high = stored + MIN_SCORE - 1
            if beta > high:
                beta = high
                if alpha >= beta:
                    return beta

    # Enhanced transposition cutoff: a child already known to be bad enough for the opponent
    # ends the search here without ordering or searching anything.
    rest = candidates
    while rest:
        move = rest & -rest
        rest ^= move
        child_key = (current ^ mask) + (mask | move)
        child_entry = table[_slot(child_key, counters[SHIFT])]
        if child_entry != 0 and (child_entry >> VALUE_BITS) == child_key:
            stored = child_entry & VALUE_MASK
            if stored <= UPPER_TOP and -(stored + MIN_SCORE - 1) >= beta:
                return -(stored + MIN_SCORE - 1)

    # Order the candidates: most winning cells created first, then cells on more lines.
    count = 0
    for i in range(WIDTH):
        col = COLUMN_ORDER[i]
        move = candidates & column_mask(col)
        if move:
            threat = (
                _popcount(winning_cells(current | move, mask | move)) * 64
                + CELL_LINES[_popcount(mask & column_mask(col)), col]
            )
            j = count
            while j > 0 and order[moves, 1, j - 1] < threat:
                order[moves, 0, j] = order[moves, 0, j - 1]
                order[moves, 1, j] = order[moves, 1, j - 1]
                j -= 1
            order[moves, 0, j] = move
            order[moves, 1, j] = threat
            count += 1

    for i in range(count):
        move = order[moves, 0, i]
        score = -_negamax(
            current ^ mask, mask | move, moves + 1, -beta, -alpha, table, order, counters
        )
        if counters[ABORTED]:
            return 0  # nothing of an unfinished search may reach the table
        if score >= beta:
            table[slot] = (key << VALUE_BITS) | (score + MAX_SCORE - 2 * MIN_SCORE + 2)
            return score
        if score > alpha:
            alpha = score
    table[slot] = (key << VALUE_BITS) | (alpha - MIN_SCORE + 1)
    return alpha


@njit_cached(nogil=True)
def _score(current, mask, moves, low, high, table, order, counters):
    """Score of a non-terminal position for the mover, clipped to [low, high]: null-window
    probes bisect the range, so a narrow range (a weak solve, a yes/no test) costs less."""
    if winning_cells(current, mask) & playable_cells(mask):
        return min((NUM_CELLS + 1 - moves) // 2, high)
    wanted_low, wanted_high = low, high
    low = max(low, -((NUM_CELLS - moves) // 2))
    high = min(high, (NUM_CELLS + 1 - moves) // 2)
    value = low
    while low < high:
        mid = low + (high - low) // 2
        # Probe near zero first: small windows around a draw settle most positions quickest.
        if mid <= 0 and _half(low) < mid:
            mid = _half(low)
        elif mid >= 0 and _half(high) > mid:
            mid = _half(high)
        result = _negamax(current, mask, moves, mid, mid + 1, table, order, counters)
        if counters[ABORTED]:
            return 0
        if result <= mid:
            high = value = result
        else:
            low = value = result
    return max(wanted_low, min(value, wanted_high))


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


class ConnectFourSolver:
    """A connect-four solver with its own transposition table (kept between calls).

    `threads` searches run at once on the questions a solve asks of the root's children; they
    share the table, so each profits from what the others proved. The kernels release the GIL.
    """

    def __init__(self, table_bits: int = DEFAULT_TABLE_BITS, threads: int | None = None):
        if not 10 <= table_bits <= 30:
            raise ValueError(f"table_bits must be in 10..30, got {table_bits}")
        self.table = np.zeros(1 << table_bits, dtype=np.int64)
        self.threads = max(1, min(WIDTH, threads or min(2, os.cpu_count() or 1)))
        self._shift = 64 - table_bits
        self._idle: queue.SimpleQueue[_Workspace] = queue.SimpleQueue()
        self._workspaces = [_Workspace() for _ in range(self.threads)]
        for workspace in self._workspaces:
            self._idle.put(workspace)
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        self._limit = np.iinfo(np.int64).max
        self._budget: int | None = None
        self.nodes = 0  # positions visited by the latest call (a measure of its cost)

    def clear(self) -> None:
        self.table[:] = 0

    def score(
        self,
        state: np.ndarray,
        low: int = MIN_SCORE - 3,
        high: int = MAX_SCORE + 3,
        max_nodes: int | None = None,
    ) -> int:
        """Pons' score of a non-terminal position for the mover, clipped to [low, high]
        (a weak solve is `low=-1, high=1`; a narrower range is cheaper)."""
        if is_terminal(state):
            raise ValueError("the game is finished: use solve() for its result")
        self._start(max_nodes, threads=1)
        return self._search(int(state[CURRENT]), int(state[MASK]), int(state[MOVES]), low, high)

    def solve(
        self, state: np.ndarray, exact_score: bool = False, max_nodes: int | None = None
    ) -> SolverResult:
        """Value for the mover and every column that keeps it (win/draw/loss); with
        `exact_score`, Pons' score too (each child is then solved exactly, which costs more).
        `max_nodes` bounds the work of the call: past it, `SolverBudgetExceededError`."""
        if is_terminal(state):
            value = int(outcome(state)) * (1 if to_play(state) == 0 else -1)
            stones = int(state[MOVES])
            # The opponent placed the last stone: ceil(stones / 2) of them when it won.
            score = 0 if value == 0 else -(NUM_CELLS // 2 + 1 - (stones + 1) // 2)
            return SolverResult(value, np.zeros(0, dtype=np.int64), score)
        self._start(max_nodes, threads=self.threads)
        current, mask, moves = int(state[CURRENT]), int(state[MASK]), int(state[MOVES])
        win_now = int(winning_cells(current, mask))
        children: dict[int, int] = {}  # column -> mask after it, where the game goes on
        child_scores: dict[int, int] = {}  # column -> score for the mover, where it ends
        for col in range(WIDTH):
            column = int(column_mask(col))
            if mask & column == column:
                continue
            move = (mask + (1 << (7 * col))) & column
            if win_now & move:
                child_scores[col] = (NUM_CELLS + 1 - moves) // 2
            elif moves + 1 == NUM_CELLS:
                child_scores[col] = 0
            else:
                children[col] = mask | move

        def child_scores_in(cols: list[int], low: int, high: int) -> dict[int, int]:
            """The mover's score after each column of `cols`, clipped to [low, high]."""
            return dict(
                zip(
                    cols,
                    self._map(
                        lambda col: (
                            -self._search(current ^ mask, children[col], moves + 1, -high, -low)
                        ),
                        cols,
                    ),
                    strict=True,
                )
            )

        # Centre columns first: they are likeliest to be the expensive ones, which should start
        # early when several threads share the work.
        ordered = [int(col) for col in COLUMN_ORDER if int(col) in children]
        if exact_score:
            child_scores.update(child_scores_in(ordered, -99, 99))
            score = max(child_scores.values())
            value = _sign(score)
            best = sorted(col for col, s in child_scores.items() if _sign(s) == value)
            return SolverResult(value, np.array(best, dtype=np.int64), score)
        # Weak: ask each child the cheapest yes/no questions, one null window each: "does this
        # move win?", and only where none does, "does it hold the draw?". The answers give the
        # value and the whole optimal set with no separate search of the position itself.
        wins = {col for col, s in child_scores.items() if s > 0}
        wins.update(col for col, s in child_scores_in(ordered, 0, 1).items() if s >= 1)
        if wins:
            return SolverResult(1, np.array(sorted(wins), dtype=np.int64), None)
        draws = {col for col, s in child_scores.items() if s == 0}
        draws.update(col for col, s in child_scores_in(ordered, -1, 0).items() if s >= 0)
        if draws:
            return SolverResult(0, np.array(sorted(draws), dtype=np.int64), None)
        every_move = sorted(child_scores.keys() | children.keys())
        return SolverResult(-1, np.array(every_move, dtype=np.int64), None)

    def _map(self, fn: Callable[[int], int], cols: list[int]) -> list[int]:
        if self._pool is None or len(cols) < 2:
            return [fn(col) for col in cols]
        return list(self._pool.map(fn, cols))

    def _start(self, max_nodes: int | None, threads: int) -> None:
        # The budget is shared out between the threads that may run: each stops at its share.
        self._budget = max_nodes
        self._limit = np.iinfo(np.int64).max if max_nodes is None else max(1, max_nodes // threads)
        for workspace in self._workspaces:
            workspace.counters[:] = 0
            workspace.counters[SHIFT] = self._shift
            workspace.counters[LIMIT] = self._limit
        self.nodes = 0

    def _search(self, current: int, mask: int, moves: int, low: int, high: int) -> int:
        workspace = self._idle.get()
        try:
            result = _score(
                np.int64(current),
                np.int64(mask),
                np.int64(moves),
                np.int64(low),
                np.int64(high),
                self.table,
                workspace.order,
                workspace.counters,
            )
        finally:
            self._idle.put(workspace)
        self.nodes = sum(int(min(w.counters[NODES], w.counters[LIMIT])) for w in self._workspaces)
        if any(w.counters[ABORTED] for w in self._workspaces):
            raise SolverBudgetExceededError(
                f"connect-four solve gave up after max_nodes={self._budget} positions"
            )
        return int(result)


class _Workspace:
    """One search's private buffers: move-ordering scratch and counters (nodes, budget)."""

    def __init__(self) -> None:
        self.order = np.zeros((NUM_CELLS + 1, 2, WIDTH), dtype=np.int64)
        self.counters = np.zeros(4, dtype=np.int64)


_shared: ConnectFourSolver | None = None


def shared_solver() -> ConnectFourSolver:
    """The process-wide solver behind `solve` (its table is allocated on first use)."""
    global _shared
    if _shared is None:
        _shared = ConnectFourSolver()
    return _shared


def solve(
    state: np.ndarray, exact_score: bool = False, max_nodes: int | None = None
) -> SolverResult:
    """Solve a connect-four state row with the shared solver (see `ConnectFourSolver.solve`)."""
    return shared_solver().solve(state, exact_score=exact_score, max_nodes=max_nodes)
