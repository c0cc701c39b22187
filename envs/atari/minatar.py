"""MinAtar (Young & Tian, 2019): five Atari-like games on a 10x10 grid, behind the same stepping
contract as `AtariEnvs`, so the one DQN agent trains on them in minutes on a CPU.

Each env is the package's own `minatar.Environment` with the paper's settings: sticky actions
(the previous action repeats with probability 0.1), difficulty ramping, all six actions. Its
state is a 10x10xC boolean grid, one channel per kind of object; it is stored channels-first
as one uint8 frame (C, 10, 10) per step, and the stack is one deep, because the state already
shows motion (trail channels), as the paper's DQN assumes.

The games are pure Python and cheap, so they step one after another inside `recv`.
"""

from __future__ import annotations

import functools

import numpy as np

from ponder.envs.atari.step import EnvStep, EpisodeTracker
from ponder.errors import PonderError

MINATAR_GAMES = ("asterix", "breakout", "freeway", "seaquest", "space_invaders")
STICKY_ACTION_PROB = 0.1
# The paper sets no cap. This one only ends an episode that a nearly perfect agent could play
# for ever (Breakout refills its bricks), so that an evaluation always finishes.
DEFAULT_MAX_STEPS = 100_000
ACTION_NAMES = ("NOOP", "LEFT", "UP", "RIGHT", "DOWN", "FIRE")  # minatar's action_map order
CELL = 16  # pixels per grid cell in colour pictures: 160x160 screens, as wide as Atari's


def check_minatar_game(name: str) -> str:
    """The game's MinAtar id (case-insensitive), or a one-line error listing the five."""
    game = name.strip().lower()
    if game not in MINATAR_GAMES:
        choices = ", ".join(MINATAR_GAMES)
        raise PonderError(f"unknown MinAtar game {name!r}; choose one of: {choices}")
    return game


@functools.cache
def palette(channels: int) -> np.ndarray:
    """(channels + 1, 3) uint8: black for an empty cell, then MinAtar's own display colours
    (seaborn's cubehelix), so pictures look as the game's GUI shows them."""
    import seaborn as sns

    colours = np.array([(0.0, 0.0, 0.0), *sns.color_palette("cubehelix", channels)])
    return np.round(colours * 255).astype(np.uint8)


def pictures(frames: np.ndarray, cell: int = CELL) -> np.ndarray:
    """(N, C, 10, 10) frames as (N, 10*cell, 10*cell, 3) colour pictures; where objects overlap,
    the higher channel shows, as in MinAtar's display."""
    channels = frames.shape[1]
    weights = np.arange(1, channels + 1, dtype=np.int64)[None, :, None, None]
    index = (frames.astype(np.int64) * weights).max(axis=1)  # (N, 10, 10): 0 empty
    rgb = palette(channels)[index]
    return rgb.repeat(cell, axis=1).repeat(cell, axis=2)


class MinAtarEnvs:
    frame_dtype = np.dtype(np.uint8)
    stack = 1
    action_names = list(ACTION_NAMES)

    def __init__(
        self,
        game: str,
        num_envs: int,
        seed: int,
        *,
        max_steps: int | None = None,
        rgb: bool = False,
    ):
        """`max_steps` caps an episode in agent steps (a truncation, never terminal); `rgb`
        keeps colour pictures of the newest frames in `self.rgb` (for videos)."""
        from minatar import Environment

        self.game = check_minatar_game(game)
        self.num_envs = num_envs
        self.seed = seed
        self.max_frames = max_steps or DEFAULT_MAX_STEPS
        self.envs = [
            Environment(self.game, sticky_action_prob=STICKY_ACTION_PROB, difficulty_ramping=True)
            for _ in range(num_envs)
        ]
        self.num_actions = int(self.envs[0].num_actions())
        height, width, channels = self.envs[0].state_shape()
        self.frame_shape = (int(channels), int(height), int(width))
        self.filming = rgb
        self.rgb: np.ndarray | None = None  # (N, 160, 160, 3): the newest frames in colour
        self.tracker = EpisodeTracker(num_envs)
        self.ended = np.zeros(num_envs, dtype=bool)
        self.steps = np.zeros(num_envs, dtype=np.int64)  # agent steps into each episode
        self.pending = np.zeros(num_envs, dtype=np.int64)
        self.frames = np.zeros((num_envs, *self.frame_shape), dtype=np.uint8)

    def _observe(self, env: int) -> None:
        self.frames[env] = self.envs[env].state().transpose(2, 0, 1)

    def _start_episode(self, env: int) -> None:
        game = self.envs[env]
        game.reset()
        game.last_action = 0  # sticky actions never carry an action across episodes
        self.steps[env] = 0
        self._observe(env)

    def _publish(self) -> np.ndarray:
        frames = self.frames.copy()
        if self.filming:
            self.rgb = pictures(frames)
        return frames

    def reset(self) -> np.ndarray:
        """Reseed every env from `seed` (each its own stream) and start new episodes."""
        streams = np.random.SeedSequence(self.seed).spawn(self.num_envs)
        for env, stream in enumerate(streams):
            self.envs[env].seed(stream.generate_state(4))
            self._start_episode(env)
        self.ended[:] = False
        self.tracker.reset()
        return self._publish()

    def live(self) -> int:
        return int(self.num_envs - self.ended.sum())

    def send(self, actions: np.ndarray) -> np.ndarray:
        """Same split as `AtariEnvs`; here the step itself happens in `recv`. Returns the
        actions as chosen: a sticky repeat happens inside the game, unseen, as in the paper."""
        self.pending = actions.astype(np.int64)
        return self.pending

    def step(self, actions: np.ndarray) -> EnvStep:
        self.send(actions)
        return self.recv()

    def recv(self) -> EnvStep:
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        terminated = np.zeros(self.num_envs, dtype=bool)
        first = self.ended.copy()
        for env in range(self.num_envs):
            if first[env]:  # the autoreset step: the action is ignored
                self._start_episode(env)
                continue
            reward, done = self.envs[env].act(int(self.pending[env]))
            rewards[env] = reward
            terminated[env] = done
            self.steps[env] += 1
            self._observe(env)
        truncated = ~terminated & ~first & (self.steps >= self.max_frames)
        final = terminated | truncated
        self.ended = final
        step = EnvStep(
            frames=self._publish(),
            rewards=rewards,
            terminal=terminated,
            final=final,
            first=first,
        )
        self.tracker.record(step)
        return step

    def picture(self, frame: np.ndarray) -> np.ndarray:
        """One frame as the colour picture a GIF shows."""
        return pictures(frame[None])[0]

    def close(self) -> None:
        self.envs = []
