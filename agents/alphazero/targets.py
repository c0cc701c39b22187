"""Training targets that self-play derives from a search: the pruned policy and the value mix.

Both are pure numpy over the search's root outputs (`SearchResult.visits`, `prior`, `q`,
`root_value`), so they can be tested on hand-made numbers and cost nothing beside the search.
"""

from __future__ import annotations

import numpy as np


def pruned_policy(
    visits: np.ndarray,
    prior: np.ndarray,
    q: np.ndarray,
    forced_k: float,
    c_puct_init: float,
    c_puct_base: float,
) -> np.ndarray:
    """KataGo's policy target pruning: the visit distribution with forced playouts removed.

    For every root child c but the most visited c*, up to sqrt(k P(c) N) visits are taken away
    as long as c's PUCT score with the fewer visits stays at or below c*'s, so the target holds
    only the visits PUCT itself would have spent; a child left with a single visit gets none.
    `visits`, `prior`, `q`: (B, A) root statistics, q from the mover's view. Rows without
    visits keep the prior, as the unpruned target does.
    """
    visits = np.asarray(visits, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    total = visits.sum(axis=1, keepdims=True)
    c = np.log((1.0 + total + c_puct_base) / c_puct_base) + c_puct_init
    scale = c * np.sqrt(total)
    rows = np.arange(len(visits))
    best = visits.argmax(axis=1)
    best_n = visits[rows, best][:, None]
    best_score = q[rows, best][:, None] + scale * prior[rows, best][:, None] / (1.0 + best_n)
    forced = np.sqrt(forced_k * prior * total)
    gap = best_score - q
    with np.errstate(divide="ignore", invalid="ignore"):
        # The fewest visits n' with q + scale * P / (1 + n') <= best_score.
        needed = np.where(gap > 0, np.ceil(scale * prior / gap - 1.0), visits)
    kept = np.clip(np.maximum(visits - forced, needed), 0.0, visits)
    kept = np.where(kept <= 1.0, 0.0, kept)
    kept[rows, best] = visits[rows, best]
    sums = kept.sum(axis=1, keepdims=True)
    policy = np.where(sums > 0, kept / np.maximum(sums, 1e-12), prior)
    return policy.astype(np.float32)


def mixed_value(z: np.ndarray, root_q: np.ndarray, q_share: float) -> np.ndarray:
    """(1 - q_share) * game result z + q_share * root search value, both the mover's view."""
    z = np.asarray(z, dtype=np.float32)
    if q_share <= 0.0:
        return z
    root_q = np.clip(np.asarray(root_q, dtype=np.float32), -1.0, 1.0)
    return ((1.0 - q_share) * z + q_share * root_q).astype(np.float32)
