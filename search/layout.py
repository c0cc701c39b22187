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


class Tree(NamedTuple):
    """B trees of capacity M nodes over A actions. Node 0 is the root; a child always has a
    larger id than its parent (compaction relies on it)."""

    node_count: np.ndarray  # int32 (B,)
    parent: np.ndarray  # int32 (B, M); -1 at the root
    parent_action: np.ndarray  # int32 (B, M)
    player: np.ndarray  # int8 (B, M): player to move at the node
    status: np.ndarray  # int8 (B, M): PENDING, EXPANDED or TERMINAL
    visits: np.ndarray  # int32 (B, M): the node's own evaluation plus every visit through it
    value_sum: np.ndarray  # float64 (B, M): sum of backed-up values, node mover's view
    # Expanded: the evaluator's value (mover's view). Terminal: the outcome for player 0.
    raw_value: np.ndarray  # float32 (B, M)
    child: np.ndarray  # int32 (B, M, A): child node id, UNEXPANDED or ILLEGAL
    prior: np.ndarray  # float32 (B, M, A)
    edge_visits: np.ndarray  # int32 (B, M, A)
    edge_value: np.ndarray  # float32 (B, M, A): sum of values, parent mover's view
    inflight: np.ndarray  # int32 (B, M, A): descents selected but not yet backed up


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
    c_visit: float
    c_scale: float


def new_tree(batch: int, capacity: int, num_actions: int) -> Tree:
    return Tree(
        node_count=np.zeros(batch, dtype=np.int32),
        parent=np.full((batch, capacity), -1, dtype=np.int32),
        parent_action=np.full((batch, capacity), -1, dtype=np.int32),
        player=np.zeros((batch, capacity), dtype=np.int8),
        status=np.zeros((batch, capacity), dtype=np.int8),
        visits=np.zeros((batch, capacity), dtype=np.int32),
        value_sum=np.zeros((batch, capacity), dtype=np.float64),
        raw_value=np.zeros((batch, capacity), dtype=np.float32),
        child=np.full((batch, capacity, num_actions), ILLEGAL, dtype=np.int32),
        prior=np.zeros((batch, capacity, num_actions), dtype=np.float32),
        edge_visits=np.zeros((batch, capacity, num_actions), dtype=np.int32),
        edge_value=np.zeros((batch, capacity, num_actions), dtype=np.float32),
        inflight=np.zeros((batch, capacity, num_actions), dtype=np.int32),
    )


def grow_tree(tree: Tree, capacity: int) -> Tree:
    """A copy of `tree` with room for `capacity` nodes per tree (existing nodes kept)."""
    batch, old, num_actions = tree.child.shape
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
    """Step buffers for up to B*K leaves: where each leaf is, its legal moves, and (after the
    evaluator, or for a terminal found by the Python backend) its priors and value."""

    def __init__(self, capacity: int, num_actions: int):
        self.row = np.zeros(capacity, dtype=np.int32)
        self.node = np.zeros(capacity, dtype=np.int32)
        self.legal = np.zeros((capacity, num_actions), dtype=np.bool_)
        self.terminal = np.zeros(capacity, dtype=np.bool_)
        self.priors = np.zeros((capacity, num_actions), dtype=np.float32)
        self.values = np.zeros(capacity, dtype=np.float32)
