"""Training data of AlphaZero: positions with their search targets, and finished game records.

Plain numpy arrays, one row per position, so samples travel cheaply through Ray's object store
and concatenate without copying Python objects per position.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class Samples:
    planes: np.ndarray  # float32 (N, C, H, W), the mover's view
    policy: np.ndarray  # float32 (N, A), search target (sums to 1 where policy_weight > 0)
    value: np.ndarray  # float32 (N,), final result from the mover's view
    legal: np.ndarray  # bool (N, A)
    policy_weight: np.ndarray  # float32 (N,): 0 for fast-search moves (no policy target)

    def __len__(self) -> int:
        return int(self.value.shape[0])

    @classmethod
    def empty(cls, obs_shape: tuple[int, ...], num_actions: int) -> Samples:
        return cls(
            planes=np.zeros((0, *obs_shape), np.float32),
            policy=np.zeros((0, num_actions), np.float32),
            value=np.zeros(0, np.float32),
            legal=np.zeros((0, num_actions), np.bool_),
            policy_weight=np.zeros(0, np.float32),
        )

    @classmethod
    def concat(cls, parts: list[Samples]) -> Samples:
        if not parts:
            raise ValueError("Samples.concat needs at least one part")
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    def take(self, rows: np.ndarray | slice) -> Samples:
        """A subset of rows (fancy indexing copies, slices are views)."""
        return Samples(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


@dataclass
class GameRecord:
    """One finished self-play game."""

    moves: list[int]
    outcome: float  # player 0's view: +1 win, 0 draw, -1 loss (a resignation counts as a loss)
    resigned: bool
    resign_disabled: bool  # this game was chosen to be played out without resigning
    # For a no-resign game in which some player's root value fell below the threshold: did that
    # player really lose? None when nobody would have resigned (or resignation was on).
    would_have_lost_resigner: bool | None
    samples: Samples
