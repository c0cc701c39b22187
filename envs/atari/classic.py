"""Classic-control vector envs (CartPole-v1 and friends) behind the same stepping contract as
`AtariEnvs`, so the one DQN agent runs on both: a vector observation is one "frame" and the
stack is one deep. CartPole is what the learning test trains on: seconds, not hours."""

from __future__ import annotations

import numpy as np

from ponder.envs.atari.step import EnvStep, EpisodeTracker
from ponder.errors import PonderError


class ClassicEnvs:
    frame_dtype = np.dtype(np.float32)
    stack = 1

    def __init__(self, game: str, num_envs: int, seed: int, *, max_steps: int | None = None):
        import gymnasium as gym
        from gymnasium.error import Error as GymError

        try:
            spec = gym.spec(game)
        except GymError:
            raise PonderError(
                f"unknown classic-control env {game!r} (e.g. CartPole-v1, Acrobot-v1)"
            ) from None
        kwargs = {"max_episode_steps": max_steps} if max_steps else {}
        # The natively vectorized implementation when there is one (CartPole has), else a loop.
        mode = "vector_entry_point" if spec.vector_entry_point else "sync"
        self.env = gym.make_vec(game, num_envs=num_envs, vectorization_mode=mode, **kwargs)
        space, obs_space = self.env.single_action_space, self.env.single_observation_space
        if not isinstance(space, gym.spaces.Discrete) or len(obs_space.shape) != 1:
            self.env.close()
            raise PonderError(f"{game!r} needs discrete actions and a flat vector observation")
        self.game = game
        self.num_envs = num_envs
        self.seed = seed
        self.num_actions = int(space.n)
        self.frame_shape = tuple(obs_space.shape)
        self.max_frames = max_steps or spec.max_episode_steps
        self.tracker = EpisodeTracker(num_envs)
        self.ended = np.zeros(num_envs, dtype=bool)
        self.pending = np.zeros(num_envs, dtype=np.int64)

    def reset(self) -> np.ndarray:
        obs, _ = self.env.reset(seed=self.seed)
        self.ended[:] = False
        self.tracker.reset()
        return obs.astype(np.float32)

    def live(self) -> int:
        return int(self.num_envs - self.ended.sum())

    def send(self, actions: np.ndarray) -> np.ndarray:
        """Same split as `AtariEnvs`; here the step itself happens in `recv`."""
        self.pending = actions.astype(np.int64)
        return self.pending

    def step(self, actions: np.ndarray) -> EnvStep:
        self.send(actions)
        return self.recv()

    def recv(self) -> EnvStep:
        obs, rewards, terminated, truncated, _ = self.env.step(self.pending)
        first = self.ended.copy()
        final = terminated | truncated
        self.ended = final
        step = EnvStep(
            frames=obs.astype(np.float32),
            rewards=np.asarray(rewards, dtype=np.float32),
            terminal=terminated.copy(),
            final=final,
            first=first,
        )
        self.tracker.record(step)
        return step

    def close(self) -> None:
        self.env.close()
