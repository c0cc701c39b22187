"""`ponder train dqn --engine rllib`: RLlib's DQN driven by ponder's config, with ponder's
Q-network as the RLModule's, writing ponder checkpoints that `ponder watch`, the evaluation and
`--resume` read; keys RLlib cannot honour are one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ponder.agents.dqn.config import DQNConfig
from ponder.checkpoint import load_checkpoint, read_metadata
from ponder.config import load_config
from ponder.rundir import RunDir
from ponder.selfplay import rllib_dqn

ROOT = Path(__file__).resolve().parents[1]


def ponder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from ponder.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def sets(*items: str) -> list[str]:
    return [arg for item in items for arg in ("--set", item)]


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("agent.augment=random_shift", "agent.augment"),
        ("train.overlap_lag=2", "train.overlap_lag"),
        ("train.mixed_precision=true", "train.mixed_precision"),
        ("checkpoint.replay=true", "checkpoint.replay"),
        ("replay.priority_eps=0.01", "replay.priority_eps"),
        # More than any machine's memory: 70 GB of frames, 280 GB as RLlib's stacks.
        ("replay.capacity=10000000", "replay.capacity=10,000,000"),
        ("train.replay_ratio=0.3", "train.replay_ratio"),
        ("run.workers=2", "run.workers"),
    ],
)
def test_keys_rllib_cannot_honour_are_refused_in_one_line(tmp_path, override, key) -> None:
    out = tmp_path / "run"
    config = str(ROOT / "configs/atari/breakout.yaml")
    base = ["train.overlap_lag=0", "replay.capacity=100000"]
    result = ponder("train", "dqn", "-c", config, "--engine", "rllib", "--out", str(out),
                    *sets(*base, *override.split()))  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and key in result.stderr, result.stderr
    assert "--engine rllib cannot honour" in result.stderr or "more than this" in result.stderr
    assert not out.exists()  # refused before the run directory is made


def test_replay_ratio_is_what_rllibs_round_robin_runs() -> None:
    """The ratio RLlib's sample/train round-robin runs, from its own weights function."""
    from ray.rllib.algorithms.dqn.dqn import calculate_rr_weights

    for path in ["configs/atari/breakout.yaml", "configs/classic/cartpole_dqn.yaml"]:
        cfg = load_config(DQNConfig, ROOT / path, ["train.overlap_lag=0"])
        assert rllib_dqn.refusals(cfg) == []
        info = {"stack": 1, "frame_shape": [4], "num_actions": 2}
        rounds, updates = calculate_rr_weights(rllib_dqn.algorithm_config(cfg, info, 0, 1))
        assert (rounds, updates) == rllib_dqn.round_robin(cfg)
        ratio = updates / (rounds * rllib_dqn.steps_per_round(cfg))
        assert ratio == pytest.approx(cfg.train.replay_ratio)


def test_epsilon_schedule_continues_across_a_resume() -> None:
    cfg = DQNConfig.model_validate({"train": {"eps_start": 1.0, "eps_end": 0.1,
                                              "eps_decay_steps": 1000}})  # fmt: skip
    assert rllib_dqn.epsilon_schedule(cfg, 0) == [[0, 1.0], [1000, 0.1]]
    (_, eps), (left, end) = rllib_dqn.epsilon_schedule(cfg, 400)
    assert eps == pytest.approx(0.64) and (left, end) == (600, 0.1)
    assert rllib_dqn.epsilon_schedule(cfg, 5000) == [[0, 0.1], [1, 0.1]]


@pytest.mark.slow
def test_breakout_on_rllib_checkpoints_watches_and_resumes(tmp_path) -> None:
    run_dir = tmp_path / "run"
    config = str(ROOT / "configs/atari/breakout.yaml")
    small = sets(
        "env.protocol=nature", "env.num_envs=4", "run.device=cpu", "replay.capacity=4000",
        "train.learning_starts=300", "run.log_every=300", "checkpoint.every=100000",
        "eval.episodes=2", "eval.num_envs=2", "eval.max_frames=800", "eval.every=100000",
        "rllib.iteration_steps=120", "train.overlap_lag=0",
    )  # fmt: skip
    first = ponder("train", "dqn", "-c", config, "--engine", "rllib", "--out", str(run_dir),
                   *small, "--set", "run.steps=600")  # fmt: skip
    assert first.returncode == 0, first.stderr
    run = RunDir.open(run_dir)
    stem = run.latest_checkpoint()
    meta = read_metadata(stem)
    assert meta["algorithm"] == "dqn" and meta["env"]["protocol"]["name"] == "nature"
    assert meta["step"] >= 600 and meta["learner"]["updates"] > 0
    # The weights are ponder's QNetwork's own tensors, with the target and Adam's state.
    tensors = load_checkpoint(stem, expect={"algorithm": "dqn"}).tensors
    assert "model/torso.convs.0.weight" in tensors and "target/value.2.bias" in tensors
    assert tensors["optimizer/0/step"].item() == meta["learner"]["updates"]
    assert [r["step"] for r in run.read_metrics() if "eval/mean" in r] == [meta["step"]]

    watched = ponder("watch", str(run_dir), "--episodes", "1", "--max-frames", "400")
    assert watched.returncode == 0, watched.stderr
    assert "breakout (nature protocol)" in watched.stdout

    second = ponder("train", "dqn", "--resume", str(run_dir), "--set", "run.steps=900")
    assert second.returncode == 0, second.stderr
    meta2 = read_metadata(run.latest_checkpoint())
    assert meta2["counters"]["sessions"] == 2 and meta2["step"] >= 900
    # Adam's step count goes on from the first session's (the replay refills first).
    resumed = load_checkpoint(run.latest_checkpoint(), expect={"algorithm": "dqn"}).tensors
    assert resumed["optimizer/0/step"].item() == meta2["learner"]["updates"]
    assert meta2["learner"]["updates"] > meta["learner"]["updates"]


@pytest.mark.slow
def test_cartpole_learns_on_rllib_with_ponders_config(tmp_path) -> None:
    """RLlib's DQN with ponder's CartPole config and network gets well past random (~20)."""
    run_dir = tmp_path / "run"
    config = str(ROOT / "configs/classic/cartpole_dqn.yaml")
    result = ponder("train", "dqn", "-c", config, "--engine", "rllib", "--out", str(run_dir),
                    "--quiet", *sets("run.steps=15000", "run.stop_when.eval_return=150",
                                     "eval.every=2500"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    best = max(r["eval/mean"] for r in RunDir.open(run_dir).read_metrics() if "eval/mean" in r)
    assert best >= 150


def test_prioritized_beta_anneals_inside_rllib(tmp_path) -> None:
    """RLlib reads beta from its config on every sample: the run keeps it on ponder's schedule."""
    from ponder.agents.dqn.training import beta_at, prepare_run
    from ponder.selfplay.cluster import shutdown_ray

    config = ROOT / "configs/classic/cartpole_dqn.yaml"
    extra = ["run.engine=rllib", "replay.prioritized=true", "run.steps=2000",
             "train.learning_starts=100", "rllib.iteration_steps=200"]  # fmt: skip
    cfg, run, _ = prepare_run(config, extra, tmp_path / "run")
    trainer = rllib_dqn.RLlibDQNRun(cfg, run, False, None)
    try:
        trainer.advance()
        before_last = trainer.step
        trainer.advance()
        beta = trainer.algo.config.replay_buffer_config["beta"]
        assert cfg.replay.beta_start < beta == pytest.approx(beta_at(cfg, before_last))
        assert trainer.algo.config.replay_buffer_config["type"] == "PrioritizedEpisodeReplayBuffer"
    finally:
        trainer.close()
        shutdown_ray()
