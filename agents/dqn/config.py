"""The DQN config: every switch that separates vanilla DQN, Double DQN and a Rainbow-lite agent
is a key here, so those are YAML files in configs/, not code forks. Steps are agent steps
(one action of one env = 4 emulator frames on Atari) unless a key says frames or updates."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ponder.config import CheckpointSection, RenamingModel, RunSection, StrictModel


class EnvConfig(StrictModel):
    type: Literal["atari", "classic", "minatar"] = "atari"
    # ALE ROM id (breakout, ms_pacman), a gymnasium id (CartPole-v1) or a MinAtar game (seaquest)
    game: str = "pong"
    protocol: Literal["machado", "nature"] = "machado"  # Atari only; see envs/atari/protocols
    num_envs: int = Field(8, ge=1, le=1024)


class NetworkConfig(StrictModel):
    # nature_cnn: Atari's 84x84 stacks; mlp: vector observations; minatar_cnn: MinAtar's grid.
    torso: Literal["nature_cnn", "mlp", "minatar_cnn"] = "nature_cnn"
    mlp_hidden: list[int] = Field(default_factory=lambda: [128, 128])
    # Width of the Q (or value/advantage) hidden layer.
    head_hidden: int = Field(512, ge=1, le=1 << 16)
    dueling: bool = True


class AgentConfig(StrictModel):
    double: bool = True  # the online net picks the bootstrap action, the target net scores it
    n_step: int = Field(3, ge=1, le=100)
    gamma: float = Field(0.99, gt=0.0, le=1.0)
    loss: Literal["huber", "mse"] = "huber"
    lr: float = Field(6.25e-5, gt=0.0)
    adam_eps: float = Field(1.5e-4, gt=0.0)
    max_grad_norm: float | None = Field(10.0, gt=0.0)
    target_update: Literal["hard", "polyak"] = "hard"
    target_period: int = Field(2000, ge=1)  # updates between hard copies
    target_tau: float = Field(0.005, gt=0.0, le=1.0)  # Polyak rate per update
    # DrQ (Kostrikov et al., 2021): shift each sampled frame stack by up to `shift_pixels`
    # (edges replicated), obs and next obs independently; the data-efficient regime's big lever.
    augment: Literal["none", "random_shift"] = "none"
    shift_pixels: int = Field(4, ge=1, le=16)


class ReplayConfig(StrictModel):
    capacity: int = Field(1_000_000, ge=64, le=10**9)
    prioritized: bool = True
    alpha: float = Field(0.5, ge=0.0)
    beta_start: float = Field(0.4, ge=0.0, le=1.0)  # annealed linearly to 1 over training
    priority_eps: float = Field(1e-6, gt=0.0)
    reward_clip: bool = True  # clip rewards to [-1, 1] for learning; scores stay unclipped


class TrainConfig(StrictModel):
    learning_starts: int = Field(80_000, ge=1)
    batch_size: int = Field(32, ge=1, le=1 << 20)
    replay_ratio: float = Field(0.25, gt=0.0)  # gradient updates per agent step
    eps_start: float = Field(1.0, ge=0.0, le=1.0)
    eps_end: float = Field(0.01, ge=0.0, le=1.0)
    eps_decay_steps: int = Field(250_000, ge=1)
    torch_threads: int = Field(0, ge=0)  # 0: torch's own choice
    # One process: 0 runs each update in turn with acting (the emulators step meanwhile); k > 0
    # runs updates on a learner thread up to k batches behind, acting with weights at most 2k
    # updates old, so acting and learning use two cores. Deterministic either way.
    overlap_lag: int = Field(0, ge=0, le=64)
    # Forward passes in reduced precision: bfloat16 on CUDA (float16 with loss scaling where
    # bf16 is missing) and bfloat16 on the CPU, which pays only with bf16 matrix units (AMX,
    # AVX512-BF16) and slows other CPUs down. Losses and optimizer state stay float32.
    mixed_precision: bool = False


class EvalConfig(StrictModel):
    every: int = Field(250_000, ge=1)  # agent steps between evaluations (and one at the end)
    episodes: int = Field(10, ge=1)
    epsilon: float = Field(0.001, ge=0.0, le=1.0)
    num_envs: int = Field(8, ge=1, le=1024)
    max_frames: int | None = Field(None, ge=1)  # per-episode cap; None: the protocol's
    # Eval envs never share seeds with training envs.
    seed_offset: int = Field(1_000_000, ge=0, le=2**31)
    # Atari: film each evaluation's first episode (env 0) to <run>/videos/eval_<step>.mp4, with
    # the Q-value panel, so progress can be seen without running anything else.
    video: bool = False


class ApexConfig(StrictModel):
    """Ape-X scale-out (`run.workers` = N actors, `--actors N`): actors with an epsilon ladder
    feed the learner."""

    envs_per_actor: int = Field(4, ge=1, le=1024)
    eps_base: float = Field(0.4, ge=0.0, le=1.0)  # actor i acts with eps_base^(1+i/(N-1)*alpha)
    eps_alpha: float = Field(7.0, ge=0.0)
    steps_per_chunk: int = Field(50, ge=1)  # agent steps per env shipped in one chunk
    weights_every: int = Field(50, ge=1)  # learner updates between weight publications
    max_restarts: int = Field(3, ge=0)  # consecutive deaths of one actor before giving up


class RLlibConfig(StrictModel):
    """`run.engine: rllib` (`--engine rllib`): RLlib's DQN with ponder's Q-network. Acting and
    learning scale with RLlib's own runners and learners; 0 keeps each in this process."""

    env_runners: int = Field(0, ge=0, le=4096)  # remote env-runner actors (each has env.num_envs)
    learners: int = Field(0, ge=0, le=1024)  # remote learner actors (0: in this process)
    gpus_per_learner: float | None = Field(None, ge=0.0)  # None: 1 if run.device is cuda
    iteration_steps: int = Field(1000, ge=1)  # agent steps per RLlib iteration (one `advance`)


# The one torso each kind of env is built for.
TORSO_FOR_ENV = {"atari": "nature_cnn", "classic": "mlp", "minatar": "minatar_cnn"}


# What `run.stop_when` can name: the mean return of an evaluation.
DQN_STOP_METRICS = ("eval_return",)


class RunConfig(RunSection):
    """DQN counts agent steps (one action of one env): `run.steps`, `checkpoint.every`,
    `eval.every` and `run.log_every`."""

    unit: Literal["agent_steps"] = "agent_steps"
    steps: int = Field(10_000_000, ge=1)
    workers: int = Field(0, ge=0, le=1024)  # Ape-X actors on Ray; 0: one process
    log_every: int = Field(10_000, ge=1)
    device: Literal["auto", "cpu", "cuda"] = "auto"  # the learner's
    # ponder: ponder's own loop (or Ape-X with run.workers); rllib: RLlib's DQN (see `rllib.*`)
    engine: Literal["ponder", "rllib"] = "ponder"

    @model_validator(mode="after")
    def _known_stop_metrics(self) -> RunConfig:
        for key in self.stop_when:
            if key not in DQN_STOP_METRICS:
                raise ValueError(
                    f"stop_when key {key!r} is not a metric DQN reports "
                    f"(known: {', '.join(DQN_STOP_METRICS)})"
                )
        return self


class CheckpointConfig(CheckpointSection):
    every: int = Field(250_000, ge=1)
    keep: int = Field(3, ge=1)
    replay: bool = False  # write the whole buffer (.npy) for an exact resume


# Key names of earlier versions (run directories and checkpoints still hold them).
DQN_RENAMED = {
    "seed": "run.seed",
    "device": "run.device",
    "train.total_steps": "run.steps",
    "train.log_every": "run.log_every",
    "train.stop_return": "run.stop_when.eval_return",
    "apex.actors": "run.workers",
    "train.checkpoint_every": "checkpoint.every",
    "train.keep_checkpoints": "checkpoint.keep",
    "replay.save_with_checkpoint": "checkpoint.replay",
}


class DQNConfig(RenamingModel):
    RENAMED = DQN_RENAMED

    run: RunConfig = Field(default_factory=RunConfig)
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    env: EnvConfig = Field(default_factory=EnvConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    replay: ReplayConfig = Field(default_factory=ReplayConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    apex: ApexConfig = Field(default_factory=ApexConfig)
    rllib: RLlibConfig = Field(default_factory=RLlibConfig)

    @model_validator(mode="after")
    def _consistent(self) -> DQNConfig:
        torso = TORSO_FOR_ENV[self.env.type]
        if self.network.torso != torso:
            raise ValueError(f"network.torso must be {torso!r} for env.type {self.env.type!r}")
        if self.agent.augment != "none" and self.env.type != "atari":
            raise ValueError("agent.augment shifts image frames: it needs env.type 'atari'")
        if self.train.eps_end > self.train.eps_start:
            raise ValueError("train.eps_end must not exceed train.eps_start")
        return self
