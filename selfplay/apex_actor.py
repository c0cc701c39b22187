"""The Ape-X env worker: one process acting in its own vectorized envs with a local copy of the
Q-network, shipping what it saw to the learner's replay in chunks.

Each env of each actor explores with its own fixed epsilon from a ladder (Horgan et al., 2018:
eps_i = eps_base ** (1 + alpha * i / (N - 1)) over all N envs), so some envs explore widely
while others play nearly greedily. The worker stacks frames with the same `FrameReplay` code as
the learner (a window of one chunk per env) and exports raw slots, one frame per step, so a
chunk costs the object store 7 KB a step. New transitions enter the learner's replay at its
current maximum priority; the learner's first update sets their real priority.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np


def epsilon_ladder(count: int, base: float, alpha: float) -> np.ndarray:
    """Ape-X's per-env exploration rates, most exploratory first."""
    if count == 1:
        return np.array([base])
    i = np.arange(count)
    return base ** (1.0 + alpha * i / (count - 1))


class EnvWorker:
    def __init__(
        self,
        config: dict[str, Any],
        actor_index: int,
        seed: int,
        epsilons: list[float],
        threads: int = 1,
    ):
        import torch

        from ponder.agents.dqn.config import DQNConfig
        from ponder.agents.dqn.networks import QNetwork
        from ponder.agents.dqn.replay import FrameReplay
        from ponder.envs.atari.make import make_envs

        torch.set_num_threads(threads)
        self.cfg = cfg = DQNConfig.model_validate(config)
        self.actor_index = actor_index
        count = cfg.apex.envs_per_actor
        self.envs = make_envs(cfg.env.type, cfg.env.game, cfg.env.protocol, count, seed)
        self.net = QNetwork(
            cfg.network, self.envs.stack, self.envs.frame_shape, self.envs.num_actions
        )
        self.net.eval()
        per = cfg.apex.steps_per_chunk + self.envs.stack + cfg.agent.n_step + 4
        self.window = FrameReplay(
            per * count,
            count,
            self.envs.frame_shape,
            self.envs.frame_dtype,
            stack=self.envs.stack,
            n_step=cfg.agent.n_step,
            gamma=cfg.agent.gamma,
            prioritized=False,
        )
        self.epsilons = np.asarray(epsilons, dtype=np.float64)
        self.rng = np.random.default_rng(seed)
        self.streams = np.arange(count)
        self.exported = np.zeros(count, dtype=np.int64)
        self.weights_version = -1
        frames = self.envs.reset()
        self.window.begin(self.streams, frames, np.ones(count, bool), np.zeros(count, bool))

    def pid(self) -> int:
        return os.getpid()

    def collect(self, weights: list[Any], version: int) -> tuple[dict[str, np.ndarray], dict]:
        """Act `steps_per_chunk` steps in every env with the newest weights; returns the
        chunk (arrays shaped (envs, steps, ...)) and its statistics.

        `weights` is `[ObjectRef]` of the learner's published state dict: wrapped in a list so
        that Ray does not fetch it for a worker that already holds this version.
        """
        import ray
        import torch

        from ponder.agents.dqn.learner import epsilon_greedy

        if weights and version != self.weights_version:
            state = ray.get(weights[0])
            # Arrays from the object store are read-only: copy them into the network.
            self.net.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
            self.weights_version = version
        start = time.perf_counter()
        live = 0
        returns: list[float] = []
        lengths: list[int] = []
        for _ in range(self.cfg.apex.steps_per_chunk):
            stacks = self.window.head_stacks(self.streams)
            with torch.inference_mode():
                q = self.net(torch.from_numpy(stacks))
            actions = self.envs.send(epsilon_greedy(q, self.epsilons, self.rng))
            out = self.envs.recv()
            self.window.commit(self.streams, actions, out.rewards, out.terminal)
            self.window.begin(self.streams, out.frames, out.first, out.final)
            live += int(len(self.streams) - out.first.sum())
            returns += out.episode_returns
            lengths += out.episode_lengths
        chunk = self.window.export(self.streams, self.exported)
        stats = {
            "actor": self.actor_index,
            "steps": live,
            "episode_returns": returns,
            "episode_lengths": lengths,
            "weights_version": self.weights_version,
            "seconds": time.perf_counter() - start,
        }
        return chunk, stats
