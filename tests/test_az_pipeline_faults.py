"""Faults of a real Ray training run: a killed worker, a resume, a torn checkpoint write."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
import ray  # a hard dependency: a broken install must fail, not skip
from az_pipeline_support import start_local_ray, tiny_config, write_config

from ponder.checkpoint import load_checkpoint, read_metadata
from ponder.errors import PonderError
from ponder.rundir import RunDir
from ponder.selfplay.driver import AZPipeline, prepare_run


@pytest.fixture(scope="module")
def local_ray():
    start_local_ray()


def kill_first_worker_once_playing(pipeline: AZPipeline, done: threading.Event) -> None:
    """SIGKILL the first worker's process once self-play is under way, as a crash would."""
    while pipeline.counters.games == 0 and not done.is_set():
        time.sleep(0.05)
    if done.is_set():
        return
    pid = ray.get(pipeline.workers[0].handle.pid.remote())
    os.kill(pid, signal.SIGKILL)


def run_pipeline(config_path, overrides=(), out=None, resume=None, kill_worker=False):
    cfg, run, checkpoint = prepare_run(config_path, list(overrides), out=out, resume=resume)
    pipeline = AZPipeline(cfg, run, checkpoint)
    done = threading.Event()
    killer = None
    if kill_worker:
        killer = threading.Thread(target=kill_first_worker_once_playing, args=(pipeline, done))
        killer.start()
    try:
        summary = pipeline.run()
    finally:
        done.set()
        if killer is not None:
            killer.join()
    return summary


def test_killed_worker_is_replaced_then_resume_continues_exactly(local_ray, tmp_path):
    config = write_config(tmp_path / "ttt.yaml", tiny_config())
    out = tmp_path / "run"

    first = run_pipeline(config, out=out, kill_worker=True)
    assert first.step == 40
    assert first.counters.worker_restarts >= 1
    assert first.stop_reason.startswith("reached run.steps")
    run = RunDir(out)
    rows = [r for r in run.read_metrics() if r.get("kind") == "train"]
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    assert rows[-1]["worker_restarts"] >= 1
    # The learner was held to the sample ratio (2.0) within about one self-play round.
    assert rows[-1]["sample_ratio"] <= 2.0 + 1e-9
    assert rows[0]["lr"] == pytest.approx(0.002) and rows[-1]["lr"] == pytest.approx(0.001)
    assert (run.games / "selfplay.jsonl").read_text().strip()

    meta = read_metadata(run.latest_checkpoint())
    assert meta["step"] == 40 and meta["game"] == "tic_tac_toe"
    compute = meta["compute"]
    assert compute["learner_samples"] == 40 * 64 == first.samples_trained
    assert compute["selfplay_positions"] == first.counters.positions > 0
    assert compute["network_evaluations"] == first.counters.evaluations > 0
    assert meta["pipeline"]["games"] == first.counters.games

    # The replay buffer was written with the checkpoint, at its step.
    assert meta["replay_step"] == 40
    saved = json.loads((out / "replay" / "replay.json").read_text())
    assert saved["step"] == 40 and 0 < saved["rows"] <= 5000

    # Resume with a longer budget: counters pick up where the checkpoint left them. The second
    # session evaluates through the shared inference actor (the GPU path, here on the CPU).
    resume_with = ["run.steps=60", "selfplay.inference=actor"]
    second = run_pipeline(None, resume_with, resume=out)
    assert second.step == 60
    assert second.samples_trained == 60 * 64
    assert second.counters.games > first.counters.games
    assert second.counters.positions > first.counters.positions
    assert second.counters.worker_restarts == first.counters.worker_restarts
    assert second.counters.wall_seconds > first.counters.wall_seconds
    final = load_checkpoint(run.latest_checkpoint())
    assert final.metadata["step"] == 60
    # Adam's per-parameter step count went on from 40: the optimizer state was restored, not
    # rebuilt (a fresh optimizer would count 20).
    adam_steps = {
        float(v) for k, v in final.tensors.items() if k.startswith("optimizer/") and "step" in k
    }
    assert adam_steps == {60.0}
    rows = [r for r in run.read_metrics() if r.get("kind") == "train"]
    assert [r["step"] for r in rows] == [10, 20, 30, 40, 50, 60]
    assert rows[-1]["lr"] == pytest.approx(0.001)
    assert "inference_evaluations" not in rows[3]
    assert rows[-1]["inference_evaluations"] > 0
    assert rows[-1]["inference_weights_step"] >= 50
    # The second session started from the saved replay: its buffer went on from the first
    # session's rows and counters instead of starting empty.
    resaved = json.loads((out / "replay" / "replay.json").read_text())
    assert resaved["step"] == 60
    assert saved["added"] == meta["pipeline"]["samples"]
    assert resaved["added"] == final.metadata["pipeline"]["samples"] > saved["added"]
    assert resaved["rows"] == min(5000, resaved["added"])

    # A replay copy from another step than the checkpoint's (a kill between the two writes) is
    # not trusted: the third session starts from an empty buffer and still finishes.
    (out / "replay" / "replay.json").write_text(json.dumps({**resaved, "step": 59}))
    third = run_pipeline(None, ["run.steps=70"], resume=out)
    assert third.step == 70
    fresh = json.loads((out / "replay" / "replay.json").read_text())
    final = load_checkpoint(run.latest_checkpoint())
    assert fresh["step"] == 70
    assert fresh["added"] == final.metadata["pipeline"]["samples"] - resaved["added"] > 0


def test_torn_checkpoint_write_leaves_latest_loadable(tmp_path, monkeypatch):
    """A kill while ckpt 2 is being written: the pointer still names ckpt 1, which loads."""
    import torch

    run = RunDir.create(tmp_path / "run", prefix="x")
    tensors = {"model/w": torch.arange(6.0)}
    meta = {"game": "tic_tac_toe", "algorithm": "alphazero", "step": 1}
    run.save_checkpoint(1, tensors, meta)

    # The kill lands after the new weights are on disk, while the metadata is being written:
    # simulate it by raising out of the metadata write.
    import ponder.checkpoint as checkpoint_io

    def killed_during_write(path, obj):
        tmp = path.parent / f".{path.name}.torn.tmp"
        tmp.write_text(json.dumps(obj)[:20])  # a half-written temporary, as a kill leaves it
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(checkpoint_io, "atomic_write_json", killed_during_write)
        with pytest.raises(KeyboardInterrupt):
            run.save_checkpoint(2, {"model/w": torch.zeros(6)}, {**meta, "step": 2})
    assert (run.checkpoints / "ckpt_000000002.safetensors").exists()
    loaded = run.load_latest(expect={"game": "tic_tac_toe"})
    assert loaded.metadata["step"] == 1
    assert torch.equal(loaded.tensors["model/w"], torch.arange(6.0))

    # A torn weights file of a later checkpoint never becomes latest either, and naming it
    # directly is a one-line error rather than a crash.
    (run.checkpoints / "ckpt_000000003.safetensors").write_bytes(b"\x00" * 10)
    assert run.latest_checkpoint().name == "ckpt_000000001"
    with pytest.raises(PonderError, match="metadata file"):
        load_checkpoint(run.checkpoints / "ckpt_000000003")


def test_resume_and_config_errors_are_one_line(tmp_path):
    with pytest.raises(PonderError, match="not a ponder run directory"):
        prepare_run(None, [], resume=tmp_path)
    config = write_config(tmp_path / "bad.yaml", tiny_config(train={"batch_sise": 3}))
    with pytest.raises(PonderError, match="batch_sise"):
        prepare_run(config, [], out=tmp_path / "r1")
    config = write_config(tmp_path / "ok.yaml", tiny_config())
    with pytest.raises(PonderError, match="drop --config"):
        prepare_run(config, [], resume=tmp_path)
    with pytest.raises(PonderError, match="unknown game"):
        prepare_run(config, ["game=tic_tac_two"], out=tmp_path / "r2")
    # The connect-four solver cannot play evaluation games from the openings in useful time.
    with pytest.raises(PonderError, match=r"eval\.solver: false"):
        prepare_run(config, ["game=connect_four", "eval.solver=true"], out=tmp_path / "r3")
    assert not (tmp_path / "r3").exists()
    prepare_run(config, ["game=connect_four", "eval.solver=false"], out=tmp_path / "r4")
