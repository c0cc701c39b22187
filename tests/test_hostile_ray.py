"""A user error found late, inside a Ray actor, still ends as one line and leaves a checkpoint
of the step the run reached."""

from __future__ import annotations

import pytest
from az_pipeline_support import start_local_ray, tiny_config, write_config
from hostile_support import make_run

from ponder.errors import PonderError
from ponder.rundir import RunDir
from ponder.selfplay.driver import AZPipeline, prepare_run


@pytest.mark.slow
def test_an_evaluation_that_fails_in_its_actor_stops_with_one_line_and_a_checkpoint(tmp_path):
    start_local_ray()
    opponent = make_run(tmp_path / "opponent") / "checkpoints" / "ckpt_000000000"
    config = write_config(
        tmp_path / "c.yaml",
        tiny_config(
            eval={"every": 20, "opponents": [f"{opponent}@1"], "games": 2},
            run={"steps": 60},
            checkpoint={"every": 30},
        ),
    )
    cfg, run, checkpoint = prepare_run(config, [], out=tmp_path / "run")
    # Valid when checked; gone when the evaluator first needs it (a user deleting a run).
    for suffix in (".json", ".safetensors"):
        opponent.with_suffix(suffix).unlink()
    with pytest.raises(PonderError) as info:
        AZPipeline(cfg, run, checkpoint).run()
    message = str(info.value)
    assert "\n" not in message and "checkpoint not found" in message, message
    latest = RunDir(run.path).load_latest()
    assert latest.metadata["step"] >= 20  # the step the run reached, not only the last cadence


@pytest.mark.slow
def test_a_diverging_learner_stops_with_one_line_and_the_last_good_checkpoint(tmp_path):
    start_local_ray()
    config = write_config(
        tmp_path / "c.yaml",
        # Fine up to step 25, then a learning rate no network survives (finite, so the
        # config accepts it: only training can tell).
        tiny_config(
            train={"lr_schedule": [[0, 0.002], [25, 1e30]]},
            run={"steps": 200},
            checkpoint={"every": 20},
        ),
    )
    cfg, run, checkpoint = prepare_run(config, [], out=tmp_path / "run")
    with pytest.raises(PonderError) as info:
        AZPipeline(cfg, run, checkpoint).run()
    message = str(info.value)
    assert "\n" not in message and "training diverged" in message, message
    latest = RunDir(run.path).load_latest()  # loads: hash, schema and finite weights hold
    assert latest.metadata["step"] == 20
    from ponder.checkpoint import nonfinite_tensor

    assert nonfinite_tensor(latest.tensors) is None
