"""Ape-X DQN on Ray (`ponder train dqn --actors N`): N `EnvWorker` actors act in parallel and
feed one shared prioritized replay; the learner (this process, on the GPU when there is one)
samples it and publishes weights through the object store.

    EnvWorker x N --chunks (one frame per step)--> replay + learner --weights--> EnvWorker x N

The learner holds the replay in its own memory, so sampling never crosses a process boundary;
only chunks in and weights out do. It keeps the configured replay ratio: it runs exactly
`replay_ratio` updates per agent step the actors deliver, and waits for chunks when it is
ahead. An actor that dies is replaced with a fresh seed; its replay streams are marked as cut
so no n-step return spans the gap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ponder.agents.device import resolve_device
from ponder.agents.dqn.config import DQNConfig
from ponder.agents.dqn.learner import DQNLearner
from ponder.agents.dqn.progress import bar_figures, dqn_display
from ponder.agents.dqn.training import (
    Counters,
    DQNTrainer,
    RecentEpisodes,
    TrainSummary,
    beta_at,
    env_info,
    make_replay,
    restore_training_checkpoint,
    session_seed,
)
from ponder.envs.atari.make import make_envs
from ponder.pacing import RateLimiter
from ponder.rundir import RunDir
from ponder.schedule import RunClock
from ponder.selfplay.apex_actor import EnvWorker, epsilon_ladder
from ponder.selfplay.cluster import ensure_ray
from ponder.selfplay.slots import WorkerSlot

# Actors inherit no environment from a driver that joined an existing cluster: say it here.
ACTOR_ENV = {"env_vars": {"OMP_WAIT_POLICY": "PASSIVE"}}


class ApexRun(DQNTrainer):
    def __init__(self, cfg: DQNConfig, run: RunDir, resume: bool, show_progress: bool = True):
        import ray

        self.cfg, self.run = cfg, run
        torch.manual_seed(cfg.run.seed)
        self.rng = np.random.default_rng(cfg.run.seed)
        probe = make_envs(cfg.env.type, cfg.env.game, cfg.env.protocol, 1, seed=0)
        self.info = env_info(cfg, probe)
        self.learner = DQNLearner(
            cfg, probe.stack, probe.frame_shape, probe.num_actions, resolve_device(cfg.run.device)
        )
        a = cfg.apex
        self.replay = make_replay(cfg, probe, cfg.run.workers * a.envs_per_actor)
        probe.close()
        self.counters, self.replay_restored, self.last_eval = Counters(), False, None
        if resume:
            self.counters, self.replay_restored, self.last_eval = restore_training_checkpoint(
                run, cfg, self.learner, self.replay, self.rng, self.info
            )
        self.counters.sessions += 1
        self.clock = RunClock(self.counters.wall_seconds)
        self.recent = RecentEpisodes()
        title = f"ape-x {self.info['game']} x{cfg.run.workers}"
        self.bar = dqn_display(title, cfg.run.steps, self.counters.step, show_progress)
        self.epsilons = epsilon_ladder(cfg.run.workers * a.envs_per_actor, a.eps_base, a.eps_alpha)
        cpus = float(ray.cluster_resources().get("CPU", 1.0))
        # The learner is this process, outside Ray's accounting; share the rest so every actor
        # can be placed even on a 2-core laptop.
        self.actor_cpus = max(0.01, min(1.0, (cpus - 1.0) / cfg.run.workers))
        self.weights_ref: Any = None
        self.weights_version = 0
        self.pending: dict[Any, WorkerSlot] = {}
        self.slots: list[WorkerSlot] = []
        self.pace = RateLimiter(cfg.train.replay_ratio, self.counters.update_credit)
        self.losses: list[float] = []

    # -- actors -------------------------------------------------------------------------------
    def _streams(self, index: int) -> np.ndarray:
        per_actor = self.cfg.apex.envs_per_actor
        return np.arange(index * per_actor, (index + 1) * per_actor)

    def _new_actor(self, index: int, incarnation: int) -> Any:
        import ray

        seed = session_seed(self.cfg, self.counters.sessions, index, incarnation)
        epsilons = self.epsilons[self._streams(index)].tolist()
        return (
            ray.remote(EnvWorker)
            .options(num_cpus=self.actor_cpus, runtime_env=ACTOR_ENV)
            .remote(self.cfg.model_dump(mode="json"), index, seed, epsilons)
        )

    def _launch(self, slot: WorkerSlot) -> None:
        ref = slot.handle.collect.remote([self.weights_ref], self.weights_version)
        slot.busy = True
        self.pending[ref] = slot

    def _publish(self) -> None:
        import ray

        self.weights_ref = ray.put(self.learner.actor_weights())
        self.weights_version += 1

    def _replace(self, slot: WorkerSlot, exc: BaseException) -> None:
        slot.replace(exc, self.cfg.apex.max_restarts, "env worker", self._new_actor)
        self.replay.mark_broken(self._streams(slot.index))
        self.counters.actor_restarts += 1
        self.bar.message(
            f"env worker {slot.index} died and was restarted ({exc.__class__.__name__})"
        )

    def start(self) -> None:
        self._publish()
        self.slots = [
            WorkerSlot(handle=self._new_actor(i, 0), index=i) for i in range(self.cfg.run.workers)
        ]
        for slot in self.slots:
            self._launch(slot)

    def actor_pids(self) -> list[int]:
        import ray

        return ray.get([slot.handle.pid.remote() for slot in self.slots])

    # -- the loop -----------------------------------------------------------------------------
    def _ingest(self, ref: Any) -> int:
        """Add one finished chunk to the replay; returns the agent steps it held."""
        import ray

        slot = self.pending.pop(ref)
        slot.busy = False
        try:
            chunk, stats = ray.get(ref)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
            self._replace(slot, exc)
            self._launch(slot)
            return 0
        slot.finished()
        self.replay.extend(self._streams(slot.index), **chunk)
        self._launch(slot)
        if stats["episode_returns"]:
            self.counters.episodes += len(stats["episode_returns"])
            self.recent.add(stats["episode_returns"], stats["episode_lengths"])
        return int(stats["steps"])

    def _learn(self) -> None:
        cfg = self.cfg
        ready = self.replay.size >= cfg.train.learning_starts and self.replay.sampleable_mass > 0
        if not ready:
            self.pace.forgive()
            return
        beta = beta_at(cfg, self.counters.step)
        while self.pace.take():
            batch = self.replay.sample(cfg.train.batch_size, self.rng, beta)
            td_abs, loss = self.learner.update(batch)
            self.replay.update_priorities(batch.index, td_abs)
            self.losses.append(loss)
            if self.learner.updates % cfg.apex.weights_every == 0:
                self._publish()

    def advance(self) -> None:
        """Take in the chunks that are ready (waiting for one when the learner has no update
        owed) and run the updates they owe."""
        import ray

        refs = list(self.pending)
        timeout = 0.0 if self.pace.due() else None
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0.0)
        for ref in ready:
            steps = self._ingest(ref)
            self.counters.step += steps
            self.pace.insert(steps)
        self._learn()

    def figures(self, rate: float | None) -> str:
        loss = float(np.mean(self.losses[-100:])) if self.losses else None
        return bar_figures(rate, self.recent.window_mean(), loss, None)

    def log_row(self, rate: float | None) -> dict[str, Any]:
        values = {
            **self.recent.drain(),
            "loss": float(np.mean(self.losses)) if self.losses else None,
            "updates": self.learner.updates,
            "steps_per_s": rate,
            "replay_size": self.replay.size,
            "weights_version": self.weights_version,
            "actor_restarts": self.counters.actor_restarts,
        }
        self.losses = []
        return values

    def close(self) -> None:
        import ray

        for slot in self.slots:
            ray.kill(slot.handle, no_restart=True)
        self.run.close()

    def train(self) -> TrainSummary:
        cfg = self.cfg
        with self.bar:
            note = ""
            if self.counters.sessions > 1:
                note = " (replay restored)" if self.replay_restored else " (empty replay)"
            self.bar.message(f"ape-x with {cfg.run.workers} actors in {self.run.path}{note}")
            self.start()
            return self.run_to_end(self.bar)


def train_apex(
    cfg: DQNConfig,
    run: RunDir,
    resume: bool,
    address: str | None = None,
    show_progress: bool = True,
) -> TrainSummary:
    """`ponder train dqn --actors N`: start or join Ray, then train until a stop condition."""
    if cfg.train.torch_threads:
        torch.set_num_threads(cfg.train.torch_threads)
    ensure_ray(address)
    return ApexRun(cfg, run, resume, show_progress).train()
