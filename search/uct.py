"""`UCTRollout`: classic UCT (UCB1, no priors) with random rollouts, the baseline opponent.

Same tree layout and descent code as `BatchedMCTS`, with the UCB1 rule: an untried move first
(chosen uniformly at random), then argmax Q + c * sqrt(ln N / n). A new leaf is scored by the
mean of `rollouts` uniformly random playouts (exactly, if the game is over there). For native
games the whole search, all B trees and N simulations, is one numba call; OpenSpiel games run
the same rule through `BatchedMCTS`'s Python state backend with Python rollouts.

Matches OpenSpiel's `MCTSBot` with `RandomRolloutEvaluator` and `solve=False`: UCB1 with the
same constant, untried children first, one rollout per new leaf, the most visited move played.
One difference is kept by default: OpenSpiel scores a child that ends the game by its outcome
alone, without UCB1's exploration term, so it visits an immediate win less and learns of
threats more slowly (at 400 simulations on connect four classic UCT scores about 0.6 against
it); `terminal_exploration=False` reproduces OpenSpiel's rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ponder.envs.board.base import OPENSPIEL
from ponder.envs.playout import seed_numba_rng
from ponder.search import rng as rng_mod
from ponder.search import tree as tree_ops
from ponder.search.config import SearchConfig
from ponder.search.evaluators import RolloutEvaluator
from ponder.search.layout import MODE_UCT, Params, new_root_info, new_tree
from ponder.search.mcts import BatchedMCTS, SearchCapacityError
from ponder.search.result import SearchResult, empty_result


class UCTRollout:
    """UCT with random rollouts on B positions at once; `search` returns a `SearchResult` whose
    policy is the root visit distribution and whose prior is uniform over legal moves."""

    def __init__(
        self,
        game: Any,
        batch_size: int,
        num_simulations: int,
        uct_c: float = 2.0,
        rollouts: int = 1,
        seed: int = 0,
        terminal_exploration: bool = True,
    ):
        if batch_size < 1 or num_simulations < 1 or rollouts < 1:
            raise ValueError(
                f"batch_size, num_simulations and rollouts must be positive, got {batch_size}, "
                f"{num_simulations} and {rollouts}"
            )
        self.game = game
        self.batch_size = batch_size
        self.num_simulations = int(num_simulations)
        self.rollouts = int(rollouts)
        self.params = Params(
            mode=MODE_UCT,
            c_puct_init=0.0,
            c_puct_base=1.0,
            fpu_reduction=0.0,
            root_fpu_reduction=0.0,
            virtual_loss=0.0,
            uct_c=float(uct_c),
            uct_terminal_exploration=bool(terminal_exploration),
            c_visit=0.0,
            c_scale=0.0,
            forced_k=0.0,
        )
        self.native = game.kind != OPENSPIEL
        if not self.native:
            config = SearchConfig(
                num_simulations=self.num_simulations, leaves_per_step=1, tree_reuse=False
            )
            self._mcts = BatchedMCTS(
                game, batch_size, config, RolloutEvaluator(game, rollouts, seed), seed
            )
            self._mcts.params = self.params
            return
        from ponder.search.kernels import uct_kernel

        num_actions = game.num_actions
        self._kernel = uct_kernel(game)
        self.tree = new_tree(batch_size, self.num_simulations + 1, num_actions)
        self._node_state = np.zeros(
            (batch_size, self.num_simulations + 1, game.state_len), dtype=game.state_dtype
        )
        self._root = new_root_info(batch_size, num_actions)
        self._rng = np.zeros(batch_size, dtype=np.uint64)
        rng_mod.seed_rows(self._rng, seed)
        seed_numba_rng(seed)
        self._scratch = np.zeros(num_actions, dtype=np.float64)
        self._row = np.zeros(game.state_len, dtype=game.state_dtype)
        self._mask = np.zeros(num_actions, dtype=np.bool_)
        self._no_prior = np.zeros(num_actions, dtype=np.float32)

    def search(self, states: Any, active: np.ndarray | None = None) -> SearchResult:
        if not self.native:
            return self._mcts.search(states, active)
        states = np.asarray(states)
        expected = (self.batch_size, self.game.state_len)
        if states.shape != expected:
            raise ValueError(f"states must have shape {expected}, got {states.shape}")
        states = np.ascontiguousarray(states, dtype=self.game.state_dtype)
        if active is None:
            active = np.ones(self.batch_size, dtype=np.bool_)
        active = np.asarray(active, dtype=np.bool_).reshape(self.batch_size)
        code = self._kernel(
            self.tree,
            self._node_state,
            self._root,
            self.params,
            self._scratch,
            self._rng,
            states,
            active,
            self.num_simulations,
            self.rollouts,
            self._row,
            self._mask,
            self._no_prior,
        )
        if code == -1:
            raise SearchCapacityError("a UCT tree ran out of nodes")
        if code < -1:
            raise ValueError(f"row {-2 - code}: the game is over, there is nothing to search")
        out = empty_result(self.batch_size, self.game.num_actions, self.num_simulations)
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
