"""Ape-X on local Ray: two env-worker actors feed the learner's prioritized replay, weights flow
back through the object store, and a killed actor is replaced without corrupting the replay."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from ponder.agents.dqn.config import DQNConfig
from ponder.agents.dqn.replay import BROKEN
from ponder.config import dump_config, load_config
from ponder.rundir import RunDir
from ponder.selfplay.apex_actor import epsilon_ladder

ROOT = Path(__file__).resolve().parents[1]


def test_epsilon_ladder_matches_ape_x():
    ladder = epsilon_ladder(8, 0.4, 7.0)
    assert ladder[0] == pytest.approx(0.4) and ladder[-1] == pytest.approx(0.4**8)
    assert np.all(np.diff(ladder) < 0)
    assert epsilon_ladder(1, 0.4, 7.0).tolist() == [0.4]


@pytest.mark.slow
def test_two_actors_train_and_a_killed_actor_is_replaced(tmp_path):
    from ponder.selfplay.apex_driver import ApexRun
    from ponder.selfplay.cluster import ensure_ray, shutdown_ray

    cfg = load_config(
        DQNConfig,
        ROOT / "configs/classic/cartpole_dqn.yaml",
        [
            "run.workers=2",
            "apex.envs_per_actor=2",
            "apex.steps_per_chunk=25",
            "apex.weights_every=10",
            "replay.capacity=4000",
            "replay.prioritized=true",
            "run.steps=1200",
            "train.learning_starts=300",
            "run.log_every=400",
            "run.stop_when={}",
            "eval.episodes=2",
            "eval.every=100000",
        ],
    )
    run = RunDir.create(tmp_path / "run", prefix="apex")
    run.write_config(dump_config(cfg))
    ensure_ray(num_cpus=2)
    try:
        apex = ApexRun(cfg, run, resume=False, show_progress=False)
        apex.start()
        pids = apex.actor_pids()
        while apex.counters.step < 500:
            apex.advance()
        os.kill(pids[0], signal.SIGKILL)
        summary = apex.run_to_end(apex.bar)  # the runner's loop from here, the restart inside it
    finally:
        shutdown_ray()

    assert apex.counters.actor_restarts >= 1
    assert summary.step >= 1200
    # Updates keep the replay ratio (0.25 per agent step) once learning has started.
    assert summary.updates == pytest.approx((summary.step - 300) * 0.25, abs=60)
    assert apex.weights_version > 5
    replay = apex.replay
    assert (replay.counts > 0).all()  # every env of both actors delivered data
    first_actor = replay.flags[: 2 * replay.per]
    assert (first_actor & BROKEN).any()  # the crash cut its streams
    assert summary.last_eval is not None and summary.checkpoint is not None
    assert run.latest_checkpoint() is not None
