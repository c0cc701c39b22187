"""Acceptance: tic-tac-toe learns perfect play from scratch through the real Ray pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from az_pipeline_support import start_local_ray

from ponder.rundir import RunDir
from ponder.selfplay.driver import train_alphazero

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "tic_tac_toe.yaml"


@pytest.mark.slow
def test_tic_tac_toe_reaches_perfect_play_against_minimax(tmp_path):
    import torch

    from ponder.arena.match import play_match

    start_local_ray()
    summary = train_alphazero(
        CONFIG,
        # The solver is the measure: training stops once 1,000 evaluation games against it bring
        # no loss (400 let a rare flawed line through once in several runs). The cap keeps a
        # regression from running for long.
        ["eval.opponents=[]", "eval.games=1000", "pipeline.max_minutes=4"],
        out=tmp_path / "run",
    )
    assert summary.stop_reason.startswith("stop_when solver_loss_rate"), summary.stop_reason
    assert summary.counters.worker_restarts == 0
    # The network that passed the evaluation (checkpoints fall on evaluation steps).
    passed = summary.evaluations[-1]
    assert passed["metrics"]["solver_loss_rate"] == 0.0
    checkpoint = RunDir(summary.run).checkpoints / f"ckpt_{passed['step']:09d}"
    assert checkpoint.with_suffix(".json").is_file()

    # One thread: several torch threads on a busy 2-core machine spin against each other.
    torch.set_num_threads(1)
    sims = yaml.safe_load(CONFIG.read_text())["eval"]["simulations"]
    result = play_match(
        "tic_tac_toe",
        f"{checkpoint}@{sims}",
        "minimax",  # exact play, random among the optimal moves
        1000,
        seed=12345,
        openings="none",
    )
    assert result.num_games == 1000
    assert sum(g.a_first for g in result.games) == 500  # both seats, 500 games each
    assert len({tuple(g.moves) for g in result.games}) > 20  # minimax's choices vary the games
    assert result.losses == 0, f"{result.losses} losses to minimax"
