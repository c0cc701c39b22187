"""State backend for native games: positions are rows of one array per tree, and every
transition runs inside the per-game numba kernels (`kernels.py`); also the native fast paths
of random rollouts and of whole-search UCT (chosen by `backends.py`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ponder.envs import rng as rng_mod
from ponder.envs.board.base import BoardGame
from ponder.search import tree as tree_ops
from ponder.search.kernels import drop_stale_roots, native_kernels, rollout_kernel, uct_kernel
from ponder.search.layout import Leaves, Tree, new_root_info, new_tree
from ponder.search.mcts import SearchCapacityError
from ponder.search.result import SearchResult, empty_result


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


def native_rollouts(game: BoardGame, rollouts: int, seed: int) -> Any:
    """`values(states, out)`: the mean of `rollouts` random playouts from each state row, in
    one numba call, drawn from this evaluator's own stream (seeded here)."""
    kernel = rollout_kernel(game)
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    row = np.zeros(game.state_len, dtype=game.state_dtype)
    stream = np.zeros(1, dtype=np.uint64)
    rng_mod.seed_rows(stream, seed)

    def values(states: Any, out: np.ndarray) -> None:
        kernel(np.asarray(states), rollouts, out, row, mask, stream)

    return values


class NativeUCT:
    """Whole-search UCT with random rollouts: all B trees and N simulations in one numba call
    (classic UCT needs no evaluator, so nothing crosses back to Python during a search)."""

    def __init__(
        self, game: BoardGame, batch: int, simulations: int, rollouts: int, params: Any, seed: int
    ):
        self.game = game
        self.batch = batch
        self.simulations = simulations
        self.rollouts = rollouts
        self.params = params
        num_actions = game.num_actions
        self._kernel = uct_kernel(game)
        self.tree = new_tree(batch, simulations + 1, num_actions)
        self._node_state = np.zeros(
            (batch, simulations + 1, game.state_len), dtype=game.state_dtype
        )
        self._root = new_root_info(batch, num_actions)
        self._rng = np.zeros(batch, dtype=np.uint64)
        rng_mod.seed_rows(self._rng, seed)  # tree b's ties and rollouts: stream seed + b
        self._scratch = np.zeros(num_actions, dtype=np.float64)
        self._row = np.zeros(game.state_len, dtype=game.state_dtype)
        self._mask = np.zeros(num_actions, dtype=np.bool_)
        self._no_prior = np.zeros(num_actions, dtype=np.float32)

    def search(self, states: Any, active: np.ndarray | None = None) -> SearchResult:
        states = np.asarray(states)
        expected = (self.batch, self.game.state_len)
        if states.shape != expected:
            raise ValueError(f"states must have shape {expected}, got {states.shape}")
        states = np.ascontiguousarray(states, dtype=self.game.state_dtype)
        if active is None:
            active = np.ones(self.batch, dtype=np.bool_)
        active = np.asarray(active, dtype=np.bool_).reshape(self.batch)
        code = self._kernel(
            self.tree,
            self._node_state,
            self._root,
            self.params,
            self._scratch,
            self._rng,
            states,
            active,
            self.simulations,
            self.rollouts,
            self._row,
            self._mask,
            self._no_prior,
        )
        if code == -1:
            raise SearchCapacityError("a UCT tree ran out of nodes")
        if code < -1:
            raise ValueError(f"row {-2 - code}: the game is over, there is nothing to search")
        out = empty_result(self.batch, self.game.num_actions, self.simulations)
        tree_ops.write_results(
            self.tree,
            self._rng,
            active,
            0.0,
            out.action,
            out.policy,
            out.root_value,
            out.visits,
            out.q,
            out.prior,
        )
        return out
