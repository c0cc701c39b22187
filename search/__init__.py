"""Batched MCTS in numba: AlphaZero PUCT, a Gumbel root, and UCT with random rollouts.

B independent trees live in preallocated arrays; selection, expansion and backup run in numba,
and the only Python crossing per step is one batched evaluator call (see DESIGN.md, "Search").
This package knows nothing of torch or Ray: evaluators are plain callables.

Modules: `config` (SearchConfig), `mcts` (BatchedMCTS, the step driver), `uct` (UCTRollout),
`evaluators`, `result` (SearchResult), `layout` (the tree arrays), `tree` (selection, backup,
reuse: the numba core), `gumbel` (the Gumbel root), `kernels` (per-game numba kernels),
`native_backend` and `openspiel_backend` (where positions live), `rng` (per-row streams).

Numba's disk cache checks only the file of each plain cached function (the per-game kernels key
theirs by every file of this package and of the game's package); after editing `layout.py`,
`rng.py` or `gumbel.py`, delete `search/__pycache__` so the plain helpers inlining them recompile.
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
