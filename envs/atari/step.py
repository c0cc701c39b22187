"""What a DQN environment hands back per step, shared by the Atari and classic-control envs.

Both envs autoreset on the step *after* an episode ends (gymnasium's NEXT_STEP mode): the step
that ends an episode returns its final observation (`final`), and the next step ignores its
action and returns the first observation of a new episode (`first`). Keeping the final
observation is what lets a time-limit truncation bootstrap from the true last state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class EnvStep:
    frames: np.ndarray  # (N, *frame_shape): the newest observation of each env
    rewards: np.ndarray  # (N,) float32, unclipped game score
    terminal: np.ndarray  # (N,) bool: no bootstrap past this step (game over; life loss if so)
    final: np.ndarray  # (N,) bool: frames[i] is the last observation of an episode
    first: np.ndarray  # (N,) bool: frames[i] is the first observation of a new episode
    episode_returns: list[float] = field(default_factory=list)  # episodes that ended this step
    episode_lengths: list[int] = field(default_factory=list)  # their agent steps
    episode_envs: list[int] = field(default_factory=list)  # which env each one ran in


class EpisodeTracker:
    """Sums each env's unclipped score and step count; reports whole episodes as they end."""

    def __init__(self, num_envs: int):
        self.returns = np.zeros(num_envs, dtype=np.float64)
        self.lengths = np.zeros(num_envs, dtype=np.int64)

    def reset(self) -> None:
        self.returns[:] = 0.0
        self.lengths[:] = 0

    def record(self, step: EnvStep) -> None:
        """Account for `step` (whose rewards are raw) and fill its episode lists."""
        live = ~step.first
        self.returns[step.first] = 0.0
        self.lengths[step.first] = 0
        self.returns[live] += step.rewards[live]
        self.lengths[live] += 1
        for env in np.flatnonzero(step.final):
            step.episode_returns.append(float(self.returns[env]))
            step.episode_lengths.append(int(self.lengths[env]))
            step.episode_envs.append(int(env))
