"""What the single-process loop and the Ape-X driver share: counters that survive a resume, the
epsilon and beta schedules, periodic evaluation, and checkpoints that restore a run exactly
(networks, optimizer, counters, random generators and, optionally, the replay buffer).

The one thing a resume cannot restore is the emulators' state mid-episode (the ALE vector env
exposes no snapshot): every env starts a fresh episode, and the replay marks each stream as
cut so no n-step return spans the gap.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ponder.agents.dqn.config import DQNConfig
from ponder.agents.dqn.evaluation import EvalResult, evaluate
from ponder.agents.dqn.replay import FrameReplay
from ponder.checkpoint import OptimizerMeta, dataclass_from_metadata, metadata_error
from ponder.envs.atari.make import make_envs
from ponder.envs.atari.protocols import get_protocol
from ponder.errors import PonderError
from ponder.pacing import RateLimiter
from ponder.progress import TrainingDisplay
from ponder.rundir import RunDir
from ponder.runner import Cadence, TrainerDefaults, run_training
from ponder.schedule import RunClock
from ponder.seeds import derive_seed


class _Meta(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)


class DQNNetworkMeta(_Meta):
    torso: str = Field(min_length=1, max_length=64)
    stack: int = Field(ge=1, le=64)
    frame_shape: list[Annotated[int, Field(ge=1, le=4096)]] = Field(min_length=1, max_length=4)
    num_actions: int = Field(ge=1, le=256)


class DQNLearnerMeta(_Meta):
    optimizer: OptimizerMeta
    updates: int = Field(ge=0)


class DQNCheckpointMeta(_Meta):
    """The schema of a DQN checkpoint's metadata (`save_training_checkpoint` writes it)."""

    algorithm: Literal["dqn"]
    game: str
    step: int = Field(ge=0)
    network: DQNNetworkMeta
    env: dict[str, Any]
    learner: DQNLearnerMeta | None = None
    counters: dict[str, Any] | None = None
    rng: dict[str, Any] | None = None
    replay_step: int | None = Field(None, ge=0)
    last_eval: dict[str, Any] | None = None


def validate_metadata(meta: dict[str, Any], where: str, resume: bool = False) -> DQNCheckpointMeta:
    """`meta` checked against `DQNCheckpointMeta` (and, to resume, the trainer state too)."""
    try:
        valid = DQNCheckpointMeta.model_validate(meta)
    except ValidationError as exc:
        raise metadata_error(where, exc) from None
    if resume:
        if valid.learner is None or valid.counters is None or valid.rng is None:
            raise PonderError(f"{where} holds weights only, no trainer state to resume from")
        dataclass_from_metadata(Counters, valid.counters, where, "counters")
        if valid.last_eval is not None:
            dataclass_from_metadata(EvalResult, valid.last_eval, where, "last_eval")
        try:
            np.random.default_rng(0).bit_generator.state = valid.rng
        except (TypeError, ValueError, KeyError) as exc:
            raise PonderError(f"{where}: metadata field 'rng': {exc}") from None
    return valid


def check_network(valid: DQNCheckpointMeta, cfg: DQNConfig, where: str) -> None:
    """The checkpoint's env kind and torso must be the config's: the weights of one torso do
    not load into another, and this says so in the config's own terms."""
    saved_type = valid.env.get("type")
    if saved_type != cfg.env.type:
        raise PonderError(
            f"{where} was trained on env.type {saved_type!r}, the config says {cfg.env.type!r}"
        )
    torso = valid.network.torso
    if torso != cfg.network.torso:
        raise PonderError(
            f"{where}: network torso={torso!r} does not match the config's {cfg.network.torso!r}"
        )


ALGORITHM = "dqn"
REPLAY_FOLDER = "replay"


@dataclass
class Counters:
    step: int = 0  # agent steps taken (dead autoreset steps excluded)
    episodes: int = 0
    wall_seconds: float = 0.0  # summed over every session of the run
    sessions: int = 0
    last_eval_step: int = -1
    actor_restarts: int = 0
    update_credit: float = 0.0  # updates owed by the replay ratio, carried across a resume


@dataclass
class RecentEpisodes:
    """Training episodes since the last log line, plus a 100-episode window for the bar."""

    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    window: deque = field(default_factory=lambda: deque(maxlen=100))

    def add(self, returns: list[float], lengths: list[int]) -> None:
        self.returns += returns
        self.lengths += lengths
        self.window.extend(returns)

    def window_mean(self) -> float | None:
        return float(np.mean(self.window)) if self.window else None

    def drain(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.returns:
            out = {
                "episode_return": float(np.mean(self.returns)),
                "episode_length": float(np.mean(self.lengths)),
                "episodes_logged": len(self.returns),
            }
        self.returns, self.lengths = [], []
        return out


def epsilon_at(cfg: DQNConfig, step: int) -> float:
    """Linear decay from eps_start to eps_end over eps_decay_steps, then flat."""
    t = cfg.train
    frac = min(1.0, step / t.eps_decay_steps)
    return t.eps_start + frac * (t.eps_end - t.eps_start)


def beta_at(cfg: DQNConfig, step: int) -> float:
    """Importance-sampling exponent, annealed to 1 by the end of training (Schaul et al.)."""
    frac = min(1.0, step / cfg.run.steps)
    return cfg.replay.beta_start + frac * (1.0 - cfg.replay.beta_start)


def protocol_info(cfg: DQNConfig) -> dict[str, Any] | None:
    return get_protocol(cfg.env.protocol).describe() if cfg.env.type == "atari" else None


def setting_label(cfg: DQNConfig) -> str:
    """What the scores were played under, for titles and reports."""
    if cfg.env.type == "atari":
        return f"{cfg.env.protocol} protocol"
    return {"minatar": "MinAtar", "classic": "classic control"}[cfg.env.type]


def env_info(cfg: DQNConfig, envs: Any) -> dict[str, Any]:
    return {
        "type": cfg.env.type,
        "game": envs.game,
        "protocol": protocol_info(cfg),
        "num_actions": envs.num_actions,
        "frame_shape": list(envs.frame_shape),
        "stack": envs.stack,
    }


def make_replay(cfg: DQNConfig, envs: Any, num_streams: int) -> FrameReplay:
    r = cfg.replay
    return FrameReplay(
        r.capacity,
        num_streams,
        envs.frame_shape,
        envs.frame_dtype,
        stack=envs.stack,
        n_step=cfg.agent.n_step,
        gamma=cfg.agent.gamma,
        prioritized=r.prioritized,
        alpha=r.alpha,
        priority_eps=r.priority_eps,
        reward_clip=r.reward_clip,
        num_actions=envs.num_actions,
    )


def session_seed(cfg: DQNConfig, session: int, *extra: int) -> int:
    """A fresh env seed for each session (and actor), so a resume does not replay episodes."""
    return derive_seed(cfg.run.seed, session, *extra)


def run_evaluation(
    cfg: DQNConfig, policy: Any, step: int, video_dir: Path | None = None
) -> EvalResult:
    """Evaluate `policy`; with `eval.video` (Atari, MinAtar) and a `video_dir`, film the first
    episode."""
    from ponder.agents.dqn.video import EpisodeVideo

    e = cfg.eval
    filming = e.video and cfg.env.type != "classic" and video_dir is not None
    envs = make_envs(
        cfg.env.type,
        cfg.env.game,
        cfg.env.protocol,
        min(e.num_envs, e.episodes),
        seed=derive_seed(cfg.run.seed, e.seed_offset, step),
        training=False,
        max_frames=e.max_frames,
        rgb=filming,
    )
    film = None
    if filming:
        path = Path(video_dir) / f"eval_{step:09d}.mp4"  # type: ignore[arg-type]
        title = f"{cfg.env.game} step {step}"
        film = EpisodeVideo(policy, envs, path, episodes=1, overlay=True, title=title)
    try:
        rng = np.random.default_rng([cfg.run.seed, e.seed_offset, step])
        result = evaluate(
            film or policy,
            envs,
            e.episodes,
            e.epsilon,
            rng,
            step,
            protocol_info(cfg),
            on_frames=film.on_frames if film else None,
        )
        if film is not None:
            film.close()
            film = None
        return result
    finally:
        if film is not None:
            film.abort()
        envs.close()


def log_evaluation(run: RunDir, result: EvalResult) -> dict[str, Any]:
    values = {
        "eval/mean": result.mean,
        "eval/median": result.median,
        "eval/ci95_low": result.ci95_low,
        "eval/ci95_high": result.ci95_high,
        "eval/episodes": result.episodes,
        "eval/epsilon": result.epsilon,
        "eval/max_frames": result.max_frames,
        "eval/protocol": result.protocol["name"] if result.protocol else None,
        "eval/returns": result.returns,
    }
    run.log(result.step, values)
    return values


# -- checkpoints ------------------------------------------------------------------------------
def save_training_checkpoint(
    run: RunDir,
    cfg: DQNConfig,
    learner: Any,
    replay: FrameReplay | None,
    counters: Counters,
    rng: np.random.Generator,
    envs_info: dict[str, Any],
    last_eval: EvalResult | None,
) -> Path:
    """Replay first (if asked), then weights + metadata, then the latest pointer: a kill at any
    point leaves the previous checkpoint whole, and a replay is only trusted if its step
    matches the checkpoint's."""
    replay_step = None
    if replay is not None and cfg.checkpoint.replay:
        replay.save(run.path / REPLAY_FOLDER, extra={"step": counters.step})
        replay_step = counters.step
    tensors, learner_meta = learner.state_tensors()
    meta = {
        "algorithm": ALGORITHM,
        "game": envs_info["game"],
        "env": envs_info,
        "network": learner.network_info(),
        "step": counters.step,
        "counters": asdict(counters),
        "learner": learner_meta,
        "rng": rng.bit_generator.state,
        "replay_step": replay_step,
        "compute": {
            "agent_steps": counters.step,
            "emulator_frames": counters.step * (envs_info["protocol"] or {}).get("frame_skip", 1),
            "updates": learner.updates,
            "wall_seconds": round(counters.wall_seconds, 3),
        },
        "last_eval": last_eval.record() if last_eval is not None else None,
    }
    stem = run.save_checkpoint(counters.step, tensors, meta, keep=cfg.checkpoint.keep)
    # A resume's overrides reach config.yaml only with a checkpoint made under them: a resume
    # that fails before its first one leaves the run's config as it was.
    from ponder.config import dump_config

    run.write_config(dump_config(cfg))
    return stem


def restore_training_checkpoint(
    run: RunDir,
    cfg: DQNConfig,
    learner: Any,
    replay: FrameReplay | None,
    rng: np.random.Generator,
    envs_info: dict[str, Any],
) -> tuple[Counters, bool, EvalResult | None]:
    """Load the run's latest checkpoint into `learner`, `rng` and (when saved) `replay`.
    Returns (counters, whether the replay was restored, the last evaluation)."""
    ckpt = run.load_latest(
        expect={"algorithm": ALGORITHM, "game": envs_info["game"]}, device=str(learner.device)
    )
    meta = ckpt.metadata
    where = f"checkpoint {ckpt.path}"
    valid = validate_metadata(meta, where, resume=True)
    check_network(valid, cfg, where)
    saved_protocol = valid.env.get("protocol")
    if saved_protocol != envs_info["protocol"]:
        name = saved_protocol.get("name") if isinstance(saved_protocol, dict) else None
        raise PonderError(
            f"{where} was trained under protocol {name!r}; scores do not carry across"
        )
    learner.load_state(ckpt)
    counters = dataclass_from_metadata(Counters, valid.counters, where, "counters")
    rng.bit_generator.state = valid.rng
    restored = False
    folder = run.path / REPLAY_FOLDER
    if replay is not None and meta.get("replay_step") is not None and folder.is_dir():
        # Only a buffer saved with this very checkpoint, and shaped like this session's (the
        # number of envs or actors may have changed), is loaded; otherwise it refills.
        saved_step = replay.saved_extra(folder).get("step")
        if saved_step == meta["replay_step"] and replay.matches_saved(folder):
            replay.load(folder)
            replay.mark_broken(np.arange(replay.num_streams))
            restored = True
    last = valid.last_eval
    last_eval = dataclass_from_metadata(EvalResult, last, where, "last_eval") if last else None
    return counters, restored, last_eval


def prepare_run(
    config: str | Path | None,
    overrides: list[str],
    out: str | Path | None = None,
    resume: str | Path | None = None,
    address: str | None = None,
) -> tuple[DQNConfig, RunDir, bool]:
    """(validated config, run directory, whether there is a checkpoint to resume from).

    A resumed run reads its own config.yaml; `overrides` still apply (to extend
    `run.steps`, say) and the updated config is written back with the next checkpoint.
    Bad configs, unknown games, unusable output paths and a cluster `address` that does not
    answer fail with one line before any directory is made or touched.
    """
    from ponder.agents.device import resolve_device
    from ponder.config import dump_config, load_run_config
    from ponder.envs.atari.make import check_env

    example = "configs/atari/<game>.yaml"
    cfg, opened = load_run_config(DQNConfig, config, overrides, out, resume, example)
    game = check_env(cfg.env.type, cfg.env.game, cfg.env.protocol)
    resolve_device(cfg.run.device)
    _check_address(cfg, address)
    if cfg.run.engine == "rllib":
        from ponder.selfplay.rllib_dqn import check_supported

        check_supported(cfg)
    if opened is not None:
        stem = opened.latest_checkpoint()
        if stem is not None:  # the checkpoint's metadata, checked before anything starts
            from ponder.checkpoint import check_expected, read_metadata

            meta = read_metadata(stem)
            check_expected(meta, {"algorithm": ALGORITHM}, stem)
            valid = validate_metadata(meta, f"checkpoint {stem}", resume=True)
            check_network(valid, cfg, f"checkpoint {stem}")
        check_replay_fits(cfg)
        opened.make_folders()
        return cfg, opened, stem is not None
    check_replay_fits(cfg)
    # MinAtar's games share names with ALE's: runs/dqn-minatar-breakout-<time>.
    kind = "minatar-" if cfg.env.type == "minatar" else ""
    run = RunDir.create(out, prefix=f"dqn-{kind}{game}")
    run.write_config(dump_config(cfg))
    return cfg, run, False


def check_replay_fits(cfg: DQNConfig) -> None:
    """Refuse a replay larger than the machine's memory before the run directory exists (the
    replay itself would refuse it too, but only once the run has started). One env is made to
    read the frame shape and dtype; its emulator starts in well under a second."""
    from ponder.agents.dqn.replay import replay_bytes
    from ponder.config import check_allocation

    envs = make_envs(cfg.env.type, cfg.env.game, cfg.env.protocol, 1, seed=0)
    try:
        frame_shape, frame_dtype = envs.frame_shape, envs.frame_dtype
    finally:
        envs.close()
    check_allocation(
        replay_bytes(cfg.replay.capacity, frame_shape, frame_dtype),
        f"the replay (replay.capacity={cfg.replay.capacity:,})",
    )


def _check_address(cfg: DQNConfig, address: str | None) -> None:
    if address is None:
        return
    if cfg.run.workers == 0 and cfg.run.engine != "rllib":
        raise PonderError(
            "--address joins a Ray cluster for Ape-X actors or RLlib: give --actors N or "
            "--engine rllib"
        )
    from ponder.selfplay.cluster import check_reachable

    check_reachable(address)


def eval_line(result: EvalResult) -> str:
    protocol = f", {result.protocol['name']} protocol" if result.protocol else ""
    return (
        f"eval @{result.step}: mean {result.mean:.2f} median {result.median:.2f} "
        f"95% CI [{result.ci95_low:.2f}, {result.ci95_high:.2f}] over {result.episodes} "
        f"episodes (eps {result.epsilon}{protocol})"
    )


@dataclass
class TrainSummary:
    step: int
    updates: int
    stop_reason: str
    last_eval: EvalResult | None
    checkpoint: Any


class DQNTrainer(TrainerDefaults):
    """What both DQN engines (the single-process loop, Ape-X) give the runner alike: the step,
    the evaluation and the checkpoint. Subclasses set the attributes below, step the run in
    `advance` and finish in-flight updates in `_settle`."""

    cfg: DQNConfig
    run: RunDir
    learner: Any
    replay: FrameReplay
    counters: Counters
    clock: RunClock
    pace: RateLimiter
    rng: np.random.Generator
    info: dict[str, Any]
    last_eval: EvalResult | None

    @property
    def step(self) -> int:
        return self.counters.step

    @property
    def last_eval_step(self) -> int:
        return self.counters.last_eval_step

    def _settle(self) -> None:
        """Finish updates in flight, so that the weights read next are the latest."""

    def evaluate(self, step: int) -> tuple[dict[str, float], str]:
        self._settle()
        self.last_eval = run_evaluation(self.cfg, self.learner, step, self.run.path / "videos")
        self.counters.last_eval_step = step
        log_evaluation(self.run, self.last_eval)
        return {"eval_return": self.last_eval.mean}, eval_line(self.last_eval)

    def checkpoint(self) -> Any:
        self._settle()
        self.counters.wall_seconds = self.clock.total_seconds()
        self.counters.update_credit = self.pace.credit
        return save_training_checkpoint(
            self.run,
            self.cfg,
            self.learner,
            self.replay,
            self.counters,
            self.rng,
            self.info,
            self.last_eval,
        )

    def run_to_end(self, display: TrainingDisplay) -> TrainSummary:
        """From the step reached to a stop rule, Ctrl-C or an error, through the one runner."""
        ending = run_training(self, Cadence.of(self.cfg), self.clock, display, self.run.log)
        return TrainSummary(
            self.counters.step,
            self.learner.updates,
            ending.reason,
            self.last_eval,
            ending.checkpoint,
        )
