"""Where a game's positions live during a search: the one place in ponder that tells a
numba-native game (state rows, jitted transitions) from an OpenSpiel one (`pyspiel.State`
objects, Python transitions).

Everything else (search, agents, arena, CLI) talks to either kind through the `Game` contract
(envs/game.py); the three things that need a fast path for native games ask here:
- `make_backend`: the tree's state store and transitions (native_backend / openspiel_backend);
- `rollout_values`: random playouts from leaf positions (one numba call, or Python clones);
- `uct_searcher`: whole-search UCT with rollouts (one fused numba kernel for native games; the
  same rule through `BatchedMCTS`'s Python state backend for OpenSpiel games).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ponder.envs.board.base import OPENSPIEL
from ponder.search.layout import Params

# rollout_values(states, out): the mean playout result from each state, mover's view, into out.
RolloutValues = Callable[[Any, np.ndarray], None]


def has_jitted_states(game: Any) -> bool:
    """True for numba-native games: positions are rows and every transition is jitted."""
    return game.kind != OPENSPIEL


def make_backend(
    game: Any, mode: int, batch: int, capacity: int, max_leaves: int, planes: bool
) -> Any:
    if has_jitted_states(game):
        from ponder.search.native_backend import NativeBackend

        return NativeBackend(game, mode, batch, capacity, max_leaves, planes)
    from ponder.search.openspiel_backend import OpenSpielBackend

    return OpenSpielBackend(game, mode, batch, capacity, max_leaves, planes)


def rollout_values(game: Any, rollouts: int, seed: int) -> RolloutValues:
    if has_jitted_states(game):
        from ponder.search.native_backend import native_rollouts

        return native_rollouts(game, rollouts, seed)
    from ponder.search.openspiel_backend import python_rollouts

    return python_rollouts(game, rollouts, seed)


def uct_searcher(
    game: Any, batch: int, simulations: int, rollouts: int, params: Params, seed: int
) -> Any:
    """An object whose `search(states, active)` runs UCT with `params` (MODE_UCT) on `batch`
    positions and returns a `SearchResult`."""
    if has_jitted_states(game):
        from ponder.search.native_backend import NativeUCT

        return NativeUCT(game, batch, simulations, rollouts, params, seed)
    from ponder.search.config import SearchConfig
    from ponder.search.evaluators import RolloutEvaluator
    from ponder.search.mcts import BatchedMCTS

    config = SearchConfig(num_simulations=simulations, leaves_per_step=1, tree_reuse=False)
    mcts = BatchedMCTS(game, batch, config, RolloutEvaluator(game, rollouts, seed), seed)
    mcts.params = params
    return mcts
