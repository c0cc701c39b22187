"""DQN learns CartPole-v1: `ponder train dqn` with the shipped config stops once an evaluation
averages >= 495, and the final weights then average >= 475 over 20 fresh episodes with seeds
the run never saw."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ponder.agents.dqn.config import DQNConfig
from ponder.config import load_config
from ponder.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_dqn_learns_cartpole(tmp_path):
    import torch

    from ponder.agents.dqn.evaluation import evaluate
    from ponder.agents.dqn.learner import DQNLearner
    from ponder.envs.atari.classic import ClassicEnvs

    run_dir = tmp_path / "run"
    out = subprocess.run(
        [
            sys.executable, "-c", "from ponder.cli import main; main()", "train", "dqn",
            "--config", str(ROOT / "configs/classic/cartpole_dqn.yaml"), "--out", str(run_dir),
        ],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    run = RunDir.open(run_dir)
    cfg = load_config(DQNConfig, run.config_path())
    evals = [row for row in run.read_metrics() if "eval/mean" in row]
    assert evals[-1]["eval/mean"] >= 495 and evals[-1]["step"] <= cfg.run.steps

    envs = ClassicEnvs("CartPole-v1", 10, seed=424242)
    learner = DQNLearner(cfg, envs.stack, envs.frame_shape, envs.num_actions)
    learner.load_state(run.load_latest())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = evaluate(learner, envs, 20, 0.0, np.random.default_rng(7))
    finally:
        torch.set_num_threads(threads)
    assert result.episodes == 20
    assert result.mean >= 475, result.returns
