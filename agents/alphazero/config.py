"""The AlphaZero config schema: every hyperparameter of a run, validated before any work starts.

configs/<game>.yaml files write every key out; `ponder train az --set a.b=c` overrides one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ponder.config import CheckpointSection, RenamingModel, RunSection, StrictModel
from ponder.search import SearchConfig

# How the local evaluator runs the network on the CPU (agents/alphazero/inference_backends.py
# says what each one does and costs): eager float32 torch, bfloat16 autocast, int8 dynamic
# quantization of the linear layers, torch.compile, ONNX Runtime, OpenVINO.
InferenceBackend = Literal[
    "torch", "torch_bf16", "torch_int8", "torch_compile", "onnxruntime", "openvino"
]


class NetworkConfig(StrictModel):
    blocks: int = Field(6, ge=0, le=64)
    channels: int = Field(64, ge=1, le=1024)
    value_hidden: int = Field(64, ge=1, le=4096)
    # Width of the 1x1 convolutions that start each head (AlphaZero: 2 for policy, 1 for value).
    policy_channels: int = Field(2, ge=1, le=256)
    value_channels: int = Field(1, ge=1, le=256)
    # "wdl": three win/draw/loss logits (needs train.value_loss "wdl"); "scalar": one tanh value.
    value_head: Literal["scalar", "wdl"] = "scalar"


class TrainConfig(StrictModel):
    batch_size: int = Field(256, ge=1, le=1 << 20)
    lr: float = Field(2e-3, gt=0)
    # Piecewise-constant schedule: (learner step, lr) pairs; from each step on, that lr applies.
    lr_schedule: list[tuple[int, float]] = []
    # One-cycle (Smith 2018) over this many learner steps instead: lr/10 rising to lr over the
    # first quarter, cosine down to lr/100 at the end, then held there. 0 = off.
    lr_cycle_steps: int = Field(0, ge=0, le=10**9)
    optimizer: Literal["sgd", "adam"] = "adam"
    momentum: float = Field(0.9, ge=0, lt=1)
    weight_decay: float = Field(1e-4, ge=0)
    value_loss: Literal["mse", "wdl"] = "mse"
    augment: bool = True  # a random symmetry of the game per sample
    replay_window: int = Field(100_000, ge=1, le=10**9)  # most recent positions kept for sampling
    # A window that grows with the data (KataGo): with start c > 0, batches come from the newest
    # c * (1 + 0.4 * ((N / c) ** 0.75 - 1) / 0.75) of the N positions ever added (all of them
    # while N <= c), at most replay_window; early, weak games leave the window sooner. 0 = off.
    replay_window_start: int = Field(0, ge=0, le=10**9)
    min_replay: int = Field(1_000, ge=1, le=10**9)  # positions before the first learner step
    # Trained samples per generated sample: ties the learner's pace to self-play's, so a slow
    # worker does not let the learner overfit a small buffer.
    sample_ratio: float = Field(4.0, gt=0)
    mixed_precision: bool = True  # CUDA only: bfloat16 (or float16 with loss scaling)

    @field_validator("lr_schedule")
    @classmethod
    def _schedule_sorted(cls, value: list[tuple[int, float]]) -> list[tuple[int, float]]:
        steps = [s for s, _ in value]
        if steps != sorted(steps) or any(s < 0 for s in steps) or any(lr <= 0 for _, lr in value):
            raise ValueError("must be (step >= 0, lr > 0) pairs in increasing step order")
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> TrainConfig:
        if self.lr_cycle_steps and self.lr_schedule:
            raise ValueError("set either lr_schedule or lr_cycle_steps, not both")
        return self


class EvalConfig(StrictModel):
    every: int = Field(500, ge=1)  # learner steps between evaluations
    games: int = Field(100, ge=1, le=10**6)  # per opponent, colour-swapped
    simulations: int = Field(64, ge=0, le=10**7)  # the evaluated player's search (0 = raw policy)
    opponents: list[str] = ["random", "uct:100", "uct:1000"]  # arena player specs
    solver: bool = True  # also play the exact solver where the game has one
    # Also check the player's move in every position it can reach, in either seat, against
    # the exact solver (tic-tac-toe, hex 3x3): metrics exhaustive_optimal_rate, _mistakes.
    exhaustive: bool = False
    # ... under this many random streams of the search, following every move any of them
    # picks: a network that passes under one stream can still blunder under another.
    exhaustive_seeds: int = Field(3, ge=1, le=64)
    # Opening set of the evaluation matches, as `ponder pit --openings` (auto: tic-tac-toe
    # every 1-ply opening, connect four every 2-ply one, other games 64 random 2-ply ones).
    openings: str = "auto"


class RunConfig(RunSection):
    """AlphaZero counts learner steps: `run.steps`, `checkpoint.every` and `eval.every`."""

    unit: Literal["learner_steps"] = "learner_steps"
    steps: int = Field(10_000, ge=1)
    workers: int = Field(1, ge=1, le=1024)  # self-play workers
    log_every: int = Field(20, ge=1)
    # Where the actors run: Ray processes that overlap on the cores (local, or a cluster with
    # --address), or objects of one process that take turns, with torch's threads on every core
    # (no Ray to start). auto: in one process for one worker on one machine without a GPU,
    # where that measured faster; Ray otherwise (selfplay/backend.py, resolve_backend).
    backend: Literal["auto", "ray", "inprocess"] = "auto"


class CheckpointConfig(CheckpointSection):
    every: int = Field(200, ge=1)
    keep: int = Field(5, ge=1)
    # Also keep log-spaced checkpoints for good (steps checkpoint.every x 1, 2, 3, 4, 6, 8, 12,
    # ...), so a study of strength against training compute (`ponder think`) has the early,
    # middle and late networks of the run, not only the last few.
    keep_log_spaced: bool = True
    # Write the replay buffer (.npy) with every checkpoint so a resume trains on at once;
    # without it a resumed run waits for train.min_replay fresh positions.
    replay: bool = True


class SelfPlayConfig(StrictModel):
    concurrent_games: int = Field(64, ge=1, le=1 << 16)
    search: SearchConfig = SearchConfig(root_noise=True)
    # Playout cap randomization (KataGo): most moves get a cheap search of `fast_simulations`
    # and are not used as policy targets; a `full_search_prob` share get the full budget.
    fast_simulations: int = Field(0, ge=0, le=10**7)
    full_search_prob: float = Field(0.25, gt=0, le=1)
    # Plies per game whose move is sampled from the root visits (exploration of openings).
    temperature_moves: int = Field(8, ge=0)
    # The mover resigns when its root value is below this; -1.0 turns resignation off.
    resign_threshold: float = Field(-0.95, ge=-1, le=1)
    # Share of games played out regardless, to measure how often resigning would be wrong.
    resign_disabled_fraction: float = Field(0.1, ge=0, le=1)
    resign_min_moves: int = Field(4, ge=0)  # plies before anyone may resign
    # Value target: (1 - q) * game result z + q * the root's search value (mover's view). 0 is
    # AlphaZero's z; a share of q lowers the target's variance where games are long or noisy.
    value_target_q: float = Field(0.0, ge=0, le=1)
    # Where the workers' network runs: their own copy (local), one shared inference actor
    # (actor), or auto (the actor where a GPU is planned for it, else local).
    inference: Literal["auto", "local", "actor"] = "auto"
    weights_every: int = Field(50, ge=1)  # learner steps between weight publications
    # The runtime of each worker's own network (local inference: selfplay.inference local, or
    # auto without a GPU); the shared inference actor always runs torch. Anything but torch
    # runs on the CPU only; OpenVINO needs `pip install ponder[cpu-inference]`.
    inference_backend: InferenceBackend = "torch"

    @model_validator(mode="after")
    def _fast_below_full(self) -> SelfPlayConfig:
        if self.fast_simulations >= self.search.num_simulations and self.fast_simulations:
            raise ValueError(
                f"fast_simulations ({self.fast_simulations}) must be below "
                f"search.num_simulations ({self.search.num_simulations}), or 0 for off"
            )
        return self


# Key names of earlier versions (run directories and checkpoints still hold them).
AZ_RENAMED = {
    "seed": "run.seed",
    "pipeline.workers": "run.workers",
    "pipeline.max_learner_steps": "run.steps",
    "pipeline.max_minutes": "run.minutes",
    "pipeline.log_every": "run.log_every",
    "pipeline.stop_when": "run.stop_when",
    "pipeline.checkpoint_every": "checkpoint.every",
    "pipeline.keep_checkpoints": "checkpoint.keep",
    "pipeline.keep_log_spaced": "checkpoint.keep_log_spaced",
    "pipeline.save_replay": "checkpoint.replay",
    "pipeline.inference": "selfplay.inference",
    "pipeline.weights_every": "selfplay.weights_every",
    "eval.every_steps": "eval.every",
}


class AZConfig(RenamingModel):
    RENAMED = AZ_RENAMED

    game: str
    run: RunConfig = RunConfig()
    checkpoint: CheckpointConfig = CheckpointConfig()
    network: NetworkConfig = NetworkConfig()
    selfplay: SelfPlayConfig = SelfPlayConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()

    @model_validator(mode="after")
    def _value_head_matches_loss(self) -> AZConfig:
        wants_wdl = self.train.value_loss == "wdl"
        if wants_wdl != (self.network.value_head == "wdl"):
            raise ValueError(
                f"train.value_loss {self.train.value_loss!r} needs network.value_head "
                f"{'wdl' if wants_wdl else 'scalar'!r} (got {self.network.value_head!r})"
            )
        return self

    @model_validator(mode="after")
    def _inprocess_has_no_server(self) -> AZConfig:
        if self.run.backend == "inprocess" and self.selfplay.inference == "actor":
            raise ValueError(
                "selfplay.inference 'actor' is a Ray actor shared by the workers; with "
                "run.backend inprocess use selfplay.inference local (or auto)"
            )
        return self

    @model_validator(mode="after")
    def _backend_is_local(self) -> AZConfig:
        backend = self.selfplay.inference_backend
        if backend != "torch" and self.selfplay.inference == "actor":
            raise ValueError(
                f"selfplay.inference_backend {backend!r} runs the workers' own network, but "
                "selfplay.inference 'actor' sends every evaluation to the shared torch actor; "
                "use selfplay.inference local (or auto), or inference_backend torch"
            )
        return self
