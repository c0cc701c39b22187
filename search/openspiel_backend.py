"""State backend for OpenSpiel games: the slow path of the same search.

Selection, expansion and backup stay in numba (`tree.py`); only the transitions run in Python,
on `pyspiel.State` objects held per node in a Python list per tree, indexed by node id. A step
allocates its new leaves in numba, then here each leaf's state is cloned from its parent and the
move applied; finished games go to the terminal list with their outcome (never evaluated), the
others to the evaluator.
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
            leaves.row[count], leaves.node[count] = b, node
            count += 1
        leaves.terminal_count[0] = 0
        return count

    def select(self, tree, root, params, scratch, rng, sims_left, per_step, leaves) -> int:
        """Descend in numba, then play each new leaf's move here. Finished games move to the
        terminal list; the others are packed to the front, in order, for the evaluator."""
        found = tree_ops.pending_leaves_kernel(params.mode)(
            tree, root, params, scratch, rng, sims_left, per_step, leaves.row, leaves.node
        )
        game = self.game
        count = ended = 0
        for i in range(max(found, 0)):
            b, node = int(leaves.row[i]), int(leaves.node[i])
            state = game.clone(self.nodes[b][tree.parent[b, node]])
            done, outcome = game.play(state, int(tree.parent_action[b, node]))
            self.nodes[b][node] = state
            if done:
                leaves.terminal_row[ended] = b
                leaves.terminal_node[ended] = node
                leaves.terminal_value[ended] = outcome
                ended += 1
                continue
            tree.player[b, node] = game.to_play(state)
            game.legal_mask(state, leaves.legal[count])
            leaves.row[count], leaves.node[count] = b, node
            count += 1
        leaves.terminal_count[0] = ended
        return count if found >= 0 else found

    def evaluation_inputs(self, count: int, leaves: Leaves, by_state: bool) -> Any:
        """The first `count` leaves for the evaluator: their states, or planes encoded here."""
        states = [self.nodes[leaves.row[i]][leaves.node[i]] for i in range(count)]
        if by_state:
            return states
        assert self.planes is not None
        for i, state in enumerate(states):
            self.game.encode(state, self.planes[i])
        return self.planes[:count]

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


def python_rollouts(game: Any, rollouts: int, seed: int) -> Any:
    """`values(states, out)`: the mean of `rollouts` random playouts from each state, played
    on clones through the game's Python interface (NumPy's generator, seeded here)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(game.num_actions, dtype=np.bool_)

    def value(state: Any) -> float:
        mover = game.to_play(state)
        total = 0.0
        for _ in range(rollouts):
            sim = game.clone(state)
            done, outcome = game.is_terminal(sim), 0.0
            while not done:
                game.legal_mask(sim, mask)
                legal = np.flatnonzero(mask)
                done, outcome = game.play(sim, int(legal[rng.integers(len(legal))]))
            total += outcome if mover == 0 else -outcome
        return total / rollouts

    def values(states: Any, out: np.ndarray) -> None:
        for i, state in enumerate(states):
            out[i] = value(state)

    return values
