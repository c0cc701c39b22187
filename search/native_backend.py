"""State backend for native games: positions are rows of one array per tree, and every
transition runs inside the per-game numba kernels (`kernels.py`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ponder.envs.board.base import BoardGame
from ponder.search.kernels import drop_stale_roots, native_kernels
from ponder.search.layout import Leaves, Tree


class NativeBackend:
    def __init__(
        self, game: BoardGame, mode: int, batch: int, capacity: int, max_leaves: int, planes: bool
    ):
        self.game = game
        self.kernels = native_kernels(game, mode)
        self.node_state = np.zeros((batch, capacity, game.state_len), dtype=game.state_dtype)
        self.leaf_states = np.zeros((max_leaves, game.state_len), dtype=game.state_dtype)
        self.planes = np.zeros((max_leaves, *game.obs_shape), dtype=np.float32) if planes else None

    def check_states(self, states: Any, batch: int) -> np.ndarray:
        states = np.asarray(states)
        expected = (batch, self.game.state_len)
        if states.shape != expected:
            raise ValueError(f"states must have shape {expected}, got {states.shape}")
        return np.ascontiguousarray(states, dtype=self.game.state_dtype)

    def grow(self, capacity: int) -> None:
        batch, old, width = self.node_state.shape
        bigger = np.zeros((batch, capacity, width), dtype=self.node_state.dtype)
        bigger[:, :old] = self.node_state
        self.node_state = bigger

    def drop_stale_roots(self, tree: Tree, states: np.ndarray, active: np.ndarray) -> None:
        drop_stale_roots(tree, self.node_state, states, active)

    def init_roots(self, tree: Tree, states: np.ndarray, active: np.ndarray, leaves: Leaves) -> int:
        count = self.kernels.init_roots(
            tree,
            self.node_state,
            states,
            active,
            leaves.row,
            leaves.node,
            self.leaf_states,
            leaves.legal,
        )
        if count < 0:
            raise ValueError(f"row {-1 - count}: the game is over, there is nothing to search")
        leaves.terminal_count[0] = 0
        return count

    def select(self, tree, root, params, scratch, rng, sims_left, per_step, leaves) -> int:
        return self.kernels.select_leaves(
            tree,
            self.node_state,
            root,
            params,
            scratch,
            rng,
            sims_left,
            per_step,
            leaves.row,
            leaves.node,
            self.leaf_states,
            leaves.legal,
            leaves.terminal_row,
            leaves.terminal_node,
            leaves.terminal_value,
            leaves.terminal_count,
        )

    def evaluation_inputs(self, count: int, leaves: Leaves, by_state: bool) -> np.ndarray:
        """The first `count` leaves for the evaluator: state rows, or planes encoded here."""
        if by_state:
            return self.leaf_states[:count]
        assert self.planes is not None
        self.kernels.encode_leaves(self.leaf_states, self.planes, count)
        return self.planes[:count]

    def after_reuse(self, old_counts: np.ndarray, actions: np.ndarray, remap: np.ndarray) -> None:
        """Node states moved with the tree inside the reuse kernel; nothing else to do."""

    def reset(self, rows: np.ndarray) -> None:
        """Dropped trees leave their rows to be overwritten."""
