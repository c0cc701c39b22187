"""State backend for OpenSpiel games: the slow path of the same search.

Selection, expansion and backup stay in numba (`tree.py`); only the transitions run in Python,
on `pyspiel.State` objects held per node in a Python list per tree, indexed by node id. A step
allocates its new leaves in numba, then here each leaf's state is cloned from its parent and the
move applied; terminal leaves are flagged with their outcome (never evaluated), the others are
encoded for the evaluator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ponder.search import tree as tree_ops
from ponder.search.layout import Leaves, Tree


class OpenSpielBackend:
    def __init__(
        self, game: Any, mode: int, batch: int, capacity: int, max_leaves: int, planes: bool
    ):
        self.game = game
        self.mode = mode
        self.nodes: list[list[Any]] = [[None] * capacity for _ in range(batch)]
        # The shared kernels move per-node rows during reuse; this backend keeps none there.
        self.node_state = np.zeros((batch, capacity, 0), dtype=np.int8)
        self.planes = np.zeros((max_leaves, *game.obs_shape), dtype=np.float32) if planes else None

    def check_states(self, states: Any, batch: int) -> list[Any]:
        states = list(states)
        if len(states) != batch:
            raise ValueError(f"expected {batch} OpenSpiel states, got {len(states)}")
        return states

    def grow(self, capacity: int) -> None:
        for row in self.nodes:
            row.extend([None] * (capacity - len(row)))
        batch = len(self.nodes)
        self.node_state = np.zeros((batch, capacity, 0), dtype=np.int8)

    def drop_stale_roots(self, tree: Tree, states: list[Any], active: np.ndarray) -> None:
        for b in np.flatnonzero(active):
            root = self.nodes[b][0]
            if tree.node_count[b] > 0 and (root is None or root.history() != states[b].history()):
                tree.node_count[b] = 0

    def init_roots(self, tree: Tree, states: list[Any], active: np.ndarray, leaves: Leaves) -> int:
        count = 0
        for b in np.flatnonzero(active & (tree.node_count == 0)):
            state = states[b]
            if self.game.is_terminal(state):
                raise ValueError(f"row {b}: the game is over, there is nothing to search")
            node = tree_ops.allocate(tree, b, -1, -1)
            self.nodes[b][node] = self.game.clone(state)
            tree.player[b, node] = self.game.to_play(state)
            self.game.legal_mask(state, leaves.legal[count])
            leaves.row[count], leaves.node[count], leaves.terminal[count] = b, node, False
            count += 1
        return count

    def select(self, tree, root, params, scratch, rng, sims_left, per_step, leaves) -> int:
        count = tree_ops.pending_leaves_kernel(params.mode)(
            tree, root, params, scratch, rng, sims_left, per_step, leaves.row, leaves.node
        )
        game = self.game
        for i in range(max(count, 0)):
            b, node = int(leaves.row[i]), int(leaves.node[i])
            state = game.clone(self.nodes[b][tree.parent[b, node]])
            done, outcome = game.play(state, int(tree.parent_action[b, node]))
            self.nodes[b][node] = state
            leaves.terminal[i] = done
            if done:
                leaves.values[i] = outcome
                tree.player[b, node] = 0
            else:
                tree.player[b, node] = game.to_play(state)
                game.legal_mask(state, leaves.legal[i])
        return count

    def evaluation_batch(
        self, count: int, leaves: Leaves, by_state: bool
    ) -> tuple[Any, np.ndarray, np.ndarray]:
        """(inputs, legal, index) for the non-terminal leaves among the first `count`."""
        index = np.flatnonzero(~leaves.terminal[:count])
        states = [self.nodes[leaves.row[i]][leaves.node[i]] for i in index]
        if by_state:
            return states, leaves.legal[index], index
        assert self.planes is not None
        for j, state in enumerate(states):
            self.game.encode(state, self.planes[j])
        return self.planes[: len(index)], leaves.legal[index], index

    def after_reuse(self, old_counts: np.ndarray, actions: np.ndarray, remap: np.ndarray) -> None:
        """Move the kept nodes' states to their new ids; release the rest."""
        for b in np.flatnonzero(actions >= 0):
            old = self.nodes[b]
            new: list[Any] = [None] * len(old)
            for i in range(int(old_counts[b])):
                j = remap[b, i]
                if j >= 0:
                    new[j] = old[i]
            self.nodes[b] = new

    def reset(self, rows: np.ndarray) -> None:
        for b in rows:
            self.nodes[b] = [None] * len(self.nodes[b])
