"""One of ponder's DQN envs (Atari under a protocol, MinAtar, classic control) as a plain
gymnasium env, for libraries that vectorize envs themselves (RLlib's env runners).

The protocol stays ponder's: the same emulator settings, frame skip and caps as `make_envs`.
What differs is the shape of an episode. Where the protocol makes a lost life terminal for
learning (nature), the library's episode ends there with `terminated=True` and the next
`reset` plays on from the same game, as the classic EpisodicLife wrapper does; a game that is
over (or capped) ends the episode for real and `reset` starts a new one. Observations are the
agent's own stack (`stack` newest frames, oldest first), in the frame dtype the replay keeps.
Rewards are clipped to [-1, 1] when `reward_clip` is set; the whole game's unclipped score
and length arrive in `info["game_return"]` / `info["game_length"]` on its last step.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from ponder.envs.atari.make import make_envs


class SingleDQNEnv(gymnasium.Env):
    """`config`: type, game, protocol, seed, reward_clip (a dict, as RLlib hands it over)."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        config = dict(config or {})
        self.kind = config.get("type", "atari")
        self.game = config.get("game", "pong")
        self.protocol = config.get("protocol", "machado")
        self.seed = int(config.get("seed", 0))
        self.reward_clip = bool(config.get("reward_clip", True))
        self.envs = make_envs(self.kind, self.game, self.protocol, 1, seed=self.seed)
        self.stack = self.envs.stack
        shape = (self.stack, *self.envs.frame_shape) if self.stack > 1 else self.envs.frame_shape
        dtype = self.envs.frame_dtype
        if np.issubdtype(dtype, np.integer):
            high = 255 if self.kind == "atari" else 1
            self.observation_space = spaces.Box(0, high, shape, dtype)
        else:
            self.observation_space = spaces.Box(-np.inf, np.inf, shape, dtype)
        self.action_space = spaces.Discrete(int(self.envs.num_actions))
        self.frames: deque[np.ndarray] = deque(maxlen=self.stack)
        self.started = False
        self.game_over = True  # the next reset starts a new game

    def _observation(self) -> np.ndarray:
        if self.stack == 1:
            return self.frames[-1].copy()
        return np.stack(self.frames)

    def _fill(self, frame: np.ndarray) -> None:
        """A new game's first frame, repeated back through the stack."""
        self.frames.clear()
        for _ in range(self.stack):
            self.frames.append(frame)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if not self.started or seed is not None:
            if seed is not None:
                self.envs.seed = int(seed)
            self._fill(self.envs.reset()[0])
            self.started = True
        elif self.game_over:
            # The vector env resets on the step after a game's last: its action is ignored.
            out = self.envs.step(np.zeros(1, dtype=np.int64))
            self._fill(out.frames[0])
        self.game_over = False
        return self._observation(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        out = self.envs.step(np.asarray([int(action)], dtype=np.int64))
        self.frames.append(out.frames[0])
        reward = float(out.rewards[0])
        if self.reward_clip:
            reward = float(np.clip(reward, -1.0, 1.0))
        final = bool(out.final[0])
        terminated = bool(out.terminal[0])
        truncated = final and not terminated
        self.game_over = final
        info: dict[str, Any] = {}
        if out.episode_returns:
            info = {"game_return": out.episode_returns[0], "game_length": out.episode_lengths[0]}
        return self._observation(), reward, terminated, truncated, info

    def close(self) -> None:
        self.envs.close()
