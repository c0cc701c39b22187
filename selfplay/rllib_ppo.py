"""Model-free self-play with RLlib's PPO on ponder's board games, for comparison with AlphaZero.

The network is ponder's own `PolicyValueNet` inside an RLlib `RLModule`: illegal moves are
masked out of the logits, the value head (tanh) is PPO's value function, and the weights
export as an AlphaZero-format checkpoint, so the PPO policy meets AlphaZero checkpoints, UCT
and the solver in `ponder pit` as `CKPT@0` (the raw policy) or `CKPT@N` (the same net guiding
N simulations of search).

League-style opponents: every `snapshot_every` iterations a frozen copy of the learning module
joins the league; each episode the learner ("main") takes one seat at random and the other
seat is main itself (pure self-play) or, with probability `league_share`, a random snapshot.
"""

from __future__ import annotations

import functools
import random
import time
from pathlib import Path
from typing import Any

import torch
from ray.rllib.callbacks.callbacks import RLlibCallback
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis.value_function_api import ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.torch_utils import FLOAT_MIN

from ponder.agents.alphazero.config import AZConfig, NetworkConfig
from ponder.agents.alphazero.learner import checkpoint_metadata
from ponder.agents.alphazero.network import PolicyValueNet
from ponder.envs.registry import get_game

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

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # Acting sees one position at a time: BatchNorm uses its running statistics.
        was_training = self.net.training
        self.net.eval()
        try:
            logits, _ = self._heads(batch)
        finally:
            self.net.train(was_training)
        return {Columns.ACTION_DIST_INPUTS: logits}

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        logits, value = self._heads(batch)
        return {Columns.ACTION_DIST_INPUTS: logits, Columns.EMBEDDINGS: value}

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> torch.Tensor:
        if embeddings is None:
            _, embeddings = self._heads(batch)
        return torch.tanh(embeddings.float())


class LeagueCallback(RLlibCallback):
    """Adds a frozen snapshot of main to the league every `snapshot_every` iterations."""

    def __init__(self, snapshot_every: int, league_share: float) -> None:
        super().__init__()
        self.snapshot_every = snapshot_every
        self.league_share = league_share
        self.snapshots: list[str] = []

    def on_train_result(self, *, algorithm: Any, result: dict, **kwargs: Any) -> None:
        if self.snapshot_every <= 0 or algorithm.iteration % self.snapshot_every:
            return
        module_id = f"{MAIN}_v{len(self.snapshots) + 1}"
        main = algorithm.get_module(MAIN)
        self.snapshots.append(module_id)
        algorithm.add_module(
            module_id=module_id,
            module_spec=RLModuleSpec.from_module(main),
            new_agent_to_module_mapping_fn=league_mapping(list(self.snapshots), self.league_share),
            new_should_module_be_updated=[MAIN],
        )
        algorithm.set_state(
            {"learner_group": {"learner": {"rl_module": {module_id: main.get_state()}}}}
        )
        result["league_size"] = len(self.snapshots) + 1


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
        .callbacks(functools.partial(LeagueCallback, snapshot_every, league_share))
        .debugging(seed=seed)
    )


def export_checkpoint(
    algorithm: Any, game: str, network: dict[str, Any], out: Path, step: int, compute: dict
) -> Path:
    """The main module's weights as an AlphaZero-format ponder checkpoint in `out`."""
    from ponder.rundir import RunDir

    module = algorithm.get_module(MAIN)
    cfg = AZConfig.model_validate({"game": game, "network": network})
    tensors = {f"model/{k}": v.detach().cpu() for k, v in module.net.state_dict().items()}
    meta = checkpoint_metadata(get_game(game), cfg, step, compute)
    meta["trained_by"] = "rllib_ppo"
    out.mkdir(parents=True, exist_ok=True)
    run = RunDir(out)
    run.make_folders()
    return run.save_checkpoint(step, tensors, meta, keep=1000)


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
    from ponder.selfplay.cluster import ensure_ray

    ensure_ray()
    algorithm = ppo_config(game, network, seed=seed, **config).build_algo()
    start = time.perf_counter()
    written: list[Path] = []
    env_steps = 0
    try:
        while True:
            result = algorithm.train()
            runners = result.get("env_runners", {})
            env_steps = int(runners.get("num_env_steps_sampled_lifetime", env_steps))
            elapsed = time.perf_counter() - start
            last = elapsed >= minutes * 60
            if last or algorithm.iteration % checkpoint_every == 0:
                compute = {"wall_seconds": elapsed, "env_steps": env_steps}
                written.append(
                    export_checkpoint(algorithm, game, network, out, algorithm.iteration, compute)
                )
            if last:
                return {"checkpoints": written, "result": result}
    finally:
        algorithm.stop()
