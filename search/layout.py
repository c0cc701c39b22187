"""The memory layout of B search trees: preallocated arrays, no Python object per node.

A node is an expanded (or awaiting evaluation, or terminal) position; its outgoing edges live
with it, so choosing a child reads a few contiguous rows. Statistics are kept on the edges from
the parent's point of view (visits, value sum from the parent mover's view, in-flight descents),
and on the node from its own mover's view. Nothing assumes players alternate: every value is
stored for the player to move where it is stored, and converted by comparing players.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Node status.
PENDING, EXPANDED, TERMINAL = 0, 1, 2
# Edge child ids below zero.
ILLEGAL, UNEXPANDED = -2, -1
# Selection rules.
MODE_PUCT, MODE_GUMBEL, MODE_UCT = 0, 1, 2

# Fields of the packed arrays. Statistics are packed by type into a few arrays rather than one
# array each: every array a numba function receives costs a reference-count update on entry and
# exit, and the descent calls its helpers once per level.
E_CHILD, E_VISITS, E_INFLIGHT = 0, 1, 2  # edges_i: child id, visits, in-flight descents
E_PRIOR, E_VALUE = 0, 1  # edges_f: prior, value sum from the parent mover's view
N_PARENT, N_ACTION, N_VISITS, N_PLAYER, N_STATUS = 0, 1, 2, 3, 4  # nodes_i
N_VALUE_SUM, N_RAW_VALUE = 0, 1  # nodes_f


class Tree(NamedTuple):
    """B trees of capacity M nodes over A actions. Node 0 is the root; a child always has a
    larger id than its parent (compaction relies on it).

    nodes_i[b, node]: parent (-1 at the root), action from the parent, visits (the node's own
    evaluation plus every visit through it), player to move, status.
    nodes_f[b, node]: sum of backed-up values (node mover's view); raw value: the evaluator's
    value (mover's view) for an expanded node, the outcome for player 0 for a terminal one.
    edges_i[b, node, a]: child id (or UNEXPANDED / ILLEGAL), visits, in-flight descents.
    edges_f[b, node, a]: prior, value sum from the node mover's view.
    """

    node_count: np.ndarray  # int32 (B,)
    nodes_i: np.ndarray  # int32 (B, M, 5)
    nodes_f: np.ndarray  # float64 (B, M, 2)
    edges_i: np.ndarray  # int32 (B, M, A, 3)
    edges_f: np.ndarray  # float32 (B, M, A, 2)

    # Named views for Python-side readers (tests, analysis); kernels index the packed arrays.
    @property
    def parent(self) -> np.ndarray:
        return self.nodes_i[..., N_PARENT]

    @property
    def parent_action(self) -> np.ndarray:
        return self.nodes_i[..., N_ACTION]

    @property
    def visits(self) -> np.ndarray:
        return self.nodes_i[..., N_VISITS]

    @property
    def player(self) -> np.ndarray:
        return self.nodes_i[..., N_PLAYER]

    @property
    def status(self) -> np.ndarray:
        return self.nodes_i[..., N_STATUS]

    @property
    def value_sum(self) -> np.ndarray:
        return self.nodes_f[..., N_VALUE_SUM]

    @property
    def raw_value(self) -> np.ndarray:
        return self.nodes_f[..., N_RAW_VALUE]

    @property
    def child(self) -> np.ndarray:
        return self.edges_i[..., E_CHILD]

    @property
    def edge_visits(self) -> np.ndarray:
        return self.edges_i[..., E_VISITS]

    @property
    def inflight(self) -> np.ndarray:
        return self.edges_i[..., E_INFLIGHT]

    @property
    def prior(self) -> np.ndarray:
        return self.edges_f[..., E_PRIOR]

    @property
    def edge_value(self) -> np.ndarray:
        return self.edges_f[..., E_VALUE]


class RootInfo(NamedTuple):
    """Per-search root data: the un-noised prior (restored before fresh noise on reuse) and the
    Gumbel draws and considered set."""

    raw_prior: np.ndarray  # float32 (B, A)
    start_visits: np.ndarray  # int32 (B, A): root edge visits before this search (reuse)
    gumbel: np.ndarray  # float32 (B, A)
    considered: np.ndarray  # bool (B, A)
    num_considered: np.ndarray  # int32 (B,)
    schedule: np.ndarray  # int32 (m_max + 1, S): see gumbel.considered_visit_table


class Params(NamedTuple):
    """Scalars of the selection rule, passed to the kernels as one argument."""

    mode: int
    c_puct_init: float
    c_puct_base: float
    fpu_reduction: float
    root_fpu_reduction: float
    virtual_loss: float
    uct_c: float
    uct_terminal_exploration: bool  # UCB1's bonus on children that end the game too
    c_visit: float
    c_scale: float
    forced_k: float  # KataGo's forced playouts at a PUCT root (0 = off)


# Bytes per node of `new_tree`: 5 int32 and 2 float64 per node, 3 int32 and 2 float32 per edge.
NODE_BYTES, EDGE_BYTES = 5 * 4 + 2 * 8, 3 * 4 + 2 * 4


def new_tree(batch: int, capacity: int, num_actions: int) -> Tree:
    from ponder.config import check_allocation

    check_allocation(
        float(batch) * capacity * (NODE_BYTES + num_actions * EDGE_BYTES),
        f"{batch} search trees of {capacity:,} nodes",
    )
    nodes_i = np.zeros((batch, capacity, 5), dtype=np.int32)
    nodes_i[..., N_PARENT] = -1
    edges_i = np.zeros((batch, capacity, num_actions, 3), dtype=np.int32)
    edges_i[..., E_CHILD] = ILLEGAL
    return Tree(
        node_count=np.zeros(batch, dtype=np.int32),
        nodes_i=nodes_i,
        nodes_f=np.zeros((batch, capacity, 2), dtype=np.float64),
        edges_i=edges_i,
        edges_f=np.zeros((batch, capacity, num_actions, 2), dtype=np.float32),
    )


def grow_tree(tree: Tree, capacity: int) -> Tree:
    """A copy of `tree` with room for `capacity` nodes per tree (existing nodes kept)."""
    batch, old, num_actions, _ = tree.edges_i.shape
    bigger = new_tree(batch, capacity, num_actions)
    bigger.node_count[:] = tree.node_count
    for name in Tree._fields[1:]:
        getattr(bigger, name)[:, :old] = getattr(tree, name)
    return bigger


def new_root_info(batch: int, num_actions: int) -> RootInfo:
    return RootInfo(
        raw_prior=np.zeros((batch, num_actions), dtype=np.float32),
        start_visits=np.zeros((batch, num_actions), dtype=np.int32),
        gumbel=np.zeros((batch, num_actions), dtype=np.float32),
        considered=np.zeros((batch, num_actions), dtype=np.bool_),
        num_considered=np.zeros(batch, dtype=np.int32),
        schedule=np.zeros((1, 1), dtype=np.int32),
    )


class Leaves:
    """Step buffers for up to B*K leaves. The first `count` (a kernel's return value) await
    the evaluator: where each is, its legal moves, then its priors and value. New positions
    found to be over go to the terminal list instead, with their outcome for player 0; both
    are backed up together after the evaluator, so a step sees the same tree whichever
    backend computed its positions."""

    def __init__(self, capacity: int, num_actions: int):
        self.row = np.zeros(capacity, dtype=np.int32)
        self.node = np.zeros(capacity, dtype=np.int32)
        self.legal = np.zeros((capacity, num_actions), dtype=np.bool_)
        self.priors = np.zeros((capacity, num_actions), dtype=np.float32)
        self.values = np.zeros(capacity, dtype=np.float32)
        self.terminal_row = np.zeros(capacity, dtype=np.int32)
        self.terminal_node = np.zeros(capacity, dtype=np.int32)
        self.terminal_value = np.zeros(capacity, dtype=np.float32)
        self.terminal_count = np.zeros(1, dtype=np.int32)
