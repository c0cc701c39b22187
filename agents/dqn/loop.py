"""The single-process DQN loop, the default on one machine: act in N vectorized envs, store one
frame per env step, and run `replay_ratio` gradient updates per agent step once the replay
holds `learning_starts` steps, while the emulators compute the next step on their own threads.
Cadence, stop rules, Ctrl-C and errors are the one runner's (ponder/runner.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ponder.agents.device import resolve_device
from ponder.agents.dqn.config import DQNConfig
from ponder.agents.dqn.evaluation import EvalResult
from ponder.agents.dqn.learner import DQNLearner
from ponder.agents.dqn.progress import bar_figures, dqn_display
from ponder.agents.dqn.training import (
    Counters,
    DQNTrainer,
    RecentEpisodes,
    TrainSummary,
    beta_at,
    env_info,
    epsilon_at,
    make_replay,
    restore_training_checkpoint,
    session_seed,
    setting_label,
)
from ponder.agents.dqn.updates import Result, make_updates
from ponder.envs.atari.make import make_envs
from ponder.pacing import RateLimiter
from ponder.rundir import RunDir
from ponder.schedule import RunClock


def train_single(
    cfg: DQNConfig, run: RunDir, resume: bool = False, show_progress: bool = True
) -> TrainSummary:
    if cfg.train.torch_threads:
        torch.set_num_threads(cfg.train.torch_threads)
    torch.manual_seed(cfg.run.seed)
    return SingleProcessLoop(cfg, run, resume).train(show_progress)


class SingleProcessLoop(DQNTrainer):
    """One run's state in one process: the envs, the learner behind its update thread, the
    replay, the counters; `train` steps it to the end, Ctrl-C or an error."""

    def __init__(self, cfg: DQNConfig, run: RunDir, resume: bool) -> None:
        self.cfg, self.run, self.resume = cfg, run, resume
        self.rng = np.random.default_rng(cfg.run.seed)
        device = resolve_device(cfg.run.device)
        self.envs = make_envs(
            cfg.env.type, cfg.env.game, cfg.env.protocol, cfg.env.num_envs, seed=0
        )
        self.info = env_info(cfg, self.envs)
        envs = self.envs
        self.learner = DQNLearner(cfg, envs.stack, envs.frame_shape, envs.num_actions, device)
        self.replay = make_replay(cfg, envs, cfg.env.num_envs)
        self.counters, self.replay_restored = Counters(), False
        self.last_eval: EvalResult | None = None
        if resume:
            self.counters, self.replay_restored, self.last_eval = restore_training_checkpoint(
                run, cfg, self.learner, self.replay, self.rng, self.info
            )
        self.counters.sessions += 1
        envs.seed = session_seed(cfg, self.counters.sessions)  # known once the checkpoint is read
        self.clock = RunClock(self.counters.wall_seconds)
        self.recent = RecentEpisodes()
        self.pace = RateLimiter(cfg.train.replay_ratio, self.counters.update_credit)
        self.streams = np.arange(cfg.env.num_envs)
        num_envs = cfg.env.num_envs
        self.replay.begin(
            self.streams, envs.reset(), np.ones(num_envs, bool), np.zeros(num_envs, bool)
        )
        self.losses: list[float] = []
        self.updates = make_updates(self.learner, cfg.train.overlap_lag)
        self.eps = epsilon_at(cfg, self.counters.step)

    def train(self, show_progress: bool) -> TrainSummary:
        title = f"dqn {self.info['game']} ({setting_label(self.cfg)})"
        with dqn_display(title, self.cfg.run.steps, self.counters.step, show_progress) as bar:
            bar.message(self._start_note())
            return self.run_to_end(bar)

    def _start_note(self) -> str:
        if not self.resume:
            return f"training in {self.run.path}"
        note = "with its replay buffer" if self.replay_restored else "with an empty replay buffer"
        return f"resumed {self.run.path} at step {self.counters.step} {note}"

    # -- the Trainer the runner steps (step, evaluate and checkpoint come from DQNTrainer) ---
    def advance(self) -> None:
        self.eps = epsilon_at(self.cfg, self.counters.step)
        self._step(self.eps)

    def figures(self, rate: float | None) -> str:
        loss_now = float(np.mean(self.losses[-100:])) if self.losses else None
        return bar_figures(rate, self.recent.window_mean(), loss_now, self.eps)

    def log_row(self, rate: float | None) -> dict[str, Any]:
        values = {
            **self.recent.drain(),
            "loss": float(np.mean(self.losses)) if self.losses else None,
            "epsilon": self.eps,
            "updates": self.learner.updates,
            "steps_per_s": rate,
            "replay_size": self.replay.size,
        }
        self.losses = []
        return values

    def _settle(self) -> None:
        self._apply(self.updates.drain())  # the learner idles until the next batch arrives

    def close(self) -> None:
        self.updates.close()
        self.envs.close()
        self.run.close()

    # -- one step -----------------------------------------------------------------------------
    def _step(self, eps: float) -> None:
        """One step of every env, with the updates the replay ratio owes run meanwhile."""
        cfg, replay, updates = self.cfg, self.replay, self.updates
        actions = updates.act(replay.head_stacks(self.streams), eps, self.rng)
        live = self.envs.live()
        actions = self.envs.send(actions)  # as taken (the protocol may press FIRE)
        # Train while the emulators step (on their own threads): the batch comes from the
        # replay as it was before this step, a lag of one step.
        if replay.size >= cfg.train.learning_starts and replay.sampleable_mass > 0:
            self.pace.insert(live)
            beta = beta_at(cfg, self.counters.step)
            while self.pace.take():
                self._apply(updates.take_results())
                updates.submit(replay.sample(cfg.train.batch_size, self.rng, beta, updates.slot()))
            self._apply(updates.take_results())
        out = self.envs.recv()
        replay.commit(self.streams, actions, out.rewards, out.terminal)
        replay.begin(self.streams, out.frames, out.first, out.final)
        self.counters.step += live
        if out.episode_returns:
            self.counters.episodes += len(out.episode_returns)
            self.recent.add(out.episode_returns, out.episode_lengths)

    def _apply(self, results: list[Result]) -> None:
        for index, td_abs, loss in results:
            self.replay.update_priorities(index, td_abs)
            self.losses.append(loss)
