"""Batched MCTS in numba: AlphaZero PUCT, a Gumbel root, and UCT with random rollouts.

B independent trees live in preallocated arrays; selection, expansion and backup run in numba,
and the only Python crossing per step is one batched evaluator call (see DESIGN.md, "Search").
This package knows nothing of torch or Ray: evaluators are plain callables.

Modules: `config` (SearchConfig), `mcts` (BatchedMCTS, the step driver), `uct` (UCTRollout),
`evaluators`, `result` (SearchResult), `layout` (the tree arrays), `tree` (selection, backup,
reuse: the numba core), `gumbel` (the Gumbel root), `kernels` (per-game numba kernels),
`backends` (the one place that tells native games from OpenSpiel ones) with
`native_backend` and `openspiel_backend` (where positions live). Per-row random streams come
from `ponder.envs.rng`, which random playouts share.

Kernels cache to disk through `ponder.envs.jit_cache`, whose keys cover the source of every
folder a kernel reaches: an edit to `layout.py`, `envs/rng.py` or a game recompiles what it touches.
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
