"""Bad DQN configs and unknown game ids are one-line errors naming the culprit (exit code 2
from the CLI), raised before any run directory is made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ponder.agents.dqn.training import prepare_run
from ponder.config import load_config
from ponder.errors import PonderError

ROOT = Path(__file__).resolve().parents[1]
PONG = ROOT / "configs/atari/pong.yaml"
CARTPOLE = ROOT / "configs/classic/cartpole_dqn.yaml"


@pytest.mark.parametrize(
    ("config", "overrides", "message"),
    [
        (PONG, ["env.game=pongg"], "unknown Atari game 'pongg'; did you mean pong"),
        (CARTPOLE, ["env.game=CartPole-v9"], "unknown classic-control env 'CartPole-v9'"),
        (PONG, ["agent.learning_rate=1e-3"], "config key 'agent.learning_rate' is not a known"),
        (PONG, ["agent.lr=-1"], "config key 'agent.lr'"),
        (PONG, ["env.protocol=v4"], "config key 'env.protocol'"),
        (PONG, ["env.type=mujoco"], "config key 'env.type'"),
        (PONG, ["network.torso=mlp"], "network.torso must be 'nature_cnn'"),
        (PONG, ["train.eps_end=0.5", "train.eps_start=0.1"], "eps_end must not exceed"),
        (PONG, ["replay.capacity=10"], "config key 'replay.capacity'"),
        (PONG, ["run.workers=-1"], "config key 'run.workers'"),
        (ROOT / "configs/atari/missing.yaml", [], "config file not found"),
    ],
)
def test_bad_configs_fail_with_one_line(tmp_path, config, overrides, message):
    out = tmp_path / "run"
    with pytest.raises(PonderError) as info:
        prepare_run(config, overrides, out)
    text = str(info.value)
    assert message in text and "\n" not in text
    assert not out.exists()


def test_a_gpu_config_on_a_machine_without_one_is_a_user_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the config is valid here")
    with pytest.raises(PonderError, match="torch sees no CUDA GPU"):
        prepare_run(ROOT / "configs/atari/pong_nature_3m_gpu.yaml", [], tmp_path / "run")
    assert not (tmp_path / "run").exists()
    # The same config runs on the CPU with one override.
    cfg, _, _ = prepare_run(
        ROOT / "configs/atari/pong_nature_3m_gpu.yaml", ["run.device=cpu"], tmp_path / "cpu"
    )
    assert cfg.env.protocol == "nature" and cfg.run.steps == 3_000_000


def test_resume_needs_a_run_directory(tmp_path):
    with pytest.raises(PonderError, match="is not a ponder run directory"):
        prepare_run(None, [], None, resume=tmp_path)
    with pytest.raises(PonderError, match="drop --config/--out"):
        prepare_run(PONG, [], None, resume=tmp_path)


def test_every_shipped_config_is_valid():
    from ponder.agents.dqn.config import DQNConfig

    paths = [
        *sorted((ROOT / "configs/atari").glob("*.yaml")),
        *sorted((ROOT / "configs/minatar").glob("*.yaml")),
        CARTPOLE,
    ]
    assert len(paths) >= 12
    for path in paths:
        load_config(DQNConfig, path)


def test_cli_exits_2_with_the_error_on_one_line(tmp_path):
    out = subprocess.run(
        [
            sys.executable, "-c", "from ponder.cli import main; main()",
            "train", "dqn", "--config", str(PONG), "--set", "env.game=breakoutt",
            "--out", str(tmp_path / "run"),
        ],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines == ["error: unknown Atari game 'breakoutt'; did you mean breakout?"]
