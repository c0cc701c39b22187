"""`ponder think` end to end on a real (tiny) tic-tac-toe run: every player rated with finite
intervals, perfect play anchored by the exact solver, outputs consistent with the game cache,
and a second call resumes from the cache without replaying a game."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from az_pipeline_support import tiny_config, write_config


def ponder(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from ponder.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_think_rates_every_player_and_resumes_from_its_cache(tmp_path):
    cfg = tiny_config(run={"steps": 120}, checkpoint={"every": 20})
    config = write_config(tmp_path / "ttt.yaml", cfg)
    run = tmp_path / "run"
    trained = ponder("train", "az", "--config", str(config), "--out", str(run), "--quiet")
    assert trained.returncode == 0, trained.stderr[-2000:]
    study = tmp_path / "study"
    args = [
        "think", str(run), "--out", str(study), "--checkpoints", "3", "--max-budget", "8",
        "--search", "both", "--gumbel-max", "4", "--adaptive", "4", "--ci", "150",
        "--max-games", "1600", "--positions", "60", "--quiet",
    ]  # fmt: skip
    first = ponder(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    results = json.loads((study / "results.json").read_text())
    roster = json.loads((study / "study.json").read_text())["players"]
    rated = {p["spec"]: p for p in results["players"]}
    assert {p["spec"] for p in roster} == set(rated)
    steps = {p["step"] for p in roster if p["step"] is not None}
    assert len(steps) == 3
    for row in rated.values():
        lo, hi = row["ci95"]
        assert lo <= row["elo"] <= hi and hi - lo < 1e4, row
        assert row["games"] > 0
    assert rated["random"]["elo"] == 0.0
    assert results["ceiling"]["player"] == "solver"  # perfect play is a line on the plot
    network = [r for r in rated.values() if not r["reference"]]
    assert all(r["test_evaluations_per_move"] >= 1.0 for r in network)
    assert all(r["test_evaluations_per_move"] == 1.0 for r in network if r["budget"] == 0)
    assert all(0.0 <= r["optimal_move_share"] <= 1.0 for r in network)
    lines = (study / "games.jsonl").read_text().splitlines()
    assert sum(json.loads(line)["games"] for line in lines) == results["games"]
    assert results["games"] <= 1600
    for name in ("elo_vs_test_compute", "iso_elo", "puct_vs_gumbel"):
        assert (study / f"{name}.png").stat().st_size > 1000
        assert (study / f"{name}.svg").is_file()
    report = (study / "report.md").read_text()
    assert "System 1" in report and "elo_vs_test_compute.png" in report
    assert len(results["per_checkpoint"]) == 3 and results["adaptive"]

    again = ponder(*args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert (study / "games.jsonl").read_text().splitlines() == lines  # nothing replayed


def test_think_refuses_bad_requests_in_one_line(tmp_path):
    out = ponder("think", str(tmp_path / "nowhere"))
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nowhere'} is not a directory"
    ]
    (tmp_path / "empty" / "checkpoints").mkdir(parents=True)
    out = ponder("think", str(tmp_path / "empty"))
    assert out.returncode == 2 and "has no checkpoints to study" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    out = ponder("think", str(tmp_path / "empty"), "--ci", "0")
    assert out.returncode == 2 and "--ci must be a positive number" in out.stderr
    assert not (tmp_path / "empty" / "think").exists()  # nothing written for a bad request
