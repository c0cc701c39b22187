"""DQN on MinAtar without the learning: the paper's network, the configs and their validation,
and a short CLI run whose checkpoint records the torso, resumes, evaluates, and is watched
(GIF and MP4), with a one-line error where a checkpoint and a config disagree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ponder.agents.dqn.config import DQNConfig, NetworkConfig
from ponder.agents.dqn.networks import QNetwork
from ponder.agents.dqn.training import prepare_run
from ponder.config import load_config, read_yaml
from ponder.envs.atari.minatar import MINATAR_GAMES
from ponder.errors import PonderError

ROOT = Path(__file__).resolve().parents[1]
BREAKOUT = ROOT / "configs/minatar/breakout.yaml"
TINY = [
    "run.device=cpu", "run.steps=300", "train.learning_starts=100",
    "checkpoint.every=300", "run.log_every=100", "eval.every=300",
    "eval.episodes=2", "eval.num_envs=2", "eval.max_frames=200",
]  # fmt: skip


def test_the_network_is_the_papers():
    cfg = NetworkConfig(torso="minatar_cnn", head_hidden=128, dueling=False)
    net = QNetwork(cfg, 1, (4, 10, 10), 6)
    shapes = [tuple(p.shape) for p in net.parameters()]
    assert shapes == [(16, 4, 3, 3), (16,), (128, 1024), (128,), (6, 128), (6,)]
    frames = torch.randint(0, 2, (5, 1, 4, 10, 10), dtype=torch.uint8)
    q = net(frames)
    assert q.shape == (5, 6) and q.dtype == torch.float32
    assert torch.equal(q, net(frames.float()))  # 0/1 grids need no scaling
    dueling = QNetwork(cfg.model_copy(update={"dueling": True}), 1, (10, 10, 10), 6)
    assert dueling(torch.zeros(2, 1, 10, 10, 10, dtype=torch.uint8)).shape == (2, 6)


@pytest.mark.parametrize("game", MINATAR_GAMES)
def test_shipped_configs_are_the_papers_dqn(game):
    cfg = load_config(DQNConfig, ROOT / f"configs/minatar/{game}.yaml")
    assert cfg.env.type == "minatar" and cfg.env.game == game
    assert cfg.network.torso == "minatar_cnn" and cfg.network.head_hidden == 128
    assert not (cfg.network.dueling or cfg.agent.double or cfg.replay.prioritized)
    assert cfg.agent.n_step == 1 and cfg.agent.gamma == 0.99 and cfg.agent.target_period == 1000
    assert cfg.replay.capacity == 100_000 and cfg.train.batch_size == 32
    assert (cfg.train.eps_start, cfg.train.eps_end, cfg.train.eps_decay_steps) == (
        1.0,
        0.1,
        100_000,
    )
    assert cfg.train.learning_starts == 5000
    # One update per agent step, however many envs step.
    assert cfg.train.replay_ratio == 1.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["env.game=pacman"], "unknown MinAtar game 'pacman'; choose one of: asterix, breakout"),
        (["network.torso=mlp"], "network.torso must be 'minatar_cnn' for env.type 'minatar'"),
        (["env.type=atari"], "network.torso must be 'nature_cnn' for env.type 'atari'"),
        (["agent.augment=random_shift"], "agent.augment shifts image frames"),
    ],
)
def test_bad_minatar_configs_fail_with_one_line(tmp_path, overrides, message):
    with pytest.raises(PonderError) as info:
        prepare_run(BREAKOUT, overrides, tmp_path / "run")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "run").exists()


def test_cli_rejects_an_unknown_game_with_exit_2(tmp_path):
    out = subprocess.run(
        [
            sys.executable, "-c", "from ponder.cli import main; main()", "train", "dqn",
            "--config", str(BREAKOUT), "--set", "env.game=pacman", "--out", str(tmp_path / "r"),
        ],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "error: unknown MinAtar game 'pacman'; choose one of: asterix, breakout, freeway, "
        "seaquest, space_invaders"
    ]
    assert not (tmp_path / "r").exists()


def cli(*args: str) -> int:
    from ponder import cli as entry

    with pytest.raises(SystemExit) as info:
        entry.main(list(args))
    return int(info.value.code or 0)


@pytest.fixture(scope="module")
def minatar_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("minatar") / "run"
    sets = [arg for item in TINY for arg in ("--set", item)]
    code = cli("train", "dqn", "-c", str(BREAKOUT), "--out", str(out), "--quiet", *sets)
    assert code == 0
    return out


def test_checkpoint_records_the_torso_and_loads_for_evaluation(minatar_run):
    from ponder.agents.dqn.evaluation import evaluate
    from ponder.agents.dqn.watch import load_run
    from ponder.envs.atari.make import make_envs

    meta = json.loads(next((minatar_run / "checkpoints").glob("ckpt_*.json")).read_text())
    assert meta["network"]["torso"] == "minatar_cnn"
    assert meta["network"]["frame_shape"] == [4, 10, 10] and meta["network"]["stack"] == 1
    assert meta["env"]["type"] == "minatar" and meta["env"]["protocol"] is None
    assert meta["step"] == 300 and meta["last_eval"]["episodes"] == 2

    run = load_run(minatar_run)
    assert run.step == 300 and run.cfg.env.type == "minatar"
    envs = make_envs("minatar", "breakout", "machado", 2, seed=99, training=False, max_frames=200)
    result = evaluate(run.policy, envs, 4, 0.0, np.random.default_rng(0))
    assert result.episodes == 4 and all(length <= 200 for length in result.lengths)
    # The loaded network is the trained one: it acts as the learner that saved it would.
    stacks = np.zeros((1, 1, 4, 10, 10), np.uint8)
    assert run.policy.q_values(stacks).shape == (1, 6)


def test_the_run_resumes_and_is_watched(minatar_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(minatar_run, run)
    code = cli("train", "dqn", "--resume", str(run), "--quiet", "--set", "run.steps=400")
    assert code == 0
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert max(row["step"] for row in metrics) == 400
    code = cli(
        *("watch", str(run), "--episodes", "2", "--max-frames", "60"),
        *("--gif", "first.gif", "--video", "both.mp4", "--overlay"),
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "\nbreakout (MinAtar), checkpoint ckpt_000000400 at step 400\n" in printed
    from PIL import Image

    with Image.open(run / "videos" / "first.gif") as gif:
        assert gif.size == (480, 480) and gif.n_frames >= 2
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(run / "videos" / "both.mp4"))
    info = next(reader)
    assert tuple(info["size"]) == (480 + 304, 528)  # 160x160 screens, 3x, padded to 16s
    assert sum(1 for _ in reader) >= 2


def test_a_checkpoint_that_disagrees_with_its_config_is_one_line(minatar_run, tmp_path, capsys):
    import shutil

    from ponder.agents.dqn.watch import load_run

    run = tmp_path / "run"
    shutil.copytree(minatar_run, run)
    meta_path = next((run / "checkpoints").glob("ckpt_*.json"))
    meta = json.loads(meta_path.read_text())
    meta["network"]["torso"] = "nature_cnn"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(PonderError, match="network torso='nature_cnn' does not match the config's"):
        load_run(run)
    code = cli("train", "dqn", "--resume", str(run), "--set", "run.steps=400")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "does not match the config's 'minatar_cnn'" in err[0]

    meta["network"]["torso"] = "minatar_cnn"
    meta["env"]["type"] = "atari"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(PonderError, match=r"trained on env\.type 'atari', the config says"):
        load_run(run)
    assert read_yaml(run / "config.yaml")["env"]["type"] == "minatar"
