"""Data augmentation with the game's exact symmetries: one random symmetry per sample.

A game declares its symmetry group as index gathers (see envs/board/base.py): for symmetry s,
`new_planes[c].flat[i] = planes[c].flat[cell_perms[s, i]]` and
`new_policy[a] = policy[action_perms[s, a]]`. Values are unchanged by a symmetry.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ponder.agents.alphazero.samples import Samples


def apply_symmetry(game: Any, samples: Samples, symmetry: np.ndarray) -> Samples:
    """Samples with row i transformed by symmetry `symmetry[i]` (an int array of length N)."""
    n = len(samples)
    channels, height, width = samples.planes.shape[1:]
    cell_index = game.cell_perms[symmetry]  # (N, H*W)
    action_index = game.action_perms[symmetry]  # (N, A)
    flat = samples.planes.reshape(n, channels, height * width)
    planes = np.take_along_axis(flat, cell_index[:, None, :], axis=2)
    return Samples(
        planes=planes.reshape(n, channels, height, width),
        policy=np.take_along_axis(samples.policy, action_index, axis=1),
        value=samples.value.copy(),
        legal=np.take_along_axis(samples.legal, action_index, axis=1),
        policy_weight=samples.policy_weight.copy(),
    )


def random_symmetries(game: Any, samples: Samples, rng: np.random.Generator) -> Samples:
    """Each sample under a symmetry drawn uniformly from the game's group (identity included)."""
    count = int(game.action_perms.shape[0])
    if count <= 1:
        return samples
    return apply_symmetry(game, samples, rng.integers(0, count, size=len(samples)))
