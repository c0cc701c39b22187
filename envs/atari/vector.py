"""N Atari games stepped by ale-py's C++ threads (`ale_py.AtariVectorEnv`), one frame per step.

The emulator does the standard preprocessing natively: frame skip with max-pooling over the
last two frames, 84x84 grayscale, no-op starts and fire reset as the protocol says. It is asked
for a stack of ONE frame: the agent's 4-frame stack is read back from the replay's frame store,
so no frame is kept twice. Rewards come back unclipped (clipping is a learning choice, made at
sample time) and life loss is detected here from the lives counter, because the emulator's own
`episodic_life` restarts the whole game on a lost life instead of playing on; for the same
reason FIRE after a lost life (nature protocol) is pressed here.
"""

from __future__ import annotations

import os

import numpy as np

from ponder.envs.atari.games import check_game_id
from ponder.envs.atari.protocols import AtariProtocol
from ponder.envs.atari.step import EnvStep, EpisodeTracker

FRAME_SHAPE = (84, 84)
FRAME_STACK = 4


class AtariEnvs:
    frame_shape = FRAME_SHAPE
    frame_dtype = np.dtype(np.uint8)
    stack = FRAME_STACK

    def __init__(
        self,
        game: str,
        protocol: AtariProtocol,
        num_envs: int,
        seed: int,
        *,
        training: bool = True,
        max_frames: int | None = None,
        num_threads: int = 0,
        rgb: bool = False,
    ):
        """`training=False` makes life loss never terminal (evaluation plays whole games);
        `max_frames` overrides the protocol's per-episode frame cap (recorded by the caller);
        `rgb` also keeps the emulator's full colour screens in `self.rgb` (for videos)."""
        from ale_py import Action, AtariVectorEnv

        self.game = check_game_id(game)
        self.protocol = protocol
        self.num_envs = num_envs
        self.seed = seed
        self.life_loss_terminal = protocol.life_loss_terminal and training
        self.max_frames = max_frames or protocol.max_frames_per_episode
        settings = dict(
            num_threads=num_threads or min(num_envs, os.cpu_count() or 1),
            max_num_frames_per_episode=self.max_frames,
            repeat_action_probability=protocol.repeat_action_probability,
            full_action_space=protocol.full_action_space,
            autoreset_mode="NextStep",
            stack_num=1,
            frameskip=protocol.frame_skip,
            maxpool=True,
            noop_max=protocol.noop_max,
            episodic_life=False,
            life_loss_info=False,
            reward_clipping=False,
            use_fire_reset=protocol.fire_reset,
        )
        self.env = AtariVectorEnv(
            self.game,
            num_envs,
            img_height=FRAME_SHAPE[0],
            img_width=FRAME_SHAPE[1],
            grayscale=True,
            **settings,
        )
        # The vector env renders nothing but the agent's frames. Colour comes from a twin: the
        # same games, seeds and actions, so it steps in lockstep (the emulator is
        # deterministic given them), asked for full-size RGB screens instead.
        self.rgb_env = (
            AtariVectorEnv(
                self.game, num_envs, img_height=210, img_width=160, grayscale=False, **settings
            )
            if rgb
            else None
        )
        self.rgb: np.ndarray | None = None  # (N, 210, 160, 3): the newest colour screens
        self.filming = rgb
        self.num_actions = int(self.env.single_action_space.n)
        self.tracker = EpisodeTracker(num_envs)
        self.lives = np.zeros(num_envs, dtype=np.int32)
        self.ended = np.zeros(num_envs, dtype=bool)
        action_set = list(self.env.ale.get_action_set())
        self.action_names = [a.name for a in action_set]
        self.fire_action = (
            action_set.index(Action.FIRE)
            if protocol.fire_on_life_loss and Action.FIRE in action_set
            else None
        )
        self.fire_next = np.zeros(num_envs, dtype=bool)

    def reset(self) -> np.ndarray:
        """Start every env on a new episode; returns the first frames (N, 84, 84)."""
        obs, info = self.env.reset(seed=self.seed)
        if self.rgb_env is not None:
            self.rgb = self.rgb_env.reset(seed=self.seed)[0][:, 0]
        self.lives = np.asarray(info["lives"], dtype=np.int32).copy()
        self.ended[:] = False
        self.fire_next[:] = False
        self.tracker.reset()
        return obs[:, 0]

    def live(self) -> int:
        """How many envs the next step advances (the others are taking their reset step)."""
        return int(self.num_envs - self.ended.sum())

    def send(self, actions: np.ndarray) -> np.ndarray:
        """Start a step; the emulators run in their own threads until `recv`, so the learner
        can train in between. Returns the actions actually taken: FIRE replaces the agent's
        choice right after a lost life when the protocol says so."""
        taken = actions.astype(np.int64)
        if self.fire_action is not None and self.fire_next.any():
            taken[self.fire_next] = self.fire_action
        self.env.send(taken)
        if self.rgb_env is not None:
            self.rgb_env.send(taken)
        return taken

    def step(self, actions: np.ndarray) -> EnvStep:
        self.send(actions)
        return self.recv()

    def recv(self) -> EnvStep:
        obs, rewards, terminated, truncated, info = self.env.recv()
        if self.rgb_env is not None:
            self.rgb = self.rgb_env.recv()[0][:, 0]
        first = self.ended.copy()
        lives = np.asarray(info["lives"], dtype=np.int32)
        life_lost = (lives < self.lives) & ~first
        self.lives = lives.copy()
        final = terminated | truncated
        self.fire_next = life_lost & ~final
        terminal = terminated.copy()
        if self.life_loss_terminal:
            terminal |= life_lost
        self.ended = final
        step = EnvStep(
            frames=obs[:, 0],
            rewards=rewards.astype(np.float32),
            terminal=terminal,
            final=final,
            first=first,
        )
        self.tracker.record(step)
        return step

    def picture(self, frame: np.ndarray) -> np.ndarray:
        """One agent frame as the image a GIF shows: the 84x84 grayscale frame itself."""
        return frame.copy()

    def close(self) -> None:
        self.env.close()
        if self.rgb_env is not None:
            self.rgb_env.close()
