"""Batched MCTS in numba: AlphaZero PUCT, a Gumbel root, and UCT with random rollouts.

B independent trees live in preallocated arrays; selection, expansion and backup run in numba,
and the only Python crossing per step is one batched evaluator call (see DESIGN.md, "Search").
This package knows nothing of torch or Ray: evaluators are plain callables.
"""

from ponder.search.config import SearchConfig
from ponder.search.evaluators import Evaluator, RolloutEvaluator, StateEvaluator, UniformEvaluator
from ponder.search.mcts import BatchedMCTS, SearchCapacityError
from ponder.search.result import SearchResult
from ponder.search.uct import UCTRollout

__all__ = [
    "BatchedMCTS",
    "Evaluator",
    "RolloutEvaluator",
    "SearchCapacityError",
    "SearchConfig",
    "SearchResult",
    "StateEvaluator",
    "UCTRollout",
    "UniformEvaluator",
]
