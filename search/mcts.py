"""`BatchedMCTS`: AlphaZero-style search (PUCT or a Gumbel root) on B trees at once.

One step of `search`: every tree descends up to K = `leaves_per_step` times (virtual loss keeps
the descents apart; a descent that runs into a leaf still awaiting evaluation is withdrawn and
ends that tree's step), the new leaves of all trees go to the evaluator in one call, then they
are expanded and backed up. Terminal positions are scored exactly and never evaluated. Steps
repeat until every active tree has run its simulations; all tree work happens in numba.

- Values are stored from the view of the player to move at each node, and converted by
  comparing players (`game.to_play`), never by assuming turns alternate.
- Tree reuse (`advance`) keeps the subtree of the move played with all its statistics; the
  next search restores that root's raw prior and mixes in fresh Dirichlet noise. A search
  always searches the position it is given: a kept tree whose root differs is dropped, and
  one whose root is that position keeps growing (searching it twice adds up the visits).
  `num_simulations` counts the simulations of this search, not the visits kept.
- Capacity: `max_nodes` per tree, or by default 2 * (num_simulations + 1), grown if a search
  asks for more simulations. A search adds at most one node per simulation, so a kept subtree
  that would not leave room for a full search is dropped first; the kernels still check every
  allocation, and running out raises rather than corrupting a tree.
- Randomness (noise, Gumbel draws, ties, temperature) comes from one stream per row, seeded
  `seed + row`: a tree's search does not depend on the other trees in its batch.
- `evaluations` counts, per row, the positions sent to the evaluator since the search object
  was made: test-time compute measured rather than inferred from the budget (terminal leaves
  and withdrawn descents cost nothing, so a search of N simulations can spend fewer than N).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ponder.envs import rng as rng_mod
from ponder.errors import PonderError
from ponder.search import tree as tree_ops
from ponder.search.backends import make_backend
from ponder.search.config import SearchConfig
from ponder.search.evaluators import Evaluator
from ponder.search.gumbel import considered_visit_table, write_gumbel_results
from ponder.search.layout import (
    MODE_GUMBEL,
    MODE_PUCT,
    Leaves,
    Params,
    grow_tree,
    new_root_info,
    new_tree,
)
from ponder.search.result import SearchResult, empty_result


class SearchCapacityError(RuntimeError):
    """A tree ran out of nodes during a search (a bug if it ever escapes the capacity checks)."""


def search_params(config: SearchConfig) -> Params:
    root_fpu = config.root_fpu_reduction
    return Params(
        mode=MODE_GUMBEL if config.gumbel else MODE_PUCT,
        c_puct_init=float(config.c_puct_init),
        c_puct_base=float(config.c_puct_base),
        fpu_reduction=float(config.fpu_reduction),
        root_fpu_reduction=float(config.fpu_reduction if root_fpu is None else root_fpu),
        virtual_loss=float(config.virtual_loss),
        uct_c=0.0,
        uct_terminal_exploration=True,
        c_visit=float(config.gumbel_c_visit),
        c_scale=float(config.gumbel_c_scale),
        forced_k=float(config.forced_playouts_k),
    )


class BatchedMCTS:
    """B independent search trees over one game, searched together.

    `states`: (B, state_len) rows for native games, a list of `pyspiel.State` for OpenSpiel
    games. `evaluator`: see `ponder.search.evaluators`. Row r draws randomness from `seed + r`.
    """

    def __init__(
        self, game: Any, batch_size: int, config: SearchConfig, evaluator: Evaluator, seed: int = 0
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.game = game
        self.batch_size = batch_size
        self.config = config
        self.evaluator = evaluator
        self.by_state = callable(getattr(evaluator, "evaluate_states", None))
        self.params = search_params(config)
        self.capacity = config.max_nodes or 2 * (config.num_simulations + 1)
        num_actions = game.num_actions
        self.tree = new_tree(batch_size, self.capacity, num_actions)
        self.root = new_root_info(batch_size, num_actions)
        self.leaves = Leaves(batch_size * config.leaves_per_step, num_actions)
        self.backend = make_backend(
            game,
            self.params.mode,
            batch_size,
            self.capacity,
            len(self.leaves.row),
            not self.by_state,
        )
        self.rng = np.zeros(batch_size, dtype=np.uint64)
        rng_mod.seed_rows(self.rng, seed)
        self.scratch = np.zeros(num_actions, dtype=np.float64)
        self.remap = np.full((batch_size, self.capacity), -1, dtype=np.int32)
        self.evaluations = np.zeros(batch_size, dtype=np.int64)

    # ----------------------------------------------------------------- public API
    def search(
        self,
        states: Any,
        active: np.ndarray | None = None,
        num_simulations: int | None = None,
        temperature: float | None = None,
    ) -> SearchResult:
        """Search every active row's position; returns the move and root statistics."""
        cfg = self.config
        sims = cfg.num_simulations if num_simulations is None else int(num_simulations)
        if sims < 1:
            raise ValueError(f"num_simulations must be at least 1, got {sims}")
        temp = cfg.temperature if temperature is None else float(temperature)
        if temp < 0:
            raise ValueError(f"temperature must be >= 0, got {temp}")
        active = self._active_rows(active)
        states = self.backend.check_states(states, self.batch_size)
        if not active.any():
            return empty_result(self.batch_size, self.game.num_actions, sims)
        if not cfg.tree_reuse:
            self.reset(np.flatnonzero(active))
        self._make_room(sims, active)
        self.backend.drop_stale_roots(self.tree, states, active)

        count = self.backend.init_roots(self.tree, states, active, self.leaves)
        if count > 0:
            self._evaluate_and_backup(count)
        if cfg.gumbel:
            self.root = self.root._replace(
                schedule=considered_visit_table(
                    min(cfg.gumbel_considered, self.game.num_actions), sims
                )
            )
        tree_ops.prepare_roots(
            self.tree,
            self.root,
            active,
            cfg.root_noise,
            float(cfg.dirichlet_alpha),
            float(cfg.dirichlet_fraction),
            cfg.gumbel,
            int(cfg.gumbel_considered),
            float(cfg.gumbel_scale),
            self.rng,
        )

        sims_left = np.where(active, sims, 0).astype(np.int32)
        while sims_left.any():
            count = self.backend.select(
                self.tree,
                self.root,
                self.params,
                self.scratch,
                self.rng,
                sims_left,
                cfg.leaves_per_step,
                self.leaves,
            )
            if count < 0:
                raise SearchCapacityError(
                    f"a search tree ran out of its {self.capacity} nodes; raise search.max_nodes"
                )
            if count > 0 or self.leaves.terminal_count[0] > 0:
                self._evaluate_and_backup(count)
        return self._results(active, temp, sims)

    def advance(self, actions: np.ndarray) -> None:
        """The moves played in each row (-1: row untouched): keep the subtree below each (tree
        reuse) or drop the tree."""
        actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        if actions.shape != (self.batch_size,):
            raise ValueError(f"actions must have shape ({self.batch_size},), got {actions.shape}")
        old_counts = self.tree.node_count.copy()
        tree_ops.reuse_subtrees(
            self.tree,
            self.backend.node_state,
            self.root,
            actions,
            self.config.tree_reuse,
            self.remap,
        )
        self.backend.after_reuse(old_counts, actions, self.remap)

    def reset(self, rows: np.ndarray | None = None) -> None:
        """Drop the trees of `rows` (all rows by default), e.g. when new games start there."""
        rows = np.arange(self.batch_size) if rows is None else np.asarray(rows, dtype=np.int64)
        self.tree.node_count[rows] = 0
        self.backend.reset(rows)

    @property
    def nodes_used(self) -> np.ndarray:
        """Nodes currently held per tree (the reused subtree after `advance`)."""
        return self.tree.node_count.copy()

    # ----------------------------------------------------------------- internals
    def _active_rows(self, active: np.ndarray | None) -> np.ndarray:
        if active is None:
            return np.ones(self.batch_size, dtype=np.bool_)
        active = np.asarray(active, dtype=np.bool_).reshape(-1)
        if active.shape != (self.batch_size,):
            raise ValueError(f"active must have shape ({self.batch_size},), got {active.shape}")
        return active

    def _make_room(self, sims: int, active: np.ndarray) -> None:
        """Make sure each active tree can take `sims` more nodes (plus a root)."""
        needed = sims + 1
        if needed > self.capacity:
            if self.config.max_nodes is not None:
                raise PonderError(
                    f"search.max_nodes={self.capacity} cannot hold a search of {sims} "
                    f"simulations (needs at least {needed})"
                )
            self._grow(2 * needed)
        too_big = active & (self.tree.node_count + sims > self.capacity)
        if too_big.any():
            self.reset(np.flatnonzero(too_big))

    def _grow(self, capacity: int) -> None:
        self.tree = grow_tree(self.tree, capacity)
        self.backend.grow(capacity)
        self.remap = np.full((self.batch_size, capacity), -1, dtype=np.int32)
        self.capacity = capacity

    def _evaluate_and_backup(self, count: int) -> None:
        leaves = self.leaves
        if count > 0:
            inputs = self.backend.evaluation_inputs(count, leaves, self.by_state)
            legal = leaves.legal[:count]
            if self.by_state:
                priors, values = self.evaluator.evaluate_states(inputs, legal)
            else:
                priors, values = self.evaluator(inputs, legal)
            priors, values = self._checked(priors, values, count)
            np.add.at(self.evaluations, leaves.row[:count], 1)
            leaves.priors[:count] = priors
            leaves.values[:count] = values
        tree_ops.expand_and_backup(
            self.tree,
            self.root,
            leaves.row,
            leaves.node,
            leaves.legal,
            leaves.priors,
            leaves.values,
            count,
            leaves.terminal_row,
            leaves.terminal_node,
            leaves.terminal_value,
            int(leaves.terminal_count[0]),
        )

    def _checked(self, priors: Any, values: Any, count: int) -> tuple[np.ndarray, np.ndarray]:
        priors = np.asarray(priors, dtype=np.float32)
        values = np.asarray(values, dtype=np.float32).reshape(-1)
        if priors.shape != (count, self.game.num_actions) or values.shape != (count,):
            raise ValueError(
                f"evaluator returned priors {priors.shape} and values {values.shape}; expected "
                f"({count}, {self.game.num_actions}) and ({count},)"
            )
        if not (np.isfinite(values).all() and np.isfinite(priors).all()):
            raise ValueError("evaluator returned NaN or infinite priors or values")
        return priors, values

    def _results(self, active: np.ndarray, temperature: float, sims: int) -> SearchResult:
        out = empty_result(self.batch_size, self.game.num_actions, sims)
        tree_ops.write_results(
            self.tree,
            self.rng,
            active,
            temperature,
            out.action,
            out.policy,
            out.root_value,
            out.visits,
            out.q,
            out.prior,
        )
        if self.config.gumbel:
            write_gumbel_results(
                self.tree, self.root, self.params, active, self.scratch, out.action, out.policy
            )
        return out
