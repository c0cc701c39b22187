"""A short DQN run on Breakout through the real emulator and the CLI: train, checkpoint with the
replay buffer, resume, evaluate, with the protocol recorded in every result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ponder.checkpoint import read_metadata
from ponder.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
SMALL = [
    "env.protocol=nature",
    "env.num_envs=4",
    "run.device=cpu",
    "replay.capacity=8000",
    "checkpoint.replay=true",
    "train.learning_starts=400",
    "run.log_every=400",
    "checkpoint.every=100000",
    "eval.episodes=2",
    "eval.num_envs=2",
    "eval.max_frames=1000",
    "eval.every=100000",
]


def ponder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from ponder.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def overrides(*items: str) -> list[str]:
    return [arg for item in items for arg in ("--set", item)]


@pytest.mark.slow
def test_breakout_trains_checkpoints_resumes_and_evaluates(tmp_path):
    run_dir = tmp_path / "run"
    config = str(ROOT / "configs/atari/breakout.yaml")
    first = ponder(
        "train", "dqn", "--config", config, "--out", str(run_dir),
        *overrides(*SMALL, "run.steps=800"),
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    run = RunDir.open(run_dir)
    meta = read_metadata(run.latest_checkpoint())
    assert meta["algorithm"] == "dqn" and meta["game"] == "breakout"
    assert meta["env"]["protocol"]["name"] == "nature"
    assert meta["step"] >= 800 and meta["replay_step"] == meta["step"]
    updates_first = meta["learner"]["updates"]
    assert updates_first == pytest.approx((meta["step"] - 400) * 0.25, abs=2)

    second = ponder("train", "dqn", "--resume", str(run_dir), "--set", "run.steps=1000")
    assert second.returncode == 0, second.stderr
    assert "with its replay buffer" in second.stderr
    meta2 = read_metadata(run.latest_checkpoint())
    assert meta2["step"] >= 1000 and meta2["counters"]["sessions"] == 2
    # The restored replay already holds learning_starts steps, so updates resume at once.
    new_steps = meta2["step"] - meta["step"]
    assert meta2["learner"]["updates"] - updates_first == pytest.approx(new_steps * 0.25, abs=2)

    evals = [row for row in run.read_metrics() if "eval/mean" in row]
    assert [row["step"] for row in evals] == [meta["step"], meta2["step"]]
    for row in evals:
        assert row["eval/protocol"] == "nature" and row["eval/episodes"] == 2
        assert row["eval/max_frames"] == 1000 and row["eval/epsilon"] == 0.001
        assert row["eval/ci95_low"] <= row["eval/mean"] <= row["eval/ci95_high"]
    assert meta2["last_eval"]["protocol"]["life_loss_terminal"] is True
    assert any(row.get("loss") is not None for row in run.read_metrics())
    assert list((run_dir / "tb").iterdir())  # TensorBoard event files

    # Watch the trained agent: whole episodes under the run's protocol, the first as a GIF.
    gif = tmp_path / "episode.gif"
    watched = ponder(
        "watch", str(run_dir), "--episodes", "2", "--max-frames", "800", "--gif", str(gif)
    )
    assert watched.returncode == 0, watched.stderr
    assert "breakout (nature protocol)" in watched.stdout
    assert watched.stdout.count("episode ") == 2 and "cap 800 frames" in watched.stdout
    from PIL import Image

    with Image.open(gif) as image:
        assert image.size == (252, 252) and image.n_frames > 1
    misuse = ponder("watch", str(run_dir), "random")
    assert misuse.returncode == 2 and misuse.stderr.count("\n") == 1
    assert "drop the second player" in misuse.stderr
    json.loads((run_dir / "replay" / "replay.json").read_text())
