"""`ponder train dqn --engine rllib`: RLlib's DQN (new API stack) driven by ponder's config,
with ponder's own `QNetwork` inside an RLlib `RLModule`, behind the one runner.

The weights are the same tensors either way: the run writes ponder checkpoints (safetensors +
JSON, `model/*`, `target/*` and Adam's state) that `ponder watch`, the evaluation and `--resume`
read as they read the in-process engine's. Acting and learning scale with RLlib's own knobs
(`rllib.env_runners`, `rllib.learners`, `rllib.gpus_per_learner`) on local or cluster Ray.

Every config key is either honoured or refused with one line (`refusals`). What RLlib keeps
that ponder's engine does not: its episode replay (not saved with a checkpoint: a resume
refills it, `learning_starts` steps again), hard target copies counted in sampled env steps
(`target_period / replay_ratio` of them, the same cadence while the ratio holds), a fixed
priority floor (1e-12, where ponder adds `replay.priority_eps`), and a squared loss without
the 1/2 (Adam makes the scale immaterial).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from ray.rllib.algorithms.dqn.default_dqn_rl_module import QF_PREDS
from ray.rllib.algorithms.dqn.torch.default_dqn_torch_rl_module import DefaultDQNTorchRLModule
from ray.rllib.algorithms.dqn.torch.dqn_torch_learner import DQNTorchLearner
from ray.rllib.callbacks.callbacks import RLlibCallback
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.utils import make_target_network
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.schedules.scheduler import Scheduler

from ponder.agents.device import resolve_device
from ponder.agents.dqn.config import DQNConfig, NetworkConfig, ReplayConfig
from ponder.agents.dqn.evaluation import EvalResult
from ponder.agents.dqn.learner import DQNLearner
from ponder.agents.dqn.networks import QNetwork
from ponder.agents.dqn.progress import bar_figures, dqn_display
from ponder.agents.dqn.training import (
    Counters,
    DQNTrainer,
    TrainSummary,
    beta_at,
    env_info,
    epsilon_at,
    restore_training_checkpoint,
    session_seed,
    setting_label,
)
from ponder.envs.atari.make import make_envs
from ponder.errors import PonderError
from ponder.pacing import RateLimiter
from ponder.rundir import RunDir
from ponder.schedule import RunClock
from ponder.selfplay.rllib_state import module_state, module_tensors, numpy_to_torch

ENV_NAME = "ponder_dqn_env"
MODULE = "default_policy"
GAME_RETURN = "game_return"  # the callback's metric: whole games' unclipped score


class PonderQModule(DefaultDQNTorchRLModule):
    """RLlib's DQN module with ponder's `QNetwork` as its whole Q-function (torso and, when
    dueling, the value/advantage split) and a frozen copy as the target. RLlib's own exploration
    (epsilon schedule) and training forward pass (online, online-next for Double DQN, target-next)
    run unchanged on top of `compute_q_values` and `forward_target`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("catalog_class", None)  # the network is ponder's, not the catalog's
        TorchRLModule.__init__(self, *args, **kwargs)

    def setup(self) -> None:
        config = self.model_config
        self.uses_dueling = False  # inside QNetwork, when network.dueling
        self.uses_double_q = bool(config["double_q"])
        self.num_atoms = 1
        self.epsilon_schedule = Scheduler(
            fixed_value_or_schedule=config["epsilon"], framework="torch"
        )
        network = NetworkConfig.model_validate(config["network"])
        shape = tuple(config["frame_shape"])
        self.net = QNetwork(network, config["stack"], shape, config["num_actions"])

    def get_non_inference_attributes(self) -> list[str]:
        return ["_target_net"]

    def make_target_networks(self) -> None:
        self._target_net = make_target_network(self.net)

    def get_target_network_pairs(self) -> list[tuple[Any, Any]]:
        return [(self.net, self._target_net)]

    def compute_q_values(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {QF_PREDS: self.net(batch[Columns.OBS])}

    def forward_target(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {QF_PREDS: self._target_net(batch[Columns.OBS])}

    def get_initial_state(self) -> dict:
        return {}


class PonderDQNLearner(DQNTorchLearner):
    """RLlib's DQN learner with Adam's epsilon from `agent.adam_eps` (RLlib's default Adam has
    torch's 1e-8, a different optimizer on Atari's sparse rewards)."""

    def configure_optimizers_for_module(self, module_id: str, config: Any = None) -> None:
        module = self._module[module_id]
        params = self.get_parameters(module)
        eps = float(config.learner_config_dict["adam_eps"])
        self.register_optimizer(
            module_id=module_id,
            optimizer=torch.optim.Adam(params, eps=eps),
            params=params,
            lr_or_lr_schedule=config.lr,
        )


class GameReturns(RLlibCallback):
    """Logs each finished game's unclipped score (the env's `info["game_return"]`): RLlib's
    own episode return sums clipped rewards over one life where a lost life is terminal."""

    def on_episode_end(self, *, episode: Any, metrics_logger: Any = None, **kwargs: Any) -> None:
        info = episode.get_infos(-1)
        if metrics_logger is not None and isinstance(info, dict) and GAME_RETURN in info:
            metrics_logger.log_value(GAME_RETURN, float(info[GAME_RETURN]), window=100)
            metrics_logger.log_value("games", 1, reduce="sum", clear_on_reduce=True)


# -- what RLlib can and cannot honour ----------------------------------------------------------
def refusals(cfg: DQNConfig) -> list[str]:
    """One line per config key that RLlib's DQN cannot honour as ponder's engine does."""
    out = []
    defaults = ReplayConfig()
    if cfg.run.workers:
        out.append("run.workers (Ape-X actors) is ponder's engine; use rllib.env_runners")
    if cfg.train.overlap_lag:
        out.append("train.overlap_lag: RLlib's DQN acts and learns in turn; set it to 0")
    if cfg.train.mixed_precision:
        out.append("train.mixed_precision: RLlib's DQN learner trains in float32 only")
    if cfg.agent.augment != "none":
        out.append("agent.augment: RLlib's DQN learner has no random-shift augmentation")
    if cfg.checkpoint.replay:
        out.append("checkpoint.replay: RLlib's episode replay is not saved with a checkpoint")
    if cfg.replay.prioritized and cfg.replay.priority_eps != defaults.priority_eps:
        out.append("replay.priority_eps: RLlib's prioritized replay has a fixed floor of 1e-12")
    if not math.isclose(effective_replay_ratio(cfg), cfg.train.replay_ratio, rel_tol=0.01):
        out.append(
            f"train.replay_ratio={cfg.train.replay_ratio:g}: RLlib's round-robin of sampling "
            f"and training gets {effective_replay_ratio(cfg):.4g} with env.num_envs="
            f"{cfg.env.num_envs} and rllib.env_runners={cfg.rllib.env_runners}"
        )
    return out


def check_supported(cfg: DQNConfig) -> None:
    """Refuse, in one line naming the key, what the RLlib engine would silently change."""
    problems = refusals(cfg)
    if problems:
        raise PonderError(f"--engine rllib cannot honour {'; '.join(problems)}")
    from ponder.config import check_allocation

    probe = make_envs(cfg.env.type, cfg.env.game, cfg.env.protocol, 1, seed=0)
    try:
        stack_bytes = probe.stack * int(np.prod(probe.frame_shape)) * probe.frame_dtype.itemsize
    finally:
        probe.close()
    # RLlib's episode replay keeps each step's whole observation (the frame stack), not a frame.
    check_allocation(
        cfg.replay.capacity * stack_bytes,
        f"RLlib's replay (replay.capacity={cfg.replay.capacity:,} frame stacks)",
    )


def round_robin(cfg: DQNConfig) -> tuple[int, int]:
    """(sampling rounds, updates) per cycle of RLlib's DQN loop, as RLlib rounds the ratio
    (its `calculate_rr_weights`, with the steps one round really samples)."""
    per_round = steps_per_round(cfg)
    updates_per_round = cfg.train.replay_ratio * per_round
    if updates_per_round < 1:
        return max(1, round(1 / updates_per_round)), 1
    return 1, max(1, round(updates_per_round))


def steps_per_round(cfg: DQNConfig) -> int:
    """Agent steps one sampling round collects: a fragment of `agent.n_step` steps (RLlib's
    least for n-step returns) from each env of each runner (the local one when none)."""
    return cfg.agent.n_step * cfg.env.num_envs * max(cfg.rllib.env_runners, 1)


def effective_replay_ratio(cfg: DQNConfig) -> float:
    rounds, updates = round_robin(cfg)
    return updates / (rounds * steps_per_round(cfg))


def epsilon_schedule(cfg: DQNConfig, start_step: int) -> list[list[float]]:
    """ponder's linear epsilon schedule, from `start_step` on (RLlib's counter restarts at 0 in
    each session)."""
    t = cfg.train
    left = t.eps_decay_steps - start_step
    if left <= 0:
        return [[0, t.eps_end], [1, t.eps_end]]
    return [[0, epsilon_at(cfg, start_step)], [left, t.eps_end]]


def _replay_buffer_config(cfg: DQNConfig, start_step: int) -> dict[str, Any]:
    """RLlib's episode replay with ponder's capacity and priorities (beta where the run is)."""
    r = cfg.replay
    if not r.prioritized:
        return {"type": "EpisodeReplayBuffer", "capacity": r.capacity}
    return {
        "type": "PrioritizedEpisodeReplayBuffer",
        "capacity": r.capacity,
        "alpha": r.alpha,
        "beta": beta_at(cfg, start_step),
    }


def _target_config(cfg: DQNConfig) -> dict[str, Any]:
    """Hard copies every `agent.target_period` agent steps (RLlib counts updates), or Polyak."""
    a = cfg.agent
    if a.target_update == "hard":
        period = round(a.target_period / cfg.train.replay_ratio)
        return {"tau": 1.0, "target_network_update_freq": period}
    return {"tau": a.target_tau, "target_network_update_freq": 0}


def algorithm_config(cfg: DQNConfig, info: dict[str, Any], start_step: int, session: int) -> Any:
    """RLlib's `DQNConfig` holding everything ponder's config says."""
    from ray.rllib.algorithms.dqn import DQNConfig as RLlibDQNConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    a, t = cfg.agent, cfg.train
    epsilon = epsilon_schedule(cfg, start_step)
    rounds, updates = round_robin(cfg)
    fragment = a.n_step
    native = t.batch_size / (fragment * cfg.env.num_envs * (cfg.rllib.env_runners + 1))
    # RLlib turns training_intensity back into (rounds, updates) through its own native ratio.
    intensity = native * (updates / rounds)
    buffer = _replay_buffer_config(cfg, start_step)
    target = _target_config(cfg)
    gpus = cfg.rllib.gpus_per_learner
    if gpus is None:
        gpus = 1.0 if resolve_device(cfg.run.device) == "cuda" else 0.0
    model = {
        "network": cfg.network.model_dump(mode="json"),
        "stack": info["stack"],
        "frame_shape": info["frame_shape"],
        "num_actions": info["num_actions"],
        "double_q": a.double,
        "epsilon": epsilon,
    }
    env_config = {
        "type": cfg.env.type,
        "game": cfg.env.game,
        "protocol": cfg.env.protocol,
        "reward_clip": cfg.replay.reward_clip,
    }
    return (
        RLlibDQNConfig()
        .environment(ENV_NAME, env_config=env_config)
        .framework("torch")
        .env_runners(
            num_env_runners=cfg.rllib.env_runners,
            num_envs_per_env_runner=cfg.env.num_envs,
            rollout_fragment_length=fragment,
        )
        .learners(
            num_learners=cfg.rllib.learners,
            num_gpus_per_learner=gpus,
            learner_config_dict={"adam_eps": a.adam_eps},
        )
        .rl_module(rl_module_spec=RLModuleSpec(module_class=PonderQModule, model_config=model))
        .training(
            learner_class=PonderDQNLearner,
            lr=a.lr,
            gamma=a.gamma,
            n_step=a.n_step,
            double_q=a.double,
            dueling=False,  # ponder's network holds the dueling split itself
            num_atoms=1,
            noisy=False,
            train_batch_size_per_learner=t.batch_size,
            training_intensity=intensity,
            num_steps_sampled_before_learning_starts=t.learning_starts,
            grad_clip=a.max_grad_norm,
            grad_clip_by="global_norm",
            td_error_loss_fn="huber" if a.loss == "huber" else "mse",
            replay_buffer_config=buffer,
            epsilon=epsilon,
            **target,
        )
        .callbacks(GameReturns)
        .reporting(
            min_sample_timesteps_per_iteration=cfg.rllib.iteration_steps,
            min_time_s_per_iteration=0,
            metrics_num_episodes_for_smoothing=100,
        )
        .debugging(seed=session_seed(cfg, session))
    )


# -- the run ------------------------------------------------------------------------------------
class RLlibDQNRun(DQNTrainer):
    """One run on RLlib: `advance` is one RLlib iteration (about `rllib.iteration_steps` agent
    steps and the updates the replay ratio owes). `self.learner` mirrors RLlib's learner (online,
    target, Adam, update count) for the evaluation and the checkpoint, refreshed in `_settle`."""

    def __init__(self, cfg: DQNConfig, run: RunDir, resume: bool, address: str | None) -> None:
        from ray.tune.registry import register_env

        from ponder.envs.atari.single import SingleDQNEnv
        from ponder.selfplay.cluster import ensure_ray

        check_supported(cfg)
        self.cfg, self.run, self.resume = cfg, run, resume
        self.rng = np.random.default_rng(cfg.run.seed)
        probe = make_envs(cfg.env.type, cfg.env.game, cfg.env.protocol, 1, seed=0)
        try:
            self.info = env_info(cfg, probe)
        finally:
            probe.close()
        info = self.info
        shape = tuple(info["frame_shape"])
        self.learner = DQNLearner(cfg, info["stack"], shape, info["num_actions"], "cpu")
        self.replay = None  # type: ignore[assignment]  # RLlib's own, inside the algorithm
        self.counters, self.last_eval = Counters(), None
        self.last_eval: EvalResult | None
        if resume:
            self.counters, _, self.last_eval = restore_training_checkpoint(
                run, cfg, self.learner, None, self.rng, info
            )
        self.counters.sessions += 1
        self.clock = RunClock(self.counters.wall_seconds)
        self.pace = RateLimiter(cfg.train.replay_ratio, self.counters.update_credit)
        self.start_step, self.start_updates = self.counters.step, self.learner.updates
        ensure_ray(address)
        register_env(ENV_NAME, lambda env_cfg: SingleDQNEnv(env_cfg))
        config = algorithm_config(cfg, info, self.start_step, self.counters.sessions)
        self.algo = config.build_algo()
        if resume:
            self._push()
        self.result: dict[str, Any] = {}
        self.eps = epsilon_at(cfg, self.counters.step)
        self.losses: list[float] = []

    def train(self, show_progress: bool) -> TrainSummary:
        title = f"dqn {self.info['game']} ({setting_label(self.cfg)}, RLlib)"
        with dqn_display(title, self.cfg.run.steps, self.counters.step, show_progress) as bar:
            note = f"resumed {self.run.path} at step {self.counters.step}, replay refilling"
            bar.message(note if self.resume else f"training on RLlib in {self.run.path}")
            return self.run_to_end(bar)

    # -- the Trainer the runner steps -----------------------------------------------------------
    def advance(self) -> None:
        if self.cfg.replay.prioritized:  # RLlib reads beta from its config on every sample
            self.algo.config.replay_buffer_config["beta"] = beta_at(self.cfg, self.step)
        self.result = self.algo.train()
        runners = self.result.get("env_runners", {})
        self.counters.step = self.start_step + int(runners.get("num_env_steps_sampled_lifetime", 0))
        games = float(runners.get("games", 0.0))
        self.counters.episodes += int(games) if math.isfinite(games) else 0
        learner = self.result.get("learners", {}).get(MODULE, {})
        trained = int(learner.get("num_module_steps_trained_lifetime", 0))
        self.learner.updates = self.start_updates + trained // self.cfg.train.batch_size
        if "qf_loss" in learner:
            self.losses.append(float(learner["qf_loss"]))
        self.eps = epsilon_at(self.cfg, self.counters.step)

    def _game_return(self) -> float | None:
        value = self.result.get("env_runners", {}).get(GAME_RETURN)
        return None if value is None or not math.isfinite(float(value)) else float(value)

    def figures(self, rate: float | None) -> str:
        loss = float(np.mean(self.losses[-10:])) if self.losses else None
        return bar_figures(rate, self._game_return(), loss, self.eps)

    def log_row(self, rate: float | None) -> dict[str, Any]:
        values = {
            "episode_return": self._game_return(),
            "loss": float(np.mean(self.losses)) if self.losses else None,
            "epsilon": self.eps,
            "updates": self.learner.updates,
            "steps_per_s": rate,
            "replay_ratio": self._measured_ratio(),
        }
        self.losses = []
        return values

    def _measured_ratio(self) -> float | None:
        """Updates per agent step since learning started in this session."""
        learning_from = self.start_step + self.cfg.train.learning_starts
        steps = self.counters.step - learning_from
        return (self.learner.updates - self.start_updates) / steps if steps > 0 else None

    def _settle(self) -> None:
        """Copy RLlib's learner state (weights, target, Adam) into the mirror."""
        state = self.algo.learner_group.get_state()["learner"]
        weights = state["rl_module"][MODULE]
        self.learner.online.load_state_dict(module_tensors(weights, "net"))
        self.learner.target.load_state_dict(module_tensors(weights, "_target_net"))
        optimizer = state["optimizer"][f"{MODULE}_default_optimizer"]["state"]
        self.learner.optimizer.load_state_dict(numpy_to_torch(optimizer))

    def _push(self) -> None:
        """The mirror's state (restored from the checkpoint) into RLlib's learner and runners."""
        group = self.algo.learner_group
        state = group.get_state()
        learner = state["learner"]
        weights = module_state(self.learner.online.state_dict(), "net")
        weights |= module_state(self.learner.target.state_dict(), "_target_net")
        learner["rl_module"][MODULE] = weights
        key = f"{MODULE}_default_optimizer"
        learner["optimizer"][key]["state"] = self.learner.optimizer.state_dict()
        group.set_state(state)
        self.algo.env_runner_group.sync_weights(from_worker_or_learner_group=group)

    def close(self) -> None:
        try:
            self.algo.stop()
        finally:
            self.run.close()


def train_rllib(
    cfg: DQNConfig,
    run: RunDir,
    resume: bool,
    address: str | None = None,
    show_progress: bool = True,
) -> TrainSummary:
    if cfg.train.torch_threads:
        torch.set_num_threads(cfg.train.torch_threads)
    torch.manual_seed(cfg.run.seed)
    return RLlibDQNRun(cfg, run, resume, address).train(show_progress)
