"""MP4s of DQN episodes: frames composed and encoded (H.264), and a short Breakout run through
the CLI that films its evaluation (eval.video) and is then watched with --video --overlay."""

from __future__ import annotations

import subprocess
import sys

import imageio_ffmpeg
import numpy as np
import pytest

from ponder.agents.dqn.video import HEADER, PANEL, SCALE, VideoWriter, compose_frame

ROOT_CONFIG = "configs/atari/breakout.yaml"
TINY = [
    "env.protocol=nature", "env.num_envs=2", "run.device=cpu", "replay.capacity=2000",
    "train.learning_starts=100", "run.steps=200", "run.log_every=100",
    "checkpoint.every=100000", "eval.episodes=1", "eval.num_envs=1",
    "eval.max_frames=400", "eval.every=100000", "eval.video=true",
]  # fmt: skip
SIZE = (160 * SCALE + PANEL, 210 * SCALE + HEADER)  # (width, height) with the Q panel


def decode(path) -> tuple[dict, list[np.ndarray]]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return meta, [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]


def ponder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from ponder.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_frames_are_composed_and_encoded_whole(tmp_path):
    screen = np.zeros((210, 160, 3), np.uint8)
    screen[100:110, 50:60] = (200, 72, 72)
    q = np.array([0.5, -0.2, 1.5, 0.1], np.float32)
    frame = compose_frame(
        screen, "breakout  score 3", q, 2, ["NOOP", "FIRE", "RIGHT", "LEFT"], True
    )
    assert frame.shape == (SIZE[1], SIZE[0], 3) and frame.dtype == np.uint8
    # The screen keeps its colours, enlarged, under the caption strip.
    assert tuple(frame[HEADER + 105 * SCALE, 55 * SCALE]) == (200, 72, 72)
    assert compose_frame(screen, "x").shape == (210 * SCALE + HEADER, 160 * SCALE, 3)
    writer = VideoWriter(tmp_path / "v.mp4")
    for i in range(20):
        writer.add(compose_frame(screen, f"frame {i}", q if i % 2 else None, 0, [], True))
    writer.close()
    meta, frames = decode(tmp_path / "v.mp4")
    assert meta["codec"].startswith("h264") and tuple(meta["size"]) == SIZE
    assert len(frames) == 20 and not list(tmp_path.glob(".*partial*"))


@pytest.mark.slow
def test_training_films_its_evaluation_and_watch_writes_an_mp4(tmp_path):
    run_dir = tmp_path / "run"
    sets = [arg for item in TINY for arg in ("--set", item)]
    trained = ponder("train", "dqn", "--config", ROOT_CONFIG, "--out", str(run_dir), *sets)
    assert trained.returncode == 0, trained.stderr
    evals = sorted((run_dir / "videos").glob("eval_*.mp4"))
    assert [p.name for p in evals] == ["eval_000000200.mp4"]
    meta, frames = decode(evals[0])
    # One whole evaluation episode under its 400-frame cap: 100 agent steps and the first frame.
    assert tuple(meta["size"]) == SIZE and len(frames) == 400 // 4 + 1

    watched = ponder(
        "watch", str(run_dir), "--episodes", "2", "--max-frames", "600",
        "--video", "episodes.mp4", "--overlay",
    )  # fmt: skip
    assert watched.returncode == 0, watched.stderr
    lengths = [int(line.split(" in ")[1].split()[0]) for line in watched.stdout.splitlines()
               if line.startswith("episode ")]  # fmt: skip
    video = run_dir / "videos" / "episodes.mp4"  # a relative name lands in the run's videos/
    assert f"wrote {video} ({sum(lengths) + 2} frames)" in watched.stdout
    meta, frames = decode(video)
    assert meta["codec"].startswith("h264") and tuple(meta["size"]) == SIZE
    assert len(frames) == sum(lengths) + len(lengths)  # every step's screen and each first one
    # In full colour: Breakout's bricks are red, orange, yellow, green and blue.
    assert np.ptp(frames[10][HEADER:, : 160 * SCALE].reshape(-1, 3).astype(int), axis=0).min() > 100

    elsewhere = tmp_path / "elsewhere"
    misuse = ponder("watch", str(run_dir), "--overlay")
    assert misuse.returncode == 2 and "give --video" in misuse.stderr
    bad = ponder("watch", str(run_dir), "--video", "x.avi")
    assert bad.returncode == 2 and "MP4" in bad.stderr
    out = ponder(
        "watch", str(run_dir), "--max-frames", "200", "--video", "a.mp4", "--out", str(elsewhere)
    )
    assert out.returncode == 0, out.stderr
    assert (elsewhere / "a.mp4").is_file()
