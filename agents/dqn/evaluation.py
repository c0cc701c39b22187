"""Evaluation by the protocol's standard: N whole episodes (life loss never ends one) at a fixed
small epsilon under the protocol's frame cap, summarised as mean, median and a 95% bootstrap
confidence interval of the mean. Every result names its protocol, epsilon and cap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ponder.agents.dqn.replay import FrameReplay

BOOTSTRAP_RESAMPLES = 10_000


@dataclass
class EvalResult:
    step: int
    episodes: int
    mean: float
    median: float
    ci95_low: float
    ci95_high: float
    std: float
    epsilon: float
    max_frames: int | None
    game: str
    protocol: dict[str, Any] | None
    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        return asdict(self)


def bootstrap_ci(values: np.ndarray, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (no normality assumption: Atari returns are
    often skewed or bimodal)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float(values.mean()), float(values.mean())
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (BOOTSTRAP_RESAMPLES, len(values)))].mean(1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def episode_quotas(episodes: int, num_envs: int) -> np.ndarray:
    """How many episodes each env contributes. Fixed in advance: taking the first N episodes
    to finish would favour short ones."""
    quotas = np.full(num_envs, episodes // num_envs)
    quotas[: episodes % num_envs] += 1
    return quotas


def evaluate(
    policy: Any,
    envs: Any,
    episodes: int,
    epsilon: float,
    rng: np.random.Generator,
    step: int = 0,
    protocol: dict[str, Any] | None = None,
    on_frames: Callable[[np.ndarray, np.ndarray], None] | None = None,
) -> EvalResult:
    """Play `episodes` episodes with `policy.act(stacks, epsilon, rng)` on `envs` (built with
    training=False); frames are stacked by a small replay window, exactly as in training.
    `on_frames(frames, first)` sees every observation (the reset's, then each step's)."""
    num_envs = envs.num_envs
    quotas = episode_quotas(episodes, num_envs)
    done = np.zeros(num_envs, dtype=np.int64)
    window = FrameReplay(
        num_envs * (envs.stack + 4),
        num_envs,
        envs.frame_shape,
        envs.frame_dtype,
        stack=envs.stack,
        n_step=1,
        gamma=1.0,
        prioritized=False,
    )
    streams = np.arange(num_envs)
    frames = envs.reset()
    window.begin(streams, frames, np.ones(num_envs, bool), np.zeros(num_envs, bool))
    if on_frames is not None:
        on_frames(frames, np.ones(num_envs, bool))
    returns: list[float] = []
    lengths: list[int] = []
    while (done < quotas).any():
        actions = envs.send(policy.act(window.head_stacks(streams), epsilon, rng))
        out = envs.recv()
        window.commit(streams, actions, out.rewards, out.terminal)
        window.begin(streams, out.frames, out.first, out.final)
        if on_frames is not None:
            on_frames(out.frames, out.first)
        for env, ret, length in zip(
            out.episode_envs, out.episode_returns, out.episode_lengths, strict=True
        ):
            if done[env] < quotas[env]:
                done[env] += 1
                returns.append(ret)
                lengths.append(length)
    values = np.array(returns)
    low, high = bootstrap_ci(values)
    return EvalResult(
        step=step,
        episodes=len(returns),
        mean=float(values.mean()),
        median=float(np.median(values)),
        ci95_low=low,
        ci95_high=high,
        std=float(values.std()),
        epsilon=epsilon,
        max_frames=envs.max_frames,
        game=envs.game,
        protocol=protocol,
        returns=returns,
        lengths=lengths,
    )
