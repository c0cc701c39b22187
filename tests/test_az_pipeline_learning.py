"""Acceptance: tic-tac-toe learns perfect play from scratch through the real Ray pipeline.

"Perfect" is verified, not sampled: the trained player's move (at the evaluation's budget) is
minimax-optimal in every position it can reach in either seat against any opponent at all
(`ponder.arena.perfect`). Training stops on that check (stop_when exhaustive_optimal_rate),
and this test repeats it on the checkpoint that passed, loaded the way `ponder pit` loads it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from az_pipeline_support import start_local_ray

from ponder.rundir import RunDir
from ponder.selfplay.driver import train_alphazero

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "tic_tac_toe.yaml"


@pytest.mark.slow
def test_tic_tac_toe_reaches_perfect_play_in_every_reachable_position(tmp_path):
    import torch

    from ponder.arena.perfect import perfect_play_report

    start_local_ray()
    summary = train_alphazero(
        CONFIG,
        # The exhaustive check is the measure (the config's stop rule); the cap keeps a
        # regression from running for long.
        ["eval.opponents=[]", "run.minutes=5"],
        out=tmp_path / "run",
    )
    assert summary.stop_reason.startswith("stop_when exhaustive_optimal_rate"), summary.stop_reason
    assert summary.counters.worker_restarts == 0
    passed = summary.evaluations[-1]
    assert passed["metrics"]["exhaustive_mistakes"] == 0
    assert passed["metrics"]["exhaustive_positions"] > 100
    # The network that passed the evaluation (checkpoints fall on evaluation steps).
    checkpoint = RunDir(summary.run).checkpoints / f"ckpt_{passed['step']:09d}"
    assert checkpoint.with_suffix(".json").is_file()

    torch.set_num_threads(1)
    sims = yaml.safe_load(CONFIG.read_text())["eval"]["simulations"]
    # Asked twice with other seeds, so a move that depended on the seed would show.
    report = perfect_play_report("tic_tac_toe", f"{checkpoint}@{sims}", repeats=2, seed=7)
    assert report.perfect, report.describe()
