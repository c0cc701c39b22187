"""The single-process DQN loop, the default on one machine: act in N vectorized envs, store one
frame per env step, and run `replay_ratio` gradient updates per agent step once the replay
holds `learning_starts` steps, while the emulators compute the next step on their own threads.
Evaluations and checkpoints happen at fixed step intervals."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ponder.agents.device import resolve_device
from ponder.agents.dqn.config import DQNConfig
from ponder.agents.dqn.evaluation import EvalResult
from ponder.agents.dqn.learner import DQNLearner
from ponder.agents.dqn.progress import TrainProgress
from ponder.agents.dqn.training import (
    Counters,
    RecentEpisodes,
    Stopwatch,
    beta_at,
    early_stop,
    env_info,
    epsilon_at,
    log_evaluation,
    make_replay,
    restore_training_checkpoint,
    run_evaluation,
    save_training_checkpoint,
    session_seed,
    setting_label,
)
from ponder.agents.dqn.updates import Result, make_updates
from ponder.envs.atari.make import make_envs
from ponder.rundir import RunDir


@dataclass
class TrainSummary:
    step: int
    updates: int
    stop_reason: str
    last_eval: EvalResult | None
    checkpoint: Any


def crossed(before: int, after: int, every: int) -> bool:
    """Whether a multiple of `every` lies in (before, after]."""
    return after // every > before // every


def train_single(
    cfg: DQNConfig, run: RunDir, resume: bool = False, show_progress: bool = True
) -> TrainSummary:
    if cfg.train.torch_threads:
        torch.set_num_threads(cfg.train.torch_threads)
    torch.manual_seed(cfg.run.seed)
    rng = np.random.default_rng(cfg.run.seed)
    device = resolve_device(cfg.run.device)

    envs = make_envs(cfg.env.type, cfg.env.game, cfg.env.protocol, cfg.env.num_envs, seed=0)
    info = env_info(cfg, envs)
    learner = DQNLearner(cfg, envs.stack, envs.frame_shape, envs.num_actions, device)
    replay = make_replay(cfg, envs, cfg.env.num_envs)
    counters, replay_restored, last_eval = Counters(), False, None
    if resume:
        counters, replay_restored, last_eval = restore_training_checkpoint(
            run, cfg, learner, replay, rng, info
        )
    counters.sessions += 1
    envs.seed = session_seed(cfg, counters.sessions)  # known once the checkpoint is read
    watch = Stopwatch(counters)
    recent = RecentEpisodes()

    streams = np.arange(cfg.env.num_envs)
    num_envs = cfg.env.num_envs
    frames = envs.reset()
    replay.begin(streams, frames, np.ones(num_envs, bool), np.zeros(num_envs, bool))
    losses: list[float] = []
    updates = make_updates(learner, cfg.train.overlap_lag)

    def apply_results(results: list[Result]) -> None:
        for index, td_abs, loss in results:
            replay.update_priorities(index, td_abs)
            losses.append(loss)

    stop_reason = "reached run.steps"
    rate_mark = (time.monotonic(), counters.step)
    rate: float | None = None
    checkpoint = None
    title = f"dqn {info['game']} ({setting_label(cfg)})"
    if resume:
        note = "with its replay buffer" if replay_restored else "with an empty replay buffer"
        start_note = f"resumed {run.path} at step {counters.step} {note}"
    else:
        start_note = f"training in {run.path}"

    def checkpoint_now() -> Any:
        apply_results(updates.drain())  # the learner idles until the next batch arrives
        watch.tick()
        return save_training_checkpoint(run, cfg, learner, replay, counters, rng, info, last_eval)

    def close() -> None:
        updates.close()
        envs.close()
        run.close()

    with TrainProgress(title, cfg.run.steps, counters.step, show_progress) as bar:
        bar.message(start_note)
        try:
            while counters.step < cfg.run.steps:
                eps = epsilon_at(cfg, counters.step)
                actions = updates.act(replay.head_stacks(streams), eps, rng)
                live = envs.live()
                actions = envs.send(actions)  # as taken (the protocol may press FIRE)
                # Train while the emulators step (on their own threads): the batch comes from
                # the replay as it was before this step, a lag of one step.
                if replay.size >= cfg.train.learning_starts and replay.sampleable_mass > 0:
                    counters.update_credit += live * cfg.train.replay_ratio
                    beta = beta_at(cfg, counters.step)
                    while counters.update_credit >= 1.0:
                        apply_results(updates.take_results())
                        batch = replay.sample(cfg.train.batch_size, rng, beta, updates.slot())
                        updates.submit(batch)
                        counters.update_credit -= 1.0
                    apply_results(updates.take_results())
                out = envs.recv()
                replay.commit(streams, actions, out.rewards, out.terminal)
                replay.begin(streams, out.frames, out.first, out.final)
                before = counters.step
                counters.step += live
                if out.episode_returns:
                    counters.episodes += len(out.episode_returns)
                    recent.add(out.episode_returns, out.episode_lengths)

                step = counters.step
                if crossed(before, step, 1000) or step >= cfg.run.steps:
                    now = time.monotonic()
                    if now > rate_mark[0]:
                        rate = (step - rate_mark[1]) / (now - rate_mark[0])
                    rate_mark = (now, step)
                    loss_now = float(np.mean(losses[-100:])) if losses else None
                    bar.update(step, rate, recent.window_mean(), loss_now, eps)
                    if (why := early_stop(cfg, watch, None)) is not None:
                        stop_reason = why
                        break
                if crossed(before, step, cfg.run.log_every):
                    values = {
                        **recent.drain(),
                        "loss": float(np.mean(losses)) if losses else None,
                        "epsilon": eps,
                        "updates": learner.updates,
                        "steps_per_s": rate,
                        "replay_size": replay.size,
                    }
                    losses = []
                    run.log(step, {k: v for k, v in values.items() if v is not None})
                    bar.log_line(step, values)
                if crossed(before, step, cfg.eval.every):
                    apply_results(updates.drain())
                    last_eval = run_evaluation(cfg, learner, step, run.path / "videos")
                    counters.last_eval_step = step
                    log_evaluation(run, last_eval)
                    bar.message(eval_line(last_eval))
                    if (why := early_stop(cfg, watch, last_eval)) is not None:
                        stop_reason = why
                        break
                if crossed(before, step, cfg.checkpoint.every):
                    checkpoint = checkpoint_now()
        except KeyboardInterrupt:
            # Ctrl-C: keep the step reached, then end with the summary, as every trainer does.
            try:
                checkpoint = checkpoint_now()
            finally:
                close()
            bar.message(f"interrupted at step {counters.step}; checkpoint {checkpoint}")
            summary = TrainSummary(
                counters.step, learner.updates, "interrupted", last_eval, checkpoint
            )
            return summary
        except BaseException:
            close()  # the learner thread stops; the latest checkpoint stays the last good one
            raise
        if counters.last_eval_step != counters.step:
            apply_results(updates.drain())
            last_eval = run_evaluation(cfg, learner, counters.step, run.path / "videos")
            counters.last_eval_step = counters.step
            log_evaluation(run, last_eval)
            bar.message(eval_line(last_eval))
        checkpoint = checkpoint_now()
        bar.message(f"stopped at step {counters.step}: {stop_reason}; checkpoint {checkpoint}")
    close()
    return TrainSummary(counters.step, learner.updates, stop_reason, last_eval, checkpoint)


def eval_line(result: EvalResult) -> str:
    protocol = f", {result.protocol['name']} protocol" if result.protocol else ""
    return (
        f"eval @{result.step}: mean {result.mean:.2f} median {result.median:.2f} "
        f"95% CI [{result.ci95_low:.2f}, {result.ci95_high:.2f}] over {result.episodes} "
        f"episodes (eps {result.epsilon}{protocol})"
    )
