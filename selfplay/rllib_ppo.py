"""Model-free self-play with RLlib's PPO on ponder's board games, for comparison with AlphaZero.

The network is ponder's own `PolicyValueNet` inside an RLlib `RLModule`: illegal moves are
masked out of the logits, the value head (tanh) is PPO's value function, and the weights
export as an AlphaZero-format checkpoint, so the PPO policy meets AlphaZero checkpoints, UCT
and the solver in `ponder pit` as `CKPT@0` (the raw policy) or `CKPT@N` (the same net guiding
N simulations of search).

League-style opponents: every `snapshot_every` iterations a frozen copy of the learning module
joins the league; each episode the learner ("main") takes one seat at random and the other
seat is main itself (pure self-play) or, with probability `league_share`, a random snapshot.

Each checkpoint also carries what a resume needs (`resume`): main's Adam state, the league's
frozen weights, the counters over sessions and the run's settings, all as tensors and JSON.
"""

from __future__ import annotations

import contextlib
import functools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ray.rllib.callbacks.callbacks import RLlibCallback
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis.value_function_api import ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.torch_utils import FLOAT_MIN

from ponder.agents.alphazero.config import AZConfig, NetworkConfig
from ponder.agents.alphazero.learner import checkpoint_metadata
from ponder.agents.alphazero.network import PolicyValueNet
from ponder.checkpoint import (
    Checkpoint,
    OptimizerMeta,
    metadata_error,
    optimizer_state_to_tensors,
    tensors_to_optimizer_state,
)
from ponder.envs.registry import get_game
from ponder.errors import PonderError
from ponder.rundir import RunDir
from ponder.schedule import RunClock
from ponder.seeds import derive_seed
from ponder.selfplay.rllib_state import module_state, module_tensors, numpy_to_torch

MAIN = "main"


class PolicyValueRLModule(TorchRLModule, ValueFunctionAPI):
    """`model_config`: {"game": name, "network": NetworkConfig fields (scalar value head)}."""

    def setup(self) -> None:
        config = dict(self.model_config or {})
        self.game = get_game(config["game"])
        network = NetworkConfig.model_validate(config.get("network", {}))
        if network.value_head != "scalar":
            raise ValueError("PPO's value function needs network.value_head scalar")
        self.net = PolicyValueNet(self.game, network)

    def _heads(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        obs = batch[Columns.OBS]
        logits, value = self.net.heads(obs["observations"].float())
        return logits.masked_fill(obs["action_mask"] < 0.5, FLOAT_MIN), value

    @contextlib.contextmanager
    def _running_statistics(self) -> Iterator[None]:
        """BatchNorm on its running statistics, which it leaves alone: acting sees one position
        at a time, and the values GAE asks for must not move a frozen snapshot's statistics."""
        was_training = self.net.training
        self.net.eval()
        try:
            yield
        finally:
            self.net.train(was_training)

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        with self._running_statistics():
            logits, _ = self._heads(batch)
        return {Columns.ACTION_DIST_INPUTS: logits}

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        logits, value = self._heads(batch)
        return {Columns.ACTION_DIST_INPUTS: logits, Columns.EMBEDDINGS: value}

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> torch.Tensor:
        if embeddings is None:  # GAE's value estimates, outside the loss
            with self._running_statistics():
                _, embeddings = self._heads(batch)
        return torch.tanh(embeddings.float())


class LeagueCallback(RLlibCallback):
    """Adds a frozen snapshot of main to the league every `snapshot_every` iterations.

    `start_iteration` is the iteration a resumed run starts from (RLlib counts from 0 again),
    so snapshots keep their cadence across a resume."""

    def __init__(self, snapshot_every: int, league_share: float, start_iteration: int = 0) -> None:
        super().__init__()
        self.snapshot_every = snapshot_every
        self.league_share = league_share
        self.start_iteration = start_iteration
        self.snapshots: list[str] = []

    def on_train_result(self, *, algorithm: Any, result: dict, **kwargs: Any) -> None:
        iteration = self.start_iteration + algorithm.iteration
        if self.snapshot_every <= 0 or iteration % self.snapshot_every:
            return
        learner = algorithm.learner_group.get_state()["learner"]  # the state of record
        self.add_snapshot(algorithm, learner["rl_module"][MAIN])
        result["league_size"] = len(self.snapshots) + 1

    def add_snapshot(self, algorithm: Any, state: dict[str, Any]) -> str:
        """A frozen module with weights `state` (an RLModule state) joins the league."""
        module_id = f"{MAIN}_v{len(self.snapshots) + 1}"
        self.snapshots.append(module_id)
        algorithm.add_module(
            module_id=module_id,
            module_spec=RLModuleSpec.from_module(algorithm.get_module(MAIN)),
            new_agent_to_module_mapping_fn=league_mapping(list(self.snapshots), self.league_share),
            new_should_module_be_updated=[MAIN],
        )
        algorithm.set_state({"learner_group": {"learner": {"rl_module": {module_id: state}}}})
        return module_id


def league_mapping(snapshots: list[str], league_share: float) -> Any:
    """Per episode: main in one seat; in the other main again or, with probability
    `league_share`, a random snapshot (decided once per episode from its id)."""

    def mapping(agent_id: str, episode: Any, **kwargs: Any) -> str:
        draw = random.Random(hash(episode.id_))
        main_seat = draw.randrange(2)
        against_snapshot = bool(snapshots) and draw.random() < league_share
        opponent = draw.choice(snapshots) if against_snapshot else MAIN
        return MAIN if agent_id == f"player_{main_seat}" else opponent

    return mapping


def ppo_config(
    game: str,
    network: dict[str, Any],
    seed: int = 0,
    snapshot_every: int = 10,
    league_share: float = 0.5,
    batch_size: int = 4000,
    env_runners: int = 0,
    start_iteration: int = 0,
) -> Any:
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.tune.registry import register_env

    from ponder.selfplay.rllib_env import ENV_NAME, BoardGameMultiAgentEnv

    register_env(ENV_NAME, lambda cfg: BoardGameMultiAgentEnv(cfg))
    spec = RLModuleSpec(
        module_class=PolicyValueRLModule, model_config={"game": game, "network": network}
    )
    return (
        PPOConfig()
        .environment(ENV_NAME, env_config={"game": game})
        .env_runners(num_env_runners=env_runners)
        .multi_agent(
            policies={MAIN},
            policy_mapping_fn=league_mapping([], league_share),
            policies_to_train=[MAIN],
        )
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={MAIN: spec}))
        .training(
            train_batch_size_per_learner=batch_size,
            minibatch_size=min(256, batch_size),
            num_epochs=4,
            lr=3e-4,
            gamma=1.0,
            lambda_=0.95,
            entropy_coeff=0.01,
        )
        .callbacks(functools.partial(LeagueCallback, snapshot_every, league_share, start_iteration))
        .debugging(seed=seed)
    )


class PPOSettings(BaseModel):
    """What a PPO run is, stored in each checkpoint so `resume` rebuilds the same run."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    game: str
    network: dict[str, Any]
    seed: int = Field(0, ge=0)
    checkpoint_every: int = Field(10, ge=1)
    snapshot_every: int = Field(10, ge=0)
    league_share: float = Field(0.5, ge=0.0, le=1.0)
    batch_size: int = Field(4000, ge=1)
    env_runners: int = Field(0, ge=0)


class PPOState(BaseModel):
    """Where a PPO run stands: counters over all sessions, the league, the optimizer's JSON half
    (its tensors are `ppo_optimizer/*`; the league's weights `league/<module>/*`)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    settings: PPOSettings
    minutes: float = Field(ge=0.0)
    iteration: int = Field(ge=0)
    env_steps: int = Field(ge=0)
    wall_seconds: float = Field(ge=0.0)
    sessions: int = Field(ge=1)
    snapshots: list[str]
    optimizer: OptimizerMeta


OPTIMIZER = f"{MAIN}_default_optimizer"  # the name RLlib's TorchLearner gives main's optimizer


def training_tensors(algorithm: Any, league: LeagueCallback) -> tuple[dict[str, Any], dict]:
    """From the learner (the state of record): main's weights (`model/*`), its optimizer state
    and the league's weights as checkpoint tensors, and the optimizer's JSON half."""
    learner = algorithm.learner_group.get_state()["learner"]
    modules = learner["rl_module"]
    optimizer = numpy_to_torch(learner["optimizer"][OPTIMIZER]["state"])
    tensors, optimizer_meta = optimizer_state_to_tensors(optimizer, prefix="ppo_optimizer")
    for module_id, prefix in [(MAIN, "model"), *((m, f"league/{m}") for m in league.snapshots)]:
        weights = module_tensors(modules[module_id], "net")
        tensors |= {f"{prefix}/{k}": v for k, v in weights.items()}
    return tensors, optimizer_meta


def export_checkpoint(
    algorithm: Any,
    run: RunDir,
    league: LeagueCallback,
    state: dict[str, Any],
    compute: dict[str, Any],
) -> Path:
    """The main module's weights as an AlphaZero-format ponder checkpoint (`model/*`, so it
    plays in `ponder pit`), with what `resume` needs beside them (`state`: PPOState's fields
    but the optimizer's)."""
    settings = state["settings"]
    cfg = AZConfig.model_validate({"game": settings["game"], "network": settings["network"]})
    tensors, optimizer_meta = training_tensors(algorithm, league)
    meta = checkpoint_metadata(get_game(settings["game"]), cfg, state["iteration"], compute)
    meta["trained_by"] = "rllib_ppo"
    meta["ppo"] = {**state, "snapshots": list(league.snapshots), "optimizer": optimizer_meta}
    return run.save_checkpoint(state["iteration"], tensors, meta, keep=1000)


def restore(algorithm: Any, league: LeagueCallback, ckpt: Checkpoint, state: PPOState) -> None:
    """The league, main's weights and main's Adam state from `ckpt` into a fresh algorithm."""
    for module_id in state.snapshots:
        weights = ckpt.section(f"league/{module_id}")
        if not weights:
            raise PonderError(f"checkpoint {ckpt.path} lacks the weights of {module_id}")
        league.add_snapshot(algorithm, module_state(weights, "net"))
    group = algorithm.learner_group
    full = group.get_state()
    learner = full["learner"]
    learner["rl_module"][MAIN] = module_state(ckpt.section("model"), "net")
    optimizer = tensors_to_optimizer_state(
        ckpt.tensors, state.optimizer.model_dump(), prefix="ppo_optimizer"
    )
    learner["optimizer"][OPTIMIZER]["state"] = optimizer
    group.set_state(full)
    algorithm.env_runner_group.sync_weights(from_worker_or_learner_group=group)


def train(
    game: str,
    out: Path,
    minutes: float,
    network: dict[str, Any],
    seed: int = 0,
    checkpoint_every: int = 10,
    **config: Any,
) -> dict[str, Any]:
    """PPO self-play for `minutes` of wall clock; a ponder checkpoint every
    `checkpoint_every` iterations and at the end. Returns {"checkpoints": stems written,
    "result": RLlib's last training result}."""
    try:
        settings = PPOSettings(
            game=game, network=network, seed=seed, checkpoint_every=checkpoint_every, **config
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise PonderError(f"PPO setting {where}: {err['msg']} (got {err.get('input')!r})") from None
    return _run(RunDir(out), minutes, settings, None)


def resume(out: Path, minutes: float | None = None) -> dict[str, Any]:
    """Continue the PPO run in `out` from its latest checkpoint until `minutes` of wall clock
    in all (the run's own budget when None): same settings, league, weights, Adam state and
    counters; the sampling streams are new (seeded from the run's seed and the session)."""
    run = RunDir(out)
    ckpt = run.load_latest()
    if "ppo" not in ckpt.metadata:
        raise PonderError(f"checkpoint {ckpt.path} holds no PPO training state to resume")
    try:
        state = PPOState.model_validate(ckpt.metadata["ppo"])
    except ValidationError as exc:
        raise metadata_error(f"checkpoint {ckpt.path}", exc) from None
    budget = state.minutes if minutes is None else minutes
    if state.wall_seconds >= budget * 60:
        raise PonderError(
            f"run {out} has trained {state.wall_seconds / 60:.1f} of its {budget:g} minutes: "
            "pass a larger --minutes to go on"
        )
    return _run(run, budget, state.settings, (ckpt, state))


def _run(
    run: RunDir,
    minutes: float,
    settings: PPOSettings,
    restored: tuple[Checkpoint, PPOState] | None,
) -> dict[str, Any]:
    from ponder.selfplay.cluster import ensure_ray

    before = restored[1] if restored else None
    sessions = before.sessions if before else 0
    start_iteration = before.iteration if before else 0
    start_env_steps = before.env_steps if before else 0
    seed = settings.seed if sessions == 0 else derive_seed(settings.seed, "ppo_session", sessions)
    options = settings.model_dump(exclude={"game", "network", "seed", "checkpoint_every"})
    ensure_ray()
    config = ppo_config(
        settings.game, settings.network, seed=seed, start_iteration=start_iteration, **options
    )
    algorithm = config.build_algo()
    league = next(c for c in algorithm.callbacks if isinstance(c, LeagueCallback))
    clock = RunClock(before.wall_seconds if before else 0.0)
    written: list[Path] = []
    try:
        if restored:
            restore(algorithm, league, *restored)
        run.path.mkdir(parents=True, exist_ok=True)
        run.make_folders()
        while True:
            result = algorithm.train()
            iteration = start_iteration + algorithm.iteration
            runners = result.get("env_runners", {})
            env_steps = start_env_steps + int(runners.get("num_env_steps_sampled_lifetime", 0))
            elapsed = clock.total_seconds()
            last = elapsed >= minutes * 60
            if last or iteration % settings.checkpoint_every == 0:
                state = {
                    "settings": settings.model_dump(),
                    "minutes": float(minutes),
                    "iteration": iteration,
                    "env_steps": env_steps,
                    "wall_seconds": elapsed,
                    "sessions": sessions + 1,
                }
                compute = {"wall_seconds": elapsed, "env_steps": env_steps}
                written.append(export_checkpoint(algorithm, run, league, state, compute))
            if last:
                return {"checkpoints": written, "result": result}
    finally:
        algorithm.stop()
