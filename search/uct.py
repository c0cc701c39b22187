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

from ponder.search.backends import uct_searcher
from ponder.search.layout import MODE_UCT, Params
from ponder.search.result import SearchResult


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
        self._searcher = uct_searcher(
            game, batch_size, self.num_simulations, self.rollouts, self.params, seed
        )

    @property
    def tree(self) -> Any:
        return self._searcher.tree

    def search(self, states: Any, active: np.ndarray | None = None) -> SearchResult:
        return self._searcher.search(states, active)
