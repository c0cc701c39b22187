"""AlphaZero's parts for the one runner: starts the actors, moves data between them, and keeps
the schedule that only AlphaZero has.

    SelfPlayWorker x N --samples--> ReplayBuffer --batches--> LearnerActor --weights--> workers
                                                                  \\--weights--> MatchJudge

The actors run on a backend (selfplay/backend.py): Ray processes, or objects of this process
(`run.backend: inprocess`). The driver owns no data: samples go from a worker's result straight
into the replay actor, and weights are one object in the store whose reference the driver hands
on. The runner (ponder/runner.py) owns the cadence of logs, checkpoints and evaluations, the
stop rules, Ctrl-C and errors; the driver owns the schedule of its actors:

- it grants the learner only as many steps as keep trained samples at `train.sample_ratio`
  times the generated ones (so the learner waits for self-play instead of overfitting a stale
  buffer), and holds self-play back when the learner lags by more than about one round;
- every learner step that is a multiple of `selfplay.weights_every`, `run.log_every`,
  `checkpoint.every` or `eval.every` ends a grant, so publication, logs, checkpoints and
  evaluations happen at exact steps;
- evaluations run in their own actor beside training and reach the runner when they finish;
- a worker that dies is replaced (with a fresh seed) and the run goes on; `resume` picks up the
  optimizer, counters and schedules, and (with `checkpoint.replay`) the replay buffer, which the
  driver pulls from the replay actor at each checkpoint and writes beside the checkpoints as
  .npy arrays.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ponder.checkpoint import load_array_folder, save_array_folder
from ponder.errors import PonderError, user_error_in
from ponder.pacing import RateLimiter
from ponder.rundir import RunDir
from ponder.runner import Arrived, Cadence, TrainerDefaults, run_training
from ponder.schedule import RunClock, next_boundary
from ponder.selfplay.backend import get_backend, resolve_backend
from ponder.selfplay.progress import az_display, eval_summary, show_snapshot, snapshot_line
from ponder.selfplay.slots import WorkerSlot

# Steps per learner call at most: small enough that the driver sees progress often, large
# enough that the per-call overhead (one replay round trip) stays small.
MAX_STEPS_PER_CALL = 16
# A worker index that dies this many times in a row without finishing a round stops the run:
# something is wrong with every worker, not one unlucky process.
WORKER_RESTARTS_IN_A_ROW = 2  # the third death in a row of one worker ends the run
GAMES_FILE = "selfplay.jsonl"
REPLAY_FOLDER = "replay"  # in the run directory, beside checkpoints/
REPLAY_META = "replay.json"
FINAL_EVAL_WAIT_S = 120


@dataclass
class PipelineCounters:
    """Training compute and bookkeeping that survive a resume (stored in checkpoint metadata)."""

    games: int = 0
    positions: int = 0
    samples: int = 0  # rows sent to the replay buffer (the generated samples of sample_ratio)
    evaluations: int = 0  # network evaluations spent by self-play
    wall_seconds: float = 0.0  # training time summed over every session of the run
    worker_restarts: int = 0
    resigned: int = 0
    resign_checked: int = 0
    false_resigns: int = 0
    first_player_wins: int = 0
    draws: int = 0
    second_player_wins: int = 0
    plies: int = 0

    def compute(self, samples_trained: int) -> dict[str, Any]:
        return {
            "selfplay_games": self.games,
            "selfplay_positions": self.positions,
            "network_evaluations": self.evaluations,
            "learner_samples": samples_trained,
            "wall_seconds": round(self.wall_seconds, 3),
        }


@dataclass
class Summary:
    run: Path
    step: int
    stop_reason: str
    counters: PipelineCounters
    samples_trained: int
    last_checkpoint: Path | None
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    nodes: int = 1  # Ray nodes that ran self-play in this session


def resources_plan(cfg: Any, backend: Any) -> dict[str, Any]:
    """Where each actor runs, from what the backend offers.

    With a GPU the learner and the shared inference server split it. On Ray, a whole CPU each
    for the learner and every worker when the cluster has that many; otherwise every actor asks
    for a sliver, so that all of them are placed (Ray would wait forever for CPUs that do not
    exist) and the operating system shares the cores. Workers are spread over the nodes. In one
    process the actors take turns, so each uses torch's threads on every core.
    """
    resources = backend.resources()
    cpus = float(resources.get("CPU", 1.0))
    gpus = float(resources.get("GPU", 0.0))
    mode = cfg.selfplay.inference
    in_process = backend.name == "inprocess"
    use_server = not in_process and (mode == "actor" or (mode == "auto" and gpus >= 1))
    share = 1.0 if cpus >= cfg.run.workers + 1 else 0.01
    return {
        "use_inference_server": use_server,
        "device": "cuda" if gpus >= 1 else "cpu",
        "learner_gpus": (0.5 if use_server else 1.0) if gpus >= 1 else 0.0,
        "server_gpus": 0.5 if gpus >= 1 and use_server else 0.0,
        "learner_cpus": share,
        "worker_cpus": share,
        "threads": max(1, int(cpus)) if in_process else 1,
        "cluster_cpus": cpus,
        "cluster_gpus": gpus,
    }


class AZPipeline(TrainerDefaults):
    """One training session of a run directory (fresh, or resumed from its latest checkpoint):
    AlphaZero's parts for the one runner (`ponder.runner.run_training`), on either backend."""

    def __init__(
        self,
        cfg: Any,
        run: RunDir,
        checkpoint: Any = None,
        progress: bool = False,
        console: Any = None,
        backend: str | None = None,  # as resolved for the session (None: from the config)
    ):
        from ponder.envs.registry import get_game

        self.cfg = cfg
        self.config_dict = cfg.model_dump(mode="json")
        self.game = get_game(cfg.game)
        self.backend = get_backend(backend or resolve_backend(cfg))
        self.rundir = run
        self.checkpoint_in = checkpoint
        self.display = az_display(self.game.name, cfg.run.steps, progress, console)
        self.counters = PipelineCounters()
        if checkpoint is not None:
            self.counters = counters_from_metadata(checkpoint)
        self.step = 0
        self.last_eval_step = -1  # the step of the last evaluation asked for
        self.samples_trained = 0
        self.rows_this_session = 0  # rows in the replay since this session began (restored too)
        self.round_samples = 0.0  # running mean of rows per worker round
        self.losses: dict[str, float] = {}
        self.loss_sums: dict[str, float] = {}
        self.loss_steps = 0
        self.weights_ref: Any = None
        self.weights_step = -1
        self.latest_eval: dict[str, Any] | None = None
        self.eval_history: list[dict[str, Any]] = []
        self.eval_wanted: tuple[Any, int] | None = None
        self.eval_ref: Any = None
        self.arrived: list[Arrived] = []  # evaluations finished, not yet handed to the runner
        self.learner_ref: Any = None
        self.worker_refs: dict[Any, tuple[WorkerSlot, Any]] = {}
        self.last_checkpoint: Path | None = None
        self.last_checkpoint_step = -1
        self.status = ""
        self.nodes: set[str] = set()  # nodes whose workers finished a round this session
        self.clock = RunClock(self.counters.wall_seconds)  # restarted when the run starts
        self.log_mark = (0, 0, 0.0)  # positions, games, wall seconds at the last log line
        self.workers: list[WorkerSlot] = []
        self.learner: Any = None
        self.replay: Any = None
        self.server: Any = None
        self.judge: Any = None  # started at the first evaluation (many runs never get one)

    # -- actors -------------------------------------------------------------------------------
    def _start_actors(self) -> None:
        from ponder.selfplay.inference import InferenceServer
        from ponder.selfplay.learner import LearnerActor
        from ponder.selfplay.replay import ReplayBuffer

        b = self.backend
        self.plan = plan = resources_plan(self.cfg, b)
        train = self.cfg.train
        self.replay = b.start(
            ReplayBuffer,
            train.replay_window,
            self.cfg.run.seed,
            train.replay_window_start,
            num_cpus=0,
        )
        ckpt_ref = b.put(self.checkpoint_in) if self.checkpoint_in is not None else None
        self.learner = b.start(
            LearnerActor,
            self.config_dict,
            self.replay,
            plan["device"],
            ckpt_ref,
            plan["threads"],
            b,
            num_cpus=plan["learner_cpus"],
            num_gpus=plan["learner_gpus"],
        )
        if plan["use_inference_server"]:
            self.server = b.start(
                InferenceServer,
                self.cfg.game,
                self.cfg.network.model_dump(mode="json"),
                plan["device"],
                self.cfg.train.mixed_precision,
                num_cpus=0,
                num_gpus=plan["server_gpus"],
                max_concurrency=1000,
            )
        self.workers = [self._new_worker(i, 0) for i in range(self.cfg.run.workers)]
        counters = b.get(self.learner.counters.remote())
        self.step, self.samples_trained = counters["step"], counters["samples_trained"]
        self.pace = RateLimiter(
            self.cfg.train.sample_ratio,
            self.cfg.train.sample_ratio * self.counters.samples - self.samples_trained,
        )
        self.last_checkpoint_step = self.step if self.checkpoint_in is not None else -1
        self._restore_replay()
        self._publish(b.get(self.learner.publish.remote()), self.step)

    def _restore_replay(self) -> None:
        """Refill the replay saved with the checkpoint being resumed; a missing or damaged
        copy, or one from another step (a kill between the two writes), is reported and
        skipped: the run refills it with fresh positions."""
        if self.checkpoint_in is None:
            return
        step = self.checkpoint_in.metadata.get("replay_step")
        if step is None:
            return
        why = ""
        try:
            arrays, meta = load_array_folder(self.rundir.path / REPLAY_FOLDER, REPLAY_META)
        except PonderError as exc:
            why = str(exc)
        else:
            from ponder.selfplay.replay import snapshot_problem

            why = snapshot_problem(arrays, meta, self.game) or ""
            if not why and meta.get("step") == step:
                restored = self.backend.get(self.replay.restore.remote(arrays, meta))
                self.rows_this_session = restored
                self.display.message(f"replay restored: {self.rows_this_session} positions")
                return
            why = why or f"the saved replay is from step {meta.get('step')}, not {step}"
        self.display.message(f"replay not restored ({why}); waiting for fresh positions")

    def _new_worker(self, index: int, incarnation: int) -> WorkerSlot:
        from ponder.selfplay.worker import SelfPlayWorker

        handle = self.backend.start(
            SelfPlayWorker,
            self.config_dict,
            index,
            incarnation,
            self.server,
            self.plan["threads"],
            self.backend,
            num_cpus=self.plan["worker_cpus"],
            scheduling_strategy="SPREAD",
        )
        return WorkerSlot(handle=handle, index=index, incarnation=incarnation)

    def _publish(self, weights: list[Any], step: int) -> None:
        self.weights_ref, self.weights_step = weights[0], step
        if self.server is not None:
            self.server.set_weights.remote(self.weights_ref, step)

    def worker_pids(self) -> list[int]:
        return self.backend.get([w.handle.pid.remote() for w in self.workers])

    def _kill_actors(self) -> None:
        for handle in [
            *(w.handle for w in self.workers),
            self.learner,
            self.judge,
            self.replay,
            self.server,
        ]:
            if handle is not None:
                self.backend.kill(handle)

    # -- schedule -----------------------------------------------------------------------------
    def _replay_ready(self) -> bool:
        return self.rows_this_session >= min(
            self.cfg.train.min_replay, self.cfg.train.replay_window
        )

    def _learner_lag_steps(self) -> float:
        """Learner steps owed to reach the target sample ratio."""
        return self.pace.credit / self.cfg.train.batch_size

    def _next_boundary(self) -> int:
        c = self.cfg
        cadences = (c.selfplay.weights_every, c.run.log_every, c.checkpoint.every, c.eval.every)
        return next_boundary(self.step, cadences, c.run.steps)

    def _grant(self) -> int:
        if not self._replay_ready() or self.step >= self.cfg.run.steps:
            return 0
        owed = math.floor(self._learner_lag_steps())
        return max(0, min(owed, self._next_boundary() - self.step, MAX_STEPS_PER_CALL))

    def _selfplay_may_run(self) -> bool:
        """Hold self-play back while the learner owes more than one round of every worker."""
        if not self._replay_ready():
            return True
        round_steps = (
            self.cfg.train.sample_ratio
            * self.round_samples
            * len(self.workers)
            / self.cfg.train.batch_size
        )
        return self._learner_lag_steps() <= round_steps + MAX_STEPS_PER_CALL

    def _games_per_round(self) -> int:
        return max(1, self.cfg.selfplay.concurrent_games // 2)

    def _at_publish_step(self, step: int) -> bool:
        c = self.cfg
        return (
            step % c.selfplay.weights_every == 0 or step % c.eval.every == 0 or step >= c.run.steps
        )

    def _tick_clock(self) -> None:
        self.counters.wall_seconds = self.clock.total_seconds()

    # -- the session --------------------------------------------------------------------------
    def run(self) -> Summary:
        """Start the actors, then step through the one runner until a stop rule, Ctrl-C or an
        error (after which a checkpoint of the step reached is still attempted)."""
        self.clock = RunClock(self.counters.wall_seconds)
        where = "on Ray" if self.backend.name == "ray" else "in this process"
        with self.display:
            self.display.message(f"starting actors {where} for run {self.rundir.path}")
            try:
                self._start_actors()
                # Only now: a resume whose overrides cannot run must leave config.yaml as it was.
                self.rundir.write_config(_dump(self.cfg))
            except BaseException:
                self.close()
                raise
            cadence = replace(
                Cadence.of(self.cfg),
                final_eval=False,  # evaluations run beside training, at eval.every only
                final_eval_wait_s=FINAL_EVAL_WAIT_S,
                checkpoint_on_error=True,
            )
            ending = run_training(self, cadence, self.clock, self.display, self._write_log)
        return Summary(
            run=self.rundir.path,
            step=self.step,
            stop_reason=ending.reason,
            counters=self.counters,
            samples_trained=self.samples_trained,
            last_checkpoint=self.last_checkpoint,
            evaluations=self.eval_history,
            nodes=len(self.nodes),
        )

    def advance(self) -> None:
        """Hand out work (self-play rounds, a learner grant), then take in what finished within
        half a second. On the in-process backend the work runs as it is handed out."""
        self._tick_clock()
        for slot in self.workers:
            if not slot.busy and self._selfplay_may_run():
                samples_ref, stats_ref = slot.handle.play.options(num_returns=2).remote(
                    self._games_per_round(), [self.weights_ref], self.weights_step
                )
                self.worker_refs[stats_ref] = (slot, samples_ref)
                slot.busy = True
        grant = self._grant() if self.learner_ref is None else 0
        if grant:
            publish = self._at_publish_step(self.step + grant)
            self.learner_ref = self.learner.train.remote(grant, publish)
        pending = [*self.worker_refs, *([self.learner_ref] if self.learner_ref is not None else [])]
        if self.eval_ref is not None:
            pending.append(self.eval_ref)
        if not pending:
            time.sleep(0.05)
            return
        ready = self.backend.wait(pending, 1, 0.5)
        if ready:
            ready = self.backend.wait(pending, len(pending), 0)
        for ref in ready:
            if ref in self.worker_refs:
                slot, samples_ref = self.worker_refs.pop(ref)
                self._on_worker_result(slot, ref, samples_ref)
            elif ref == self.learner_ref:
                self.learner_ref = None
                self._on_learner_result(ref)
            elif ref == self.eval_ref:
                self._on_eval_result(ref)
        show_snapshot(self.display, self._snapshot())

    def figures(self, rate: float | None) -> str:
        return f"{self._snapshot()['positions_per_s']:.0f} positions/s"

    def log_line(self, step: int, total: int, values: dict[str, Any]) -> str:
        return snapshot_line(self._snapshot())

    # -- results ------------------------------------------------------------------------------
    def _on_worker_result(self, slot: WorkerSlot, stats_ref: Any, samples_ref: Any) -> None:
        import ray

        slot.busy = False
        try:
            stats = self.backend.get(stats_ref)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
            self._replace_worker(slot, exc)
            return
        except ray.exceptions.RayTaskError as exc:
            raise_user_error(exc)
            raise
        slot.finished()
        self.nodes.add(stats["node"])
        self.replay.add.remote(samples_ref, stats["games"])
        c = self.counters
        c.games += stats["games"]
        c.positions += stats["positions"]
        c.samples += stats["samples"]
        self.pace.insert(stats["samples"])
        c.evaluations += stats["evaluations"]
        for key in ("resigned", "resign_checked", "false_resigns", "plies"):
            setattr(c, key, getattr(c, key) + stats[key])
        for key in ("first_player_wins", "draws", "second_player_wins"):
            setattr(c, key, getattr(c, key) + stats[key])
        self.rows_this_session += stats["samples"]
        self.round_samples = (
            stats["samples"]
            if self.round_samples == 0
            else 0.8 * self.round_samples + 0.2 * stats["samples"]
        )
        if stats["records"]:
            with open(self.rundir.games / GAMES_FILE, "a") as handle:
                for record in stats["records"]:
                    row = {"step": self.step, "worker": slot.index, "game": self.game.name}
                    handle.write(json.dumps({**row, **record}) + "\n")

    def _replace_worker(self, slot: WorkerSlot, exc: BaseException) -> None:
        user = user_error_in(exc)
        if user is not None:  # the same input fails in every fresh worker: say it once
            raise user from None
        slot.replace(
            exc,
            WORKER_RESTARTS_IN_A_ROW,
            "self-play worker",
            lambda index, incarnation: self._new_worker(index, incarnation).handle,
        )
        self.counters.worker_restarts += 1
        self.status = f"worker {slot.index} died and was restarted"
        self.display.message(self.status)

    def _on_learner_result(self, ref: Any) -> None:
        import ray

        try:
            out = self.backend.get(ref)
        except ray.exceptions.RayActorError as exc:
            raise_user_error(exc)
            raise PonderError(
                f"the learner process died ({str(exc).splitlines()[0]}); continue the run with "
                f"--resume {self.rundir.path}"
            ) from None
        except ray.exceptions.RayTaskError as exc:
            raise_user_error(exc)
            raise
        self.pace.consume(out["samples_trained"] - self.samples_trained)
        self.step, self.samples_trained = out["step"], out["samples_trained"]
        for key, value in out["losses"].items():
            self.loss_sums[key] = self.loss_sums.get(key, 0.0) + value * out["steps"]
        self.loss_steps += out["steps"]
        if "weights" in out:
            self._publish(out["weights"], self.step)

    def _settle_learner(self) -> None:
        """Take in the learner's grant in flight, so a checkpoint names the step it holds."""
        if self.learner_ref is not None:
            ref, self.learner_ref = self.learner_ref, None
            self._on_learner_result(ref)

    # -- evaluations --------------------------------------------------------------------------
    def evaluate(self, step: int) -> None:
        """Evaluate the weights of this step (published at every eval.every) as soon as the
        judge is free; the result arrives through `evaluations`."""
        self.last_eval_step = step
        if self.eval_ref is None:
            self.eval_ref = self._judge().evaluate.remote(self.weights_ref, self.weights_step)
        else:
            self.eval_wanted = (self.weights_ref, self.weights_step)

    def evaluations(self, wait_s: float = 0.0) -> list[Arrived]:
        """The evaluations finished since the last call (one just asked for on the in-process
        backend included); with `wait_s`, self-play stops and the running one gets that long."""
        if wait_s > 0 and self.eval_ref is not None:
            for slot in self.workers:  # self-play is over: free the cores for the evaluation
                self.backend.kill(slot.handle)
            self.display.message(f"waiting up to {wait_s / 60:g} minutes for the last evaluation")
        if self.eval_ref is not None and self.backend.wait([self.eval_ref], 1, wait_s):
            self._on_eval_result(self.eval_ref)
        arrived, self.arrived = self.arrived, []
        return arrived

    def _judge(self) -> Any:
        from ponder.selfplay.evaluation import MatchJudge

        if self.judge is None:
            self.judge = self.backend.start(
                MatchJudge, self.config_dict, self.plan["threads"], num_cpus=0
            )
        return self.judge

    def _on_eval_result(self, ref: Any) -> None:
        import ray

        self.eval_ref = None
        try:
            result = self.backend.get(ref)
        except ray.exceptions.RayActorError as exc:
            raise_user_error(exc)
            self.display.message(
                f"the evaluation judge died ({str(exc).splitlines()[0]}); restarting"
            )
            self.judge = None  # the next evaluation starts a fresh one
            result = None
        except ray.exceptions.RayTaskError as exc:
            raise_user_error(exc)
            raise
        if result is not None:
            self.latest_eval = result
            self.eval_history.append(result)
            self.rundir.log(
                result["step"],
                {"kind": "eval", **result["metrics"], "eval_seconds": result["seconds"]},
                prefix="eval/",
            )
            self.arrived.append((result["step"], result["metrics"], eval_summary(result)))
        if self.eval_wanted is not None:
            weights, step = self.eval_wanted
            self.eval_wanted = None
            self.eval_ref = self._judge().evaluate.remote(weights, step)

    # -- logs and checkpoints -----------------------------------------------------------------
    def log_row(self, rate: float | None) -> dict[str, Any]:
        c = self.counters
        positions0, games0, wall0 = self.log_mark
        seconds = max(c.wall_seconds - wall0, 1e-9)
        losses = {k: v / max(self.loss_steps, 1) for k, v in self.loss_sums.items()}
        self.losses = losses
        self.loss_sums, self.loss_steps = {}, 0
        games = max(c.games, 1)
        values: dict[str, Any] = {
            "kind": "train",
            **losses,
            "games": c.games,
            "positions": c.positions,
            "network_evaluations": c.evaluations,
            "learner_samples": self.samples_trained,
            "sample_ratio": self.samples_trained / max(c.samples, 1),
            "positions_per_s": (c.positions - positions0) / seconds,
            "games_per_s": (c.games - games0) / seconds,
            "wall_seconds": c.wall_seconds,
            "mean_game_length": c.plies / games,
            "first_player_win_share": c.first_player_wins / games,
            "draw_share": c.draws / games,
            "worker_restarts": c.worker_restarts,
            "selfplay_nodes": len(self.nodes),
            "resign_share": c.resigned / games,
            "false_resign_rate": c.false_resigns / max(c.resign_checked, 1),
        }
        if self.server is not None:
            values.update(self.backend.get(self.server.stats.remote()))
        self.log_mark = (c.positions, c.games, c.wall_seconds)
        show_snapshot(self.display, self._snapshot(), logged=self.display.is_live)
        return values

    def _write_log(self, step: int, values: dict[str, Any]) -> None:
        self.rundir.log(step, values, prefix="train/")

    def checkpoint(self) -> Path | None:
        """The learner's state at the step it holds (atomic), with the replay when
        `checkpoint.replay`; nothing new when that step is already saved."""
        self._settle_learner()
        self._tick_clock()
        if self.step == self.last_checkpoint_step:
            return self.last_checkpoint
        tensors, meta = self.backend.get(
            self.learner.checkpoint.remote(self.counters.compute(self.samples_trained))
        )
        meta["pipeline"] = asdict(self.counters)
        meta["replay_step"] = None
        if self.cfg.checkpoint.replay:
            # The replay first, then the checkpoint naming its step: a kill in between leaves
            # the previous checkpoint, whose step no longer matches, so resume skips the copy.
            arrays, replay_meta = self.backend.get(self.replay.snapshot.remote())
            save_array_folder(
                self.rundir.path / REPLAY_FOLDER,
                arrays,
                {**replay_meta, "step": meta["step"]},
                REPLAY_META,
            )
            meta["replay_step"] = meta["step"]
        self.last_checkpoint = self.rundir.save_checkpoint(
            meta["step"],
            tensors,
            meta,
            keep=self.cfg.checkpoint.keep,
            log_spaced_every=(
                self.cfg.checkpoint.every if self.cfg.checkpoint.keep_log_spaced else 0
            ),
        )
        self.last_checkpoint_step = meta["step"]
        return self.last_checkpoint

    def close(self) -> None:
        """Stop every actor and close the run directory, with the run's last snapshot."""
        self._tick_clock()
        try:
            show_snapshot(self.display, self._snapshot())
            self.display.message(
                f"run directory: {self.rundir.path}"
                + (f"; latest checkpoint: {self.last_checkpoint}" if self.last_checkpoint else "")
            )
        finally:
            self._kill_actors()
            self.rundir.close()

    def _snapshot(self) -> dict[str, Any]:
        c = self.counters
        session = max(self.clock.session_seconds(), 1e-9)
        return {
            "game": self.game.name,
            "run": str(self.rundir.path),
            "wall_seconds": c.wall_seconds,
            "games": c.games,
            "positions": c.positions,
            "positions_per_s": (c.positions - self._positions_at_start()) / session,
            "workers": len(self.workers),
            "worker_restarts": c.worker_restarts,
            "step": self.step,
            "max_steps": self.cfg.run.steps,
            "sample_ratio": self.samples_trained / max(c.samples, 1),
            "target_ratio": self.cfg.train.sample_ratio,
            "losses": self.losses,
            "evaluation": self.latest_eval,
            "status": self.status,
        }

    def _positions_at_start(self) -> int:
        if self.checkpoint_in is None:
            return 0
        return int((self.checkpoint_in.metadata.get("pipeline") or {}).get("positions", 0))


def raise_user_error(exc: BaseException) -> None:
    """A PonderError raised inside an actor (in a task, or in its constructor, which Ray
    reports as ActorDiedError) reaches the user as its one line, not Ray's traceback; any
    other failure in an actor is a bug and propagates unchanged."""
    user = user_error_in(exc)
    if user is not None:
        raise PonderError(str(user)) from None


def counters_from_metadata(checkpoint: Any) -> PipelineCounters:
    """The counters a checkpoint's metadata stores under `pipeline`, validated by type."""
    from ponder.checkpoint import dataclass_from_metadata

    saved = checkpoint.metadata.get("pipeline")
    where = f"checkpoint {checkpoint.path}"
    return dataclass_from_metadata(PipelineCounters, saved or {}, where, "pipeline")


def check_opponents(cfg: Any, game: Any) -> None:
    """Every evaluation opponent must be a valid player for the game before training starts,
    not when the first evaluation comes due."""
    from ponder.arena.specs import check_player_for_game, make_player
    from ponder.envs.solvers import SLOW_FROM_OPENINGS, get_solver
    from ponder.selfplay.evaluation import SOLVER_SPEC, opponent_specs

    specs = opponent_specs(cfg, get_solver(game.name) is not None)
    if SOLVER_SPEC in specs and game.name in SLOW_FROM_OPENINGS:
        # It would stall every evaluation (and hold a core) for hours; say so now.
        raise PonderError(
            f"the {game.name} solver needs up to minutes per move early in a game, too slow for "
            "periodic evaluation games: set eval.solver: false and drop 'solver' from "
            "eval.opponents"
        )
    for spec in specs:
        check_player_for_game(make_player(spec, game), game)


def check_evaluation(cfg: Any, game: Any) -> None:
    """Everything the evaluator will need, checked before training starts: opponents, the
    opening set, the exhaustive check's game, and stop_when keys that can fire."""
    from ponder.arena.openings import opening_book
    from ponder.envs.solvers import get_solver
    from ponder.selfplay.evaluation import check_stop_when

    check_opponents(cfg, game)
    opening_book(game, cfg.eval.openings, seed=0)
    if cfg.eval.exhaustive:
        from ponder.arena.perfect import check_exhaustive_game

        check_exhaustive_game(game)
    check_stop_when(cfg, get_solver(game.name) is not None)


def check_sizes(cfg: Any, game: Any) -> None:
    """The memory the run will allocate (search trees of self-play and evaluation, the
    replay), against the machine's: a size that cannot be allocated fails now, in one line,
    not in an actor after the run directory exists."""
    from ponder.arena.match import DEFAULT_BATCH_GAMES
    from ponder.config import check_allocation
    from ponder.search.layout import EDGE_BYTES, NODE_BYTES

    actions = int(game.num_actions)

    def tree_bytes(batch: int, sims: int, max_nodes: int | None) -> float:
        return float(batch) * (max_nodes or 2 * (sims + 1)) * (NODE_BYTES + actions * EDGE_BYTES)

    search = cfg.selfplay.search
    check_allocation(
        cfg.run.workers
        * tree_bytes(cfg.selfplay.concurrent_games, search.num_simulations, search.max_nodes),
        "self-play search trees (run.workers x selfplay.concurrent_games x search.num_simulations)",
    )
    check_allocation(
        tree_bytes(min(cfg.eval.games, DEFAULT_BATCH_GAMES), max(cfg.eval.simulations, 1), None),
        "evaluation search trees (eval.simulations)",
    )
    row = math.prod(int(d) for d in game.obs_shape) * 4 + actions * 5 + 8
    check_allocation(float(cfg.train.replay_window) * row, "the replay (train.replay_window)")
    check_allocation(4.0 * cfg.train.batch_size * row, "a learner batch (train.batch_size)")


def _dump(cfg: Any) -> str:
    from ponder.config import dump_config

    return dump_config(cfg)


@dataclass
class RunRequest:
    """A training request that passed every check; nothing has been written for it yet."""

    cfg: Any
    path: Path
    resume: bool
    checkpoint: Any = None


def validate_run(
    config: str | Path | None,
    overrides: list[str],
    out: str | Path | None = None,
    resume: str | Path | None = None,
) -> RunRequest:
    """Check the whole request without writing anything: config and overrides, opponents,
    stop rules and sizes, the output directory, and (resuming) that the latest checkpoint fits
    the config, schema, shapes and optimizer included."""
    from ponder.agents.alphazero.config import AZConfig
    from ponder.agents.alphazero.inference_backends import check_backend
    from ponder.agents.alphazero.learner import check_resumable
    from ponder.config import load_run_config
    from ponder.envs.registry import get_game

    cfg, run = load_run_config(AZConfig, config, overrides, out, resume, "configs/<game>.yaml")
    game = get_game(cfg.game)
    check_evaluation(cfg, game)  # one-line errors before a directory is made
    check_sizes(cfg, game)
    check_backend(cfg.selfplay.inference_backend)  # its packages, here rather than in a worker
    if run is not None:
        checkpoint = None
        if run.latest_checkpoint() is not None:
            checkpoint = run.load_latest(expect={"game": cfg.game, "algorithm": "alphazero"})
            check_resumable(checkpoint, game, cfg)
            counters_from_metadata(checkpoint)
        return RunRequest(cfg, run.path, True, checkpoint)
    return RunRequest(cfg, RunDir.check_new(out, prefix=f"az-{cfg.game}"), False)


def open_run(request: RunRequest) -> RunDir:
    """The run directory of a validated request: created (with its config) or reopened."""
    if request.resume:
        return RunDir.open(request.path)
    run = RunDir.create(request.path, prefix=f"az-{request.cfg.game}")
    run.write_config(_dump(request.cfg))
    return run


def prepare_run(
    config: str | Path | None,
    overrides: list[str],
    out: str | Path | None = None,
    resume: str | Path | None = None,
) -> tuple[Any, RunDir, Any]:
    """The validated config, the run directory and (when resuming) its latest checkpoint.

    A resumed run reads its own config.yaml; `overrides` still apply (to extend
    `run.steps`, say) and are written back once the run has started. A run
    killed before its first checkpoint starts over.
    """
    request = validate_run(config, overrides, out, resume)
    return request.cfg, open_run(request), request.checkpoint


def train_alphazero(
    config: str | Path | None = None,
    overrides: list[str] | None = None,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    address: str | None = None,
    progress: bool = False,
    console: Any = None,
) -> Summary:
    """`ponder train az`: check the request, start or join Ray (on the Ray backend), then (only
    then) create or reopen the run directory, and train until a stop condition."""
    from ponder.selfplay.cluster import ensure_ray

    request = validate_run(config, list(overrides or []), out, resume)
    if request.cfg.run.backend == "inprocess" and address is not None:
        raise PonderError(
            "--address joins a Ray cluster, but run.backend is inprocess: set run.backend=ray"
        )
    backend = resolve_backend(request.cfg, address)
    if backend == "ray":
        ensure_ray(address)
    run = open_run(request)
    return AZPipeline(
        request.cfg, run, request.checkpoint, progress=progress, console=console, backend=backend
    ).run()
