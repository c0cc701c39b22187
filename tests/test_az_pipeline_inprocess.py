"""AlphaZero on the in-process backend: the same schedule as on Ray (pacing, cadence, resume,
evaluations through the runner) with every actor an object of this process, and no Ray."""

from __future__ import annotations

import json

import pytest
from az_pipeline_support import tiny_config, write_config

from ponder.checkpoint import load_checkpoint, read_metadata
from ponder.errors import PonderError
from ponder.rundir import RunDir
from ponder.selfplay.backend import LocalHandle
from ponder.selfplay.driver import AZPipeline, prepare_run, train_alphazero

IN_PROCESS = ["run.backend=inprocess"]


def run_pipeline(config, overrides=(), out=None, resume=None) -> tuple[AZPipeline, object]:
    cfg, run, checkpoint = prepare_run(config, [*IN_PROCESS, *overrides], out=out, resume=resume)
    pipeline = AZPipeline(cfg, run, checkpoint)
    return pipeline, pipeline.run()


def test_inprocess_run_keeps_the_schedule_and_resumes_exactly(tmp_path):
    config = write_config(tmp_path / "ttt.yaml", tiny_config())
    out = tmp_path / "run"
    pipeline, first = run_pipeline(config, out=out)
    assert isinstance(pipeline.learner, LocalHandle)  # no Ray actor was started
    assert first.step == 40 and first.stop_reason.startswith("reached run.steps")
    run = RunDir(out)
    rows = [r for r in run.read_metrics() if r.get("kind") == "train"]
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    assert rows[-1]["sample_ratio"] <= 2.0 + 1e-9  # paced as on Ray
    meta = read_metadata(run.latest_checkpoint())
    assert meta["step"] == 40 and meta["replay_step"] == 40
    assert meta["compute"]["learner_samples"] == 40 * 64 == first.samples_trained
    assert meta["pipeline"]["games"] == first.counters.games > 0
    assert json.loads((out / "replay" / "replay.json").read_text())["step"] == 40

    _, second = run_pipeline(None, ["run.steps=60"], resume=out)
    assert second.step == 60 and second.counters.games > first.counters.games
    final = load_checkpoint(run.latest_checkpoint())
    adam_steps = {
        float(v) for k, v in final.tensors.items() if k.startswith("optimizer/") and "step" in k
    }
    assert adam_steps == {60.0}  # the optimizer went on from the checkpoint


def test_inprocess_runs_are_reproducible(tmp_path):
    """One process takes its actors in a fixed order, so a seed fixes the whole run (on Ray
    the order in which results arrive depends on timing)."""
    config = write_config(tmp_path / "ttt.yaml", tiny_config(run={"steps": 20}))
    weights = []
    for name in ("a", "b"):
        _, summary = run_pipeline(config, out=tmp_path / name)
        weights.append(load_checkpoint(summary.last_checkpoint).tensors)
    assert weights[0].keys() == weights[1].keys()
    import torch

    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_inprocess_evaluations_reach_the_log_and_stop_rules(tmp_path):
    config = write_config(
        tmp_path / "ttt.yaml",
        tiny_config(eval={"every": 20}, run={"steps": 200, "stop_when": {"random_score": 0.0}}),
    )
    _, summary = run_pipeline(config, out=tmp_path / "run")
    # The first evaluation (step 20) meets the bound: the run stops there.
    assert summary.stop_reason.startswith("stop_when random_score"), summary.stop_reason
    assert "at step 20" in summary.stop_reason and summary.step == 20
    evals = [r for r in RunDir(tmp_path / "run").read_metrics() if r.get("kind") == "eval"]
    assert [r["step"] for r in evals] == [20] and summary.evaluations[0]["step"] == 20


def test_inprocess_refusals_are_one_line(tmp_path):
    config = write_config(tmp_path / "ttt.yaml", tiny_config())
    with pytest.raises(PonderError, match=r"run\.backend inprocess") as info:
        prepare_run(config, [*IN_PROCESS, "selfplay.inference=actor"], out=tmp_path / "r1")
    assert "\n" not in str(info.value)
    with pytest.raises(PonderError, match="--address joins a Ray cluster"):
        train_alphazero(config, IN_PROCESS, out=tmp_path / "r2", address="127.0.0.1:1")
    assert not (tmp_path / "r2").exists()


def test_auto_backend_is_one_process_for_one_worker_on_one_machine(monkeypatch):
    from ponder.agents.alphazero.config import AZConfig
    from ponder.selfplay import backend as backends

    monkeypatch.setattr(backends, "_has_cuda", lambda: False)

    def resolved(*overrides, address=None):
        cfg = AZConfig.model_validate(tiny_config(run={"backend": "auto"}))
        for key, value in overrides:
            section, name = key.split(".")
            part = getattr(cfg, section).model_copy(update={name: value})
            cfg = cfg.model_copy(update={section: part})
        return backends.resolve_backend(cfg, address)

    assert resolved() == "inprocess"
    assert resolved(("run.workers", 2)) == "ray"
    assert resolved(address="10.0.0.2:6379") == "ray"
    assert resolved(("selfplay.inference", "actor")) == "ray"
    assert resolved(("run.backend", "ray")) == "ray"
    monkeypatch.setattr(backends, "_has_cuda", lambda: True)
    assert resolved() == "ray"  # a GPU: the learner and the shared inference actor on it
