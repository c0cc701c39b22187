"""DQN learns MinAtar Breakout: `ponder train dqn` with the shipped config on a short budget
(40k steps instead of 200k, epsilon decayed over the first 20k) ends well past random play,
measured here on fresh seeds against a random policy on the same games. Seeds 0, 1 and 2 scored
5.56, 5.55 and 4.67 over 100 episodes against random's 0.48, 0.58 and 0.47 (a bar near 2.5),
in about two minutes each on two busy cores."""

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
SHORT = [
    "run.device=cpu", "run.steps=40000", "train.learning_starts=1000",
    "train.eps_decay_steps=20000", "checkpoint.every=40000", "eval.every=20000",
]  # fmt: skip
EPISODES = 100
SEED = 0


class RandomPolicy:
    def __init__(self, num_actions: int):
        self.num_actions = num_actions

    def act(self, stacks: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
        return rng.integers(0, self.num_actions, len(stacks))


@pytest.mark.slow
def test_dqn_learns_minatar_breakout(tmp_path):
    import torch

    from ponder.agents.dqn.evaluation import evaluate
    from ponder.agents.dqn.learner import DQNLearner
    from ponder.envs.atari.minatar import MinAtarEnvs

    seed = SEED
    run_dir = tmp_path / "run"
    sets = [arg for item in [*SHORT, f"run.seed={seed}"] for arg in ("--set", item)]
    out = subprocess.run(
        [
            sys.executable, "-c", "from ponder.cli import main; main()", "train", "dqn",
            "--config", str(ROOT / "configs/minatar/breakout.yaml"), "--out", str(run_dir),
            "--quiet", *sets,
        ],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    run = RunDir.open(run_dir)
    cfg = load_config(DQNConfig, run.config_path())
    assert cfg.run.steps == 40_000

    def score(policy) -> np.ndarray:
        envs = MinAtarEnvs("breakout", 10, seed=424242 + seed)  # seeds the run never saw
        result = evaluate(policy, envs, EPISODES, 0.0, np.random.default_rng(7))
        assert result.episodes == EPISODES
        return np.array(result.returns)

    random_mean = score(RandomPolicy(6)).mean()
    envs = MinAtarEnvs("breakout", 1, seed=0)
    learner = DQNLearner(cfg, envs.stack, envs.frame_shape, envs.num_actions)
    learner.load_state(run.load_latest())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        trained = score(learner)
    finally:
        torch.set_num_threads(threads)
    # Random play scores under one brick a game; a 40k-step agent keeps the ball in play.
    assert random_mean < 1.5
    assert trained.mean() >= max(3 * random_mean, random_mean + 2.0), (random_mean, trained)
