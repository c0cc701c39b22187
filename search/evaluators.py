"""Leaf evaluators that need no network: uniform (tests, tree-only benchmarks) and random
rollouts. Network evaluators (torch, remote inference) live in `ponder.agents`.

An `Evaluator` is any callable `(planes, legal) -> (priors, values)`:
- planes: float32 (N, *obs_shape), the encoded leaf positions;
- legal: bool (N, A);
- priors: float32 (N, A), zero on illegal moves and summing to 1;
- values: float32 (N,), in [-1, 1] from the view of the player to move at each leaf.

An evaluator that reads positions rather than planes (random rollouts must play the game on)
also has `evaluate_states(states, legal)`, with the leaf state rows (native games) or a list of
`pyspiel.State` (OpenSpiel games); the search then skips encoding and calls that instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ponder.search.backends import rollout_values

Evaluator = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@runtime_checkable
class StateEvaluator(Protocol):
    def evaluate_states(
        self, states: np.ndarray | Sequence[Any], legal: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]: ...


def uniform_priors(legal: np.ndarray) -> np.ndarray:
    legal = np.asarray(legal, dtype=np.bool_)
    counts = np.maximum(legal.sum(axis=1, keepdims=True), 1)
    return (legal / counts).astype(np.float32)


class UniformEvaluator:
    """Uniform priors over the legal moves and value 0: search guided by nothing but the
    tree itself. Cheap, so tree-only benchmarks measure the search."""

    def __init__(self, game: Any = None):
        self.game = game

    def __call__(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return uniform_priors(legal), np.zeros(len(legal), dtype=np.float32)

    def evaluate_states(
        self, states: np.ndarray | Sequence[Any], legal: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return self(np.empty(0, dtype=np.float32), legal)


class RolloutEvaluator:
    """Uniform priors and the mean result of `rollouts` uniformly random playouts.

    Native games play out in numba, OpenSpiel games in Python on cloned states; the state
    backend picks (`backends.rollout_values`). Needs positions, so it only works through
    `evaluate_states` (BatchedMCTS and UCTRollout call that).
    """

    def __init__(self, game: Any, rollouts: int = 1, seed: int = 0):
        if rollouts < 1:
            raise ValueError(f"rollouts must be at least 1, got {rollouts}")
        self.game = game
        self.rollouts = int(rollouts)
        self._values = rollout_values(game, self.rollouts, seed)

    def __call__(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise TypeError(
            "RolloutEvaluator plays positions out and cannot work from planes; "
            "call evaluate_states (BatchedMCTS does)"
        )

    def evaluate_states(
        self, states: np.ndarray | Sequence[Any], legal: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        values = np.zeros(len(legal), dtype=np.float32)
        self._values(states, values)
        return uniform_priors(legal), values
