"""DQN on Atari: speed beside Stable-Baselines3 and RLlib, replay memory, and Atari-100k learning.

    python benchmarks/dqn.py [--quick]                  speed + env throughput + memory
    python benchmarks/dqn.py --speed | --memory         one part
    python benchmarks/dqn.py --engines [--quick]        each engine for ponder's config
    python benchmarks/dqn.py --learning --game breakout --seed 0 [--quick]
    python benchmarks/dqn.py --minatar --game breakout --seed 0

- speed: agent steps/s of the whole training loop (acting, replay, updates) once learning has
  started, for ponder's DQN, Stable-Baselines3's DQN and RLlib's DQN (new API stack), with the
  same network (Nature CNN, 512-unit head, no dueling), the same algorithm (1-step vanilla DQN,
  uniform replay, Huber loss, Adam, batch 32, one update per 4 agent steps, hard target copies),
  the same emulator and preprocessing (ale-py's vector env: frame skip 4 with max-pooling,
  84x84 grayscale, 4-frame stack), the same number of envs and the same torch threads. Peers see
  the emulator's own 4-frame stack; ponder stacks from its one-frame replay.
  Also env-only throughput: ponder's env pipeline (one frame per step plus replay writes and the
  stack read for acting) beside the raw vector env stepping with its native 4-frame stack.
- memory: resident memory (VmRSS) of a 1M-transition ponder replay allocated and filled in a
  fresh process, beside a Stable-Baselines3 ReplayBuffer filled the same way at the largest
  size this machine holds (its bytes per transition scale linearly).
- minatar: one MinAtar game (configs/minatar/<game>.yaml) and seed per invocation, resumable,
  appended to benchmarks/results/dqn_minatar.json with the training curve, the final
  evaluation, the minutes and the machine's load over the run; random play is measured beside it.
- learning: one Atari-100k seed (configs/atari/atari100k_<game>.yaml) per invocation, resumable
  (rerun the same command after a kill), appended to benchmarks/results/dqn_atari100k.json.

Results: benchmarks/results/dqn.json (dqn_quick.json with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS_DIR, LoadSampler, write_result

ROOT = Path(__file__).resolve().parent.parent
PEER_PACKAGES = ("ale-py", "gymnasium", "stable-baselines3", "ray")
REFERENCES_100K = {
    "breakout": {"data_efficient_rainbow_tuned": 6.5, "spr": 17.1, "human": 30.5, "goal": 17.0},
    "pong": {"data_efficient_rainbow_tuned": -16.0, "spr": -5.4, "human": 14.6},
}


# -- speed: the whole training loop, side by side --------------------------------------------
GAME = "breakout"
NUM_ENVS = 4
BATCH = 32
REPLAY_RATIO = 0.25  # updates per agent step
CAPACITY = 20_000
LR = 1e-4
TARGET_PERIOD = 2_500  # updates (10k agent steps)
THREADS = 2


def rss_bytes() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def speed_ponder(
    learning_starts: int,
    measured: int,
    lag: int = 0,
    threads: int = THREADS,
    bf16: bool = False,
    engine: str = "ponder",
) -> dict[str, Any]:
    """ponder's config through one engine: its own loop, or RLlib's DQN with ponder's network
    (`--engine rllib`, which acts and learns in turn: lag 0, float32 only)."""
    import tempfile

    from ponder.agents.dqn.loop import train_single
    from ponder.agents.dqn.training import prepare_run
    from ponder.rundir import RunDir

    overrides = [
        f"env.game={GAME}",
        "env.protocol=machado",
        f"env.num_envs={NUM_ENVS}",
        "run.device=cpu",
        "network.dueling=false",
        "agent.double=false",
        "agent.n_step=1",
        "agent.loss=huber",
        f"agent.lr={LR}",
        "agent.max_grad_norm=10.0",
        "agent.target_update=hard",
        f"agent.target_period={TARGET_PERIOD}",
        "replay.prioritized=false",
        f"replay.capacity={CAPACITY}",
        f"train.batch_size={BATCH}",
        f"train.replay_ratio={REPLAY_RATIO}",
        f"train.learning_starts={learning_starts}",
        f"run.steps={learning_starts + measured}",
        f"run.log_every={learning_starts // 4}",
        "checkpoint.every=100000000",
        "eval.every=100000000",
        "eval.episodes=1",
        "eval.num_envs=1",
        "eval.max_frames=400",
        f"train.torch_threads={threads}",
        f"train.overlap_lag={lag}",
        f"train.mixed_precision={str(bf16).lower()}",
        f"run.engine={engine}",
        "rllib.iteration_steps=100",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        cfg, run, _ = prepare_run(ROOT / "configs/atari/breakout.yaml", overrides, Path(tmp) / "r")
        if engine == "rllib":
            from ponder.selfplay.rllib_dqn import train_rllib

            train_rllib(cfg, run, False, show_progress=False)
        else:
            train_single(cfg, run, False, show_progress=False)
        rows = {
            row["step"]: row
            for row in RunDir(run.path).read_metrics()
            if row.get("updates", 0) > 0  # the window starts once learning has
        }
    steps = sorted(rows)  # the log rows at the first steps past each multiple of log_every
    start, end = rows[steps[0]], rows[steps[-1]]
    steps = end["step"] - start["step"]
    return {
        "steps_per_s": steps / (end["time"] - start["time"]),
        "updates_in_window": end["updates"] - start["updates"],
        "replay_ratio_measured": (end["updates"] - start["updates"]) / steps,
    }


def learner_only(updates: int, threads: int, bf16: bool = False) -> dict[str, Any]:
    """The update alone (the same network, batch and loss), on batches already in memory: the
    ceiling any loop with this replay ratio can reach is REPLAY_RATIO^-1 times this rate. With
    `bf16`, also the loss's relative difference to float32 on the first batch, same weights."""
    import torch

    from ponder.agents.dqn.config import DQNConfig
    from ponder.agents.dqn.learner import DQNLearner
    from ponder.agents.dqn.replay import Batch

    torch.set_num_threads(threads)

    def config(mixed: bool) -> DQNConfig:
        return DQNConfig.model_validate(
            {
                "run": {"device": "cpu"},
                "network": {"dueling": False},
                "agent": {"double": False, "n_step": 1, "lr": LR, "target_period": TARGET_PERIOD},
                "replay": {"prioritized": False},
                "train": {"mixed_precision": mixed},
            }
        )

    torch.manual_seed(0)
    learner = DQNLearner(config(bf16), 4, (84, 84), 4)
    rng = np.random.default_rng(0)
    batches = [
        Batch(
            index=np.arange(BATCH),
            obs=rng.integers(0, 256, (BATCH, 4, 84 * 84), dtype=np.uint8),
            next_obs=rng.integers(0, 256, (BATCH, 4, 84 * 84), dtype=np.uint8),
            actions=rng.integers(0, 4, BATCH).astype(np.uint8),
            returns=rng.random(BATCH, dtype=np.float32),
            discounts=np.full(BATCH, 0.99, np.float32),
            probs=np.full(BATCH, 1.0 / CAPACITY),
            weights=np.ones(BATCH, np.float32),
        )
        for _ in range(8)
    ]
    out: dict[str, Any] = {}
    if bf16:
        torch.manual_seed(0)
        reference = DQNLearner(config(False), 4, (84, 84), 4).update(batches[0])[1]
        loss = learner.update(batches[0])[1]
        out["loss_relative_difference_to_float32"] = abs(loss - reference) / abs(reference)
    for b in batches:  # warm-up: allocator and oneDNN primitive caches
        learner.update(b)
    start = time.perf_counter()
    for k in range(updates):
        learner.update(batches[k % len(batches)])
    rate = updates / (time.perf_counter() - start)
    return {"updates_per_s": rate, "agent_steps_per_s_ceiling": rate / REPLAY_RATIO, **out}


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX): only then is the
    bf16 variant a speed option rather than an emulation."""
    import torch

    return bool(
        torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


class AtariVecEnvForSB3:
    """Stable-Baselines3's VecEnv interface over ale-py's vector env (native 4-frame stack,
    reward clipping in the env as SB3's Atari wrappers do, autoreset in the same step with the
    final observation in `terminal_observation`, which SB3 needs for truncations)."""

    def __new__(cls, game: str, num_envs: int, seed: int) -> Any:
        import ale_py
        from stable_baselines3.common.vec_env import VecEnv

        class _Env(VecEnv):
            def __init__(self) -> None:
                self.env = ale_py.AtariVectorEnv(
                    game,
                    num_envs,
                    num_threads=min(num_envs, os.cpu_count() or 1),
                    stack_num=4,
                    repeat_action_probability=0.25,
                    noop_max=0,
                    use_fire_reset=False,
                    reward_clipping=True,
                    autoreset_mode="SameStep",
                )
                super().__init__(
                    num_envs, self.env.single_observation_space, self.env.single_action_space
                )
                self.seed_value = seed
                self.actions: Any = None

            def reset(self) -> np.ndarray:
                obs, _ = self.env.reset(seed=self.seed_value)
                return obs

            def step_async(self, actions: np.ndarray) -> None:
                self.actions = np.asarray(actions, dtype=np.int64)

            def step_wait(self) -> Any:
                obs, rewards, terminated, truncated, info = self.env.step(self.actions)
                dones = terminated | truncated
                infos: list[dict[str, Any]] = [{} for _ in range(num_envs)]
                for i in np.flatnonzero(dones):
                    infos[i]["terminal_observation"] = info["final_obs"][i]
                    infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                return obs, rewards.astype(np.float32), dones, infos

            def close(self) -> None:
                self.env.close()

            def get_attr(self, name: str, indices: Any = None) -> list[Any]:
                return [None] * num_envs

            def set_attr(self, name: str, value: Any, indices: Any = None) -> None:
                pass

            def env_method(self, name: str, *args: Any, indices: Any = None, **kw: Any) -> list:
                return [None] * num_envs

            def env_is_wrapped(self, wrapper_class: Any, indices: Any = None) -> list[bool]:
                return [False] * num_envs

        return _Env()


def speed_sb3(learning_starts: int, measured: int) -> dict[str, Any]:
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    torch.set_num_threads(THREADS)
    marks: dict[str, float] = {}

    class Clock(BaseCallback):
        def _on_step(self) -> bool:
            if "start" not in marks and self.num_timesteps >= learning_starts:
                marks["start"], marks["start_step"] = time.perf_counter(), self.num_timesteps
            marks["end"], marks["end_step"] = time.perf_counter(), self.num_timesteps
            return True

    env = AtariVecEnvForSB3(GAME, NUM_ENVS, seed=0)
    model = DQN(
        "CnnPolicy",
        env,
        learning_rate=LR,
        buffer_size=CAPACITY,
        learning_starts=learning_starts,
        batch_size=BATCH,
        train_freq=1,
        gradient_steps=int(REPLAY_RATIO * NUM_ENVS),
        target_update_interval=int(TARGET_PERIOD / REPLAY_RATIO),
        exploration_fraction=0.1,
        exploration_final_eps=0.01,
        max_grad_norm=10.0,
        device="cpu",
        seed=0,
        policy_kwargs={"net_arch": []},
        optimize_memory_usage=False,
    )
    model.learn(total_timesteps=learning_starts + measured, callback=Clock())
    env.close()
    steps = marks["end_step"] - marks["start_step"]
    return {"steps_per_s": steps / (marks["end"] - marks["start"]), "network": str(model.q_net)}


def rllib_atari_env_class() -> type:
    """The gymnasium env class RLlib is handed, built in a function so that gymnasium is
    imported only by the process that measures RLlib."""
    import gymnasium as gym

    class OneAtari(gym.Env):
        """One ale-py game as a gymnasium env (RLlib vectorizes these itself), native 4-frame
        stack, channels last and float32 in [0, 1] as RLlib's own Atari wrappers hand over."""

        def __init__(self, config: Any = None) -> None:
            import ale_py

            self.env = ale_py.AtariVectorEnv(
                GAME,
                1,
                num_threads=1,
                stack_num=4,
                repeat_action_probability=0.25,
                noop_max=0,
                use_fire_reset=False,
                reward_clipping=True,
                autoreset_mode="SameStep",
            )
            self.observation_space = gym.spaces.Box(0.0, 1.0, (84, 84, 4), np.float32)
            self.action_space = gym.spaces.Discrete(int(self.env.single_action_space.n))

        def _obs(self, obs: np.ndarray) -> np.ndarray:
            return np.moveaxis(obs[0], 0, -1).astype(np.float32) / 255.0

        def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
            obs, _ = self.env.reset(seed=seed)
            return self._obs(obs), {}

        def step(self, action: int) -> Any:
            obs, r, te, tr, info = self.env.step(np.array([action], dtype=np.int64))
            if te[0] or tr[0]:
                obs = info["final_obs"]
            return self._obs(obs), float(r[0]), bool(te[0]), bool(tr[0]), {}

    return OneAtari


def configure_rllib_dqn(config: Any, learning_starts: int) -> Any:
    """RLlib's `DQNConfig` set to the shared setting: Nature CNN, vanilla 1-step DQN, the same
    replay ratio, target period, envs and seed, in one process (no remote runners)."""
    convs = [[32, [8, 8], 4, "valid"], [64, [4, 4], 2, "valid"], [64, [3, 3], 1, "valid"]]
    return (
        config.environment("ponder_bench_atari")
        .framework("torch")
        .env_runners(num_env_runners=0, num_envs_per_env_runner=NUM_ENVS, rollout_fragment_length=1)
        .learners(num_learners=0)
        .rl_module(
            model_config={
                "conv_filters": convs,
                "conv_activation": "relu",
                "head_fcnet_hiddens": [512],
                "head_fcnet_activation": "relu",
            }
        )
        .training(
            lr=LR,
            train_batch_size_per_learner=BATCH,
            n_step=1,
            double_q=False,
            dueling=False,
            num_atoms=1,
            noisy=False,
            training_intensity=REPLAY_RATIO * BATCH,
            num_steps_sampled_before_learning_starts=learning_starts,
            target_network_update_freq=int(TARGET_PERIOD / REPLAY_RATIO),
            grad_clip=10.0,
            td_error_loss_fn="huber",
            replay_buffer_config={"type": "EpisodeReplayBuffer", "capacity": CAPACITY},
            epsilon=[[0, 1.0], [100_000, 0.01]],
        )
        .reporting(min_sample_timesteps_per_iteration=100, min_time_s_per_iteration=0)
        .debugging(seed=0)
    )


def speed_rllib(learning_starts: int, measured: int) -> dict[str, Any]:
    import ray
    import torch
    from ray.rllib.algorithms.dqn import DQNConfig
    from ray.tune.registry import register_env

    from ponder.selfplay.cluster import ensure_ray

    OneAtari = rllib_atari_env_class()
    torch.set_num_threads(THREADS)
    # ponder's own local start: a fresh instance on the loopback only, with token authentication.
    ensure_ray(num_cpus=os.cpu_count())
    register_env("ponder_bench_atari", lambda cfg: OneAtari(cfg))
    algo = configure_rllib_dqn(DQNConfig(), learning_starts).build_algo()
    network = str(algo.env_runner.module)
    start_time = start_step = None
    while True:
        result = algo.train()
        step = result["env_runners"]["num_env_steps_sampled_lifetime"]
        now = time.perf_counter()
        if start_time is None and step >= learning_starts:
            start_time, start_step = now, step
        if step >= learning_starts + measured:
            break
    algo.stop()
    ray.shutdown()
    return {"steps_per_s": (step - start_step) / (now - start_time), "network": network}


def env_raw(steps: int, num_envs: int) -> dict[str, Any]:
    import ale_py

    env = ale_py.AtariVectorEnv(
        GAME,
        num_envs,
        num_threads=min(num_envs, os.cpu_count() or 1),
        stack_num=4,
        repeat_action_probability=0.25,
        noop_max=0,
        use_fire_reset=False,
    )
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(steps // num_envs):
        env.step(rng.integers(0, 4, num_envs))
    seconds = time.perf_counter() - start
    return {"steps_per_s": (steps // num_envs) * num_envs / seconds}


def env_ponder(steps: int, num_envs: int) -> dict[str, Any]:
    from ponder.agents.dqn.replay import FrameReplay
    from ponder.envs.atari.protocols import get_protocol
    from ponder.envs.atari.vector import AtariEnvs

    envs = AtariEnvs(GAME, get_protocol("machado"), num_envs, seed=0)
    replay = FrameReplay(
        CAPACITY,
        num_envs,
        envs.frame_shape,
        envs.frame_dtype,
        stack=4,
        n_step=1,
        gamma=0.99,
        prioritized=False,
    )
    streams = np.arange(num_envs)
    frames = envs.reset()
    replay.begin(streams, frames, np.ones(num_envs, bool), np.zeros(num_envs, bool))
    rng = np.random.default_rng(0)
    replay.head_stacks(streams)  # numba compile outside the window
    start = time.perf_counter()
    for _ in range(steps // num_envs):
        replay.head_stacks(streams)
        actions = rng.integers(0, 4, num_envs)
        out = envs.step(actions)
        replay.commit(streams, actions, out.rewards, out.terminal)
        replay.begin(streams, out.frames, out.first, out.final)
    seconds = time.perf_counter() - start
    return {"steps_per_s": (steps // num_envs) * num_envs / seconds}


# -- memory: a filled replay's resident size --------------------------------------------------
def memory_ponder(capacity: int) -> dict[str, Any]:
    from ponder.agents.dqn.replay import FrameReplay

    streams = 8
    chunk = 1000
    rng = np.random.default_rng(0)
    pool = rng.integers(0, 256, (streams, chunk, 84 * 84), dtype=np.uint8)
    flags = np.zeros((streams, chunk), np.uint8)
    actions = rng.integers(0, 4, (streams, chunk)).astype(np.uint8)
    rewards = rng.random((streams, chunk)).astype(np.float32)

    def make(size: int) -> Any:
        return FrameReplay(
            size, streams, (84, 84), np.uint8, stack=4, n_step=3, gamma=0.99, prioritized=True
        )

    # Compile the kernels on a throwaway buffer: the baseline then holds all but the buffer.
    make(streams * 64).extend(
        np.arange(streams), pool[:, :10], flags[:, :10], actions[:, :10], rewards[:, :10]
    )
    before = rss_bytes()
    replay = make(capacity)
    filled = 0
    while filled < capacity:
        replay.extend(np.arange(streams), pool, flags, actions, rewards)
        filled += streams * chunk
    after = rss_bytes()
    batch = replay.sample(32, rng)  # the full buffer still samples
    assert batch.obs.shape == (32, 4, 84 * 84)
    return {
        "capacity": replay.capacity,
        "transitions_written": int(replay.counts.sum()),
        "rss_bytes": after,
        "rss_growth_bytes": after - before,
        "bytes_per_transition": (after - before) / replay.capacity,
        "array_bytes": sum(
            getattr(replay, name).nbytes
            for name in ("frames", "actions", "rewards", "flags", "heads", "counts", "tree")
        ),
    }


def memory_sb3(capacity: int, optimize: bool) -> dict[str, Any]:
    from gymnasium import spaces
    from stable_baselines3.common.buffers import ReplayBuffer

    envs = 8
    obs_space = spaces.Box(0, 255, (4, 84, 84), np.uint8)
    rng = np.random.default_rng(0)
    pool = rng.integers(0, 256, (16, envs, 4, 84, 84), dtype=np.uint8)
    before = rss_bytes()
    buffer = ReplayBuffer(
        capacity,
        obs_space,
        spaces.Discrete(4),
        device="cpu",
        n_envs=envs,
        optimize_memory_usage=optimize,
        handle_timeout_termination=not optimize,  # SB3 cannot have both
    )
    actions = np.zeros((envs, 1))
    rewards = np.zeros(envs, np.float32)
    dones = np.zeros(envs, bool)
    for k in range(capacity // envs):
        buffer.add(pool[k % 16], pool[(k + 1) % 16], actions, rewards, dones, [{}] * envs)
    after = rss_bytes()
    return {
        "capacity": capacity,
        "optimize_memory_usage": optimize,
        "rss_bytes": after,
        "rss_growth_bytes": after - before,
        "bytes_per_transition": (after - before) / capacity,
    }


CHILDREN = {
    "speed_ponder": speed_ponder,
    "learner_only": learner_only,
    "speed_sb3": speed_sb3,
    "speed_rllib": speed_rllib,
    "env_raw": env_raw,
    "env_ponder": env_ponder,
    "memory_ponder": memory_ponder,
    "memory_sb3": memory_sb3,
}


# OpenMP's wait policy changes what an idle thread costs: spinning waiters (the default) are
# fastest when nothing else wants the cores, sleeping ones (PASSIVE, what `ponder train dqn`
# sets) when emulator threads or other processes share them. Each peer is measured under both
# and scored by its faster one.
WAIT_POLICIES = ("default", "PASSIVE")


def child(name: str, *args: Any, wait_policy: str = "default") -> dict[str, Any]:
    """Run one measurement in a fresh process (clean memory, threads and imports)."""
    cmd = [sys.executable, __file__, "--child", name, *map(str, args)]
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if wait_policy != "default":
        env["OMP_WAIT_POLICY"] = wait_policy
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=6 * 3600, env=env)
    if out.returncode != 0:
        tail = "\n".join(out.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{name} failed:\n{tail}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ponder_speed_runs(learning_starts: int, measured: int) -> dict[str, Any]:
    """ponder's serial loop and its overlapped one (learner thread), under both wait policies."""
    variants: dict[str, Any] = {}
    for policy in WAIT_POLICIES:
        for lag, threads in ((0, THREADS), (2, 1), (2, THREADS)):
            label = f"lag{lag}_threads{threads}_{policy}"
            variants[label] = child(
                "speed_ponder", learning_starts, measured, lag, threads, wait_policy=policy
            )
    return variants


def ponder_bf16_speed_runs(learning_starts: int, measured: int) -> dict[str, Any]:
    """ponder's loop under bfloat16 autocast (train.mixed_precision), under both wait policies."""
    runs: dict[str, Any] = {}
    for policy in WAIT_POLICIES:
        for lag, threads in ((0, THREADS), (2, 1)):
            label = f"lag{lag}_threads{threads}_bf16_{policy}"
            runs[label] = child(
                "speed_ponder",
                learning_starts,
                measured,
                lag,
                threads,
                True,
                wait_policy=policy,
            )
    return runs


def peer_speed_runs(name: str, learning_starts: int, measured: int) -> dict[str, Any]:
    """One peer's loop by wait policy: both for SB3, the default only for RLlib (minutes a run)."""
    policies = WAIT_POLICIES if name == "sb3" else ("default",)
    return {
        policy: child(f"speed_{name}", learning_starts, measured, wait_policy=policy)
        for policy in policies
    }


def learner_speed(updates: int, bf16: bool) -> dict[str, Any]:
    """The update alone at 1 and THREADS torch threads, and in bfloat16 where the CPU has it."""
    learner = {
        f"threads{threads}": child("learner_only", updates, threads) for threads in (1, THREADS)
    }
    if bf16:
        learner[f"threads{THREADS}_bf16"] = child("learner_only", updates, THREADS, True)
    return learner


def env_speed(steps: int) -> dict[str, Any]:
    """ponder's env pipeline beside the raw vector env, at NUM_ENVS and at 16 envs."""
    envs = {}
    for count in (NUM_ENVS, 16):
        raw = child("env_raw", steps, count)
        ours = child("env_ponder", steps, count)
        envs[f"{count}_envs"] = {
            "raw_vector_env_steps_per_s": raw["steps_per_s"],
            "ponder_pipeline_steps_per_s": ours["steps_per_s"],
            "ratio": ours["steps_per_s"] / raw["steps_per_s"],
        }
    return envs


def bf16_summary(
    bf16: bool, runs: dict[str, Any], fastest_peer_steps_per_s: float
) -> dict[str, Any]:
    """The bfloat16 runs and their best setting against the fastest float32 peer."""
    best = max(runs, key=lambda k: runs[k]["steps_per_s"]) if runs else None
    return {
        "cpu_has_bf16": bf16,
        "all_runs": {k: v["steps_per_s"] for k, v in runs.items()},
        "best_setting": best,
        "ratio_vs_fastest_peer": (
            runs[best]["steps_per_s"] / fastest_peer_steps_per_s if best else None
        ),
        "replay_ratio_measured": runs[best]["replay_ratio_measured"] if best else None,
    }


def run_speed(quick: bool) -> dict[str, Any]:
    learning_starts, measured = (300, 300) if quick else (2000, 4000)
    env_steps = 2000 if quick else 20_000
    runs: dict[str, dict[str, Any]] = {"ponder": ponder_speed_runs(learning_starts, measured)}
    # bfloat16 autocast (train.mixed_precision) where the CPU has bf16 units: a different
    # numerical setting from the peers' float32, so it is reported beside the ratio, not in it.
    bf16 = cpu_has_bf16()
    bf16_runs = ponder_bf16_speed_runs(learning_starts, measured) if bf16 else {}
    for name in ("sb3", "rllib"):
        runs[name] = peer_speed_runs(name, learning_starts, measured)
    best = {name: max(runs[name], key=lambda k: runs[name][k]["steps_per_s"]) for name in runs}
    peers = {name: runs[name][best[name]] for name in runs}
    fastest_peer = max(("sb3", "rllib"), key=lambda n: peers[n]["steps_per_s"])
    learner = learner_speed(200 if quick else 600, bf16)
    envs = env_speed(env_steps)
    return {
        "setup": {
            "game": GAME,
            "protocol": "machado",
            "num_envs": NUM_ENVS,
            "batch_size": BATCH,
            "replay_ratio_updates_per_agent_step": REPLAY_RATIO,
            "replay_capacity": CAPACITY,
            "learning_starts": learning_starts,
            "measured_agent_steps": measured,
            "torch_threads": THREADS,
            "algorithm": "vanilla DQN, 1-step, uniform replay, Huber",
            "network": "Nature CNN + Linear(3136,512) + ReLU + Linear(512,actions)",
        },
        "agent_steps_per_s": {name: peers[name]["steps_per_s"] for name in peers},
        "best_setting": best,
        "all_runs": {
            name: {k: v["steps_per_s"] for k, v in by.items()} for name, by in runs.items()
        },
        "ponder_replay_ratio_measured": peers["ponder"]["replay_ratio_measured"],
        "learner_only": learner,
        "ratio_vs_fastest_peer": peers["ponder"]["steps_per_s"]
        / peers[fastest_peer]["steps_per_s"],
        "fastest_peer": fastest_peer,
        "goal": ">= 2x the fastest peer",
        "bf16": bf16_summary(bf16, bf16_runs, peers[fastest_peer]["steps_per_s"]),
        "peer_networks": {n: peers[n].get("network") for n in ("sb3", "rllib")},
        "env_only": envs,
    }


def run_engines(quick: bool) -> dict[str, Any]:
    """Each way to train ponder's DQN config on this machine, side by side under the shared
    setting: ponder's loop (serial, and overlapped with a learner thread), RLlib's DQN with
    ponder's network (`--engine rllib`), and the peers' own loops (SB3, RLlib's own module)."""
    learning_starts, measured = (300, 300) if quick else (2000, 4000)
    env = {"wait_policy": "PASSIVE"}  # as `ponder train dqn` sets it
    runs = {
        "ponder_serial": child("speed_ponder", learning_starts, measured, 0, THREADS, **env),
        "ponder_overlapped": child("speed_ponder", learning_starts, measured, 2, 1, **env),
        "ponder_on_rllib": child(
            "speed_ponder", learning_starts, measured, 0, THREADS, False, json.dumps("rllib"), **env
        ),
        "rllib_own_module": child("speed_rllib", learning_starts, measured),
        "sb3": child("speed_sb3", learning_starts, measured, **env),
    }
    fastest = max(runs, key=lambda k: runs[k]["steps_per_s"])
    return {
        "setup": {
            "game": GAME,
            "num_envs": NUM_ENVS,
            "batch_size": BATCH,
            "replay_ratio": REPLAY_RATIO,
            "learning_starts": learning_starts,
            "measured_agent_steps": measured,
            "algorithm": "vanilla DQN, 1-step, uniform replay, Huber, Nature CNN",
        },
        "agent_steps_per_s": {k: v["steps_per_s"] for k, v in runs.items()},
        "replay_ratio_measured": {k: v.get("replay_ratio_measured") for k, v in runs.items()},
        "ratio_to_fastest": {
            k: v["steps_per_s"] / runs[fastest]["steps_per_s"] for k, v in runs.items()
        },
    }


def run_memory(quick: bool) -> dict[str, Any]:
    ours_capacity = 50_000 if quick else 1_000_000
    sb3_capacity = 10_000 if quick else 100_000
    ours = child("memory_ponder", ours_capacity)
    sb3 = child("memory_sb3", sb3_capacity, False)
    sb3_opt = child("memory_sb3", sb3_capacity, True)
    return {
        "ponder": ours,
        "sb3_replay_buffer": sb3,
        "sb3_replay_buffer_optimize_memory_usage": sb3_opt,
        "ponder_gb_per_million": ours["bytes_per_transition"] * 1e6 / 1e9,
        "sb3_gb_per_million": sb3["bytes_per_transition"] * 1e6 / 1e9,
        "sb3_optimized_gb_per_million": sb3_opt["bytes_per_transition"] * 1e6 / 1e9,
        "goal": "1M transitions <= 8 GB",
        "note": "SB3 filled at a smaller capacity (this machine cannot hold 1M of its "
        "transitions); its buffer is preallocated arrays, so bytes per transition scale",
    }


# -- learning: Atari-100k ---------------------------------------------------------------------
def learning(game: str, seed: int, quick: bool) -> dict[str, Any]:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `ponder train dqn` runs it
    from ponder.agents.dqn.loop import train_single
    from ponder.agents.dqn.training import prepare_run
    from ponder.checkpoint import read_metadata

    config = ROOT / "configs/atari" / f"atari100k_{game}.yaml"
    if not config.is_file():
        raise SystemExit(f"no Atari-100k config for {game!r}: {config}")
    overrides = [f"run.seed={seed}"]
    if quick:
        overrides += [
            "run.steps=1500",
            "train.learning_starts=500",
            "replay.capacity=5000",
            "eval.episodes=2",
            "eval.num_envs=2",
            "eval.max_frames=4000",
            "checkpoint.every=1000",
            "eval.every=1500",
        ]
    run_dir = ROOT / "runs" / ("atari100k_quick" if quick else "atari100k") / f"{game}-seed{seed}"
    resume = (run_dir / "config.yaml").is_file()
    if resume:
        cfg, run, has_ckpt = prepare_run(None, overrides, resume=run_dir)
    else:
        cfg, run, has_ckpt = prepare_run(config, overrides, out=run_dir)
    start = time.perf_counter()
    with LoadSampler() as load:
        summary = train_single(cfg, run, has_ckpt, show_progress=True)
    e = summary.last_eval
    record = {
        "game": game,
        "seed": seed,
        "config": str(config.relative_to(ROOT)),
        "run_dir": str(run_dir.relative_to(ROOT)),
        "protocol": e.protocol,
        "agent_steps": summary.step,
        "updates": summary.updates,
        "eval": {k: v for k, v in e.record().items() if k != "protocol"},
        "this_session_seconds": round(time.perf_counter() - start, 1),
        "load_average_1m_this_session": load.summary(),
        "training_wall_seconds": read_metadata(summary.checkpoint)["compute"]["wall_seconds"],
    }
    name = "dqn_atari100k_quick" if quick else "dqn_atari100k"
    path = RESULTS_DIR / f"{name}.json"
    runs = json.loads(path.read_text()).get("runs", []) if path.is_file() else []
    runs = [r for r in runs if (r["game"], r["seed"]) != (game, seed)] + [record]
    by_game: dict[str, Any] = {}
    for g in sorted({r["game"] for r in runs}):
        means = [r["eval"]["mean"] for r in runs if r["game"] == g]
        by_game[g] = {
            "seeds": len(means),
            "mean_of_seed_means": float(np.mean(means)),
            "per_seed": means,
            "published": REFERENCES_100K.get(g),
        }
    results = {
        "protocol_note": "Atari-100k under the nature protocol (no sticky actions, life loss "
        "terminal for learning, 30 no-op starts, 108k-frame cap); final evaluation only",
        "summary": by_game,
        "runs": runs,
    }
    write_result(name.removesuffix("_quick"), results, quick=quick, packages=PEER_PACKAGES)
    if not quick:
        plot_atari100k(game, [r for r in runs if r["game"] == game])
    return record


def plot_atari100k(game: str, runs: list[dict[str, Any]]) -> None:
    """benchmarks/results/dqn_atari100k_<game>.png: each seed's training returns (mean of the
    episodes of each log row) against agent steps, its final evaluation as a point, and the
    published DER, SPR and human scores as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ponder.rundir import RunDir

    fig, ax = plt.subplots(figsize=(7, 4))
    for r in runs:
        rows = [
            row for row in RunDir(ROOT / r["run_dir"]).read_metrics() if "episode_return" in row
        ]
        line = ax.plot(
            [row["step"] for row in rows],
            [row["episode_return"] for row in rows],
            label=f"seed {r['seed']} (training episodes)",
        )
        ax.errorbar(
            [r["agent_steps"]],
            [r["eval"]["mean"]],
            yerr=[
                [r["eval"]["mean"] - r["eval"]["ci95_low"]],
                [r["eval"]["ci95_high"] - r["eval"]["mean"]],
            ],
            fmt="o",
            color=line[0].get_color(),
            label=f"seed {r['seed']} final evaluation (95% CI)",
        )
    labels = {"data_efficient_rainbow_tuned": "DER", "spr": "SPR", "human": "human"}
    for name, value in (REFERENCES_100K.get(game) or {}).items():
        if name in labels:
            ax.axhline(value, linestyle=":", color="grey")
            ax.text(0.01, value, labels[name], transform=ax.get_yaxis_transform(), fontsize=8,
                    color="grey", va="bottom")  # fmt: skip
    ax.set_xlim(left=0)
    ax.set_xlabel("agent steps (4 frames each)")
    ax.set_ylabel("episode return")
    ax.set_title(f"ponder DQN, Atari-100k {game} (data-efficient config)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS_DIR / f"dqn_atari100k_{game}.png", dpi=110)
    plt.close(fig)


# MinAtar: the DQN curve of Young & Tian (2019), read off the plot in the MinAtar repository
# (img/learning_curves.gif: moving average of training returns over 100 episodes, 30 seeds).
# Approximate, to the plot's resolution; each pair is (frames in millions, return).
MINATAR_PUBLISHED_DQN = {
    "breakout": [(0.3, 8.0), (1.0, 9.5), (5.0, 10.0)],
    "asterix": [(0.3, 0.8), (1.0, 12.0), (5.0, 17.0)],
    "freeway": [(0.3, 6.0), (1.0, 48.0), (5.0, 50.0)],
    "seaquest": [(0.3, 0.6), (1.0, 1.0), (5.0, 20.0)],
    "space_invaders": [(0.3, 20.0), (1.0, 35.0), (5.0, 43.0)],
}


def minatar_random_return(game: str, episodes: int = 100) -> float:
    from ponder.envs.atari.make import make_envs

    envs = make_envs("minatar", game, "machado", 10, seed=12345, training=False)
    rng = np.random.default_rng(0)
    envs.reset()
    returns: list[float] = []
    while len(returns) < episodes:
        returns += envs.step(rng.integers(0, envs.num_actions, envs.num_envs)).episode_returns
    envs.close()
    return float(np.mean(returns[:episodes]))


def minatar(game: str, seed: int) -> dict[str, Any]:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `ponder train dqn` runs it
    from ponder.agents.dqn.loop import train_single
    from ponder.agents.dqn.training import prepare_run
    from ponder.checkpoint import read_metadata
    from ponder.rundir import RunDir

    config = ROOT / "configs/minatar" / f"{game}.yaml"
    if not config.is_file():
        raise SystemExit(f"no MinAtar config for {game!r}: {config}")
    run_dir = ROOT / "runs" / "minatar" / f"{game}-seed{seed}"
    overrides = [f"run.seed={seed}"]
    if (run_dir / "config.yaml").is_file():
        cfg, run, has_ckpt = prepare_run(None, overrides, resume=run_dir)
    else:
        cfg, run, has_ckpt = prepare_run(config, overrides, out=run_dir)
    load_before = os.getloadavg()
    start = time.perf_counter()
    summary = train_single(cfg, run, has_ckpt, show_progress=False)
    seconds = time.perf_counter() - start
    rows = RunDir(run_dir).read_metrics()
    curve = [
        {"step": r["step"], "train_return": r["episode_return"]}
        for r in rows
        if "episode_return" in r
    ]
    evals = [{"step": r["step"], "mean": r["eval/mean"]} for r in rows if "eval/mean" in r]
    e = summary.last_eval
    record = {
        "game": game,
        "seed": seed,
        "config": str(config.relative_to(ROOT)),
        "agent_steps": summary.step,
        "updates": summary.updates,
        "final_eval": {k: v for k, v in e.record().items() if k != "protocol"},
        "final_train_return_last_10k_steps": curve[-1]["train_return"] if curve else None,
        "random_policy_return": minatar_random_return(game),
        "published_dqn_young_tian_2019": MINATAR_PUBLISHED_DQN.get(game),
        "training_wall_seconds": read_metadata(summary.checkpoint)["compute"]["wall_seconds"],
        "this_session_seconds": round(seconds, 1),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "curve": curve,
        "evals": evals,
    }
    path = RESULTS_DIR / "dqn_minatar.json"
    runs = json.loads(path.read_text()).get("runs", []) if path.is_file() else []
    runs = [r for r in runs if (r["game"], r["seed"]) != (game, seed)] + [record]
    results = {
        "note": "MinAtar (sticky actions 0.1, difficulty ramping), one step = one frame; final "
        "evaluation at epsilon 0; published figures are training returns read off a plot",
        "runs": sorted(runs, key=lambda r: (r["game"], r["seed"])),
    }
    write_result("dqn_minatar", results, quick=False, packages=(*PEER_PACKAGES, "minatar"))
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--engines", action="store_true", help="each engine side by side")
    parser.add_argument("--learning", action="store_true", help="one Atari-100k seed")
    parser.add_argument("--minatar", action="store_true", help="one MinAtar game and seed")
    parser.add_argument("--game", default="breakout")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, *rest = args.child
        values = [json.loads(v) if v not in ("True", "False") else v == "True" for v in rest]
        print(json.dumps(CHILDREN[name](*values)))
        return
    if args.minatar:
        print(json.dumps(minatar(args.game, args.seed)["final_eval"]))
        return
    if args.learning:
        learning(args.game, args.seed, args.quick)
        return
    if args.engines:
        with LoadSampler() as load:
            engines = run_engines(args.quick)
        engines["load_average_over_run"] = load.summary()
        write_result("dqn_engines", engines, quick=args.quick, packages=PEER_PACKAGES)
        return
    both = not (args.speed or args.memory)
    # A part run alone keeps the other part's earlier figures (each part says when it ran).
    path = RESULTS_DIR / f"dqn{'_quick' if args.quick else ''}.json"
    earlier = json.loads(path.read_text()) if path.is_file() else {}
    results: dict[str, Any] = {k: earlier[k] for k in ("speed", "memory") if k in earlier}
    stamp = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_average": os.getloadavg(),
        "part_command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    if args.speed or both:
        with LoadSampler() as load:
            speed = run_speed(args.quick)
        results["speed"] = {**speed, **stamp, "load_average_over_run": load.summary()}
    if args.memory or both:
        results["memory"] = {**run_memory(args.quick), **stamp}
    write_result("dqn", results, quick=args.quick, packages=PEER_PACKAGES)


if __name__ == "__main__":
    main()
