"""What every search returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SearchResult:
    """Per-row outputs of one batched search (inactive rows: action -1 and zeros)."""

    action: np.ndarray  # int64 (B,): the move to play
    # float32 (B, A): the training target: root visit distribution, or with a Gumbel root the
    # completed-Q improved policy.
    policy: np.ndarray
    root_value: np.ndarray  # float32 (B,): mean backed-up value at the root, mover's view
    visits: np.ndarray  # int32 (B, A): root child visits (reused ones included)
    q: np.ndarray  # float32 (B, A): root child Q, mover's view (0 where unvisited)
    prior: np.ndarray  # float32 (B, A): root prior (after noise)
    num_simulations: int  # simulations run by this search, per active row


def empty_result(batch: int, num_actions: int, num_simulations: int) -> SearchResult:
    return SearchResult(
        action=np.full(batch, -1, dtype=np.int64),
        policy=np.zeros((batch, num_actions), dtype=np.float32),
        root_value=np.zeros(batch, dtype=np.float32),
        visits=np.zeros((batch, num_actions), dtype=np.int32),
        q=np.zeros((batch, num_actions), dtype=np.float32),
        prior=np.zeros((batch, num_actions), dtype=np.float32),
        num_simulations=num_simulations,
    )
