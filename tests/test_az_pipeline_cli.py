"""`ponder train az` at the front door: one-line errors, and the progress views render."""

from __future__ import annotations

import subprocess
import sys

from az_pipeline_support import tiny_config, write_config
from rich.console import Console

from ponder.selfplay.progress import snapshot_line, snapshot_table


def ponder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from ponder.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bad_invocations_are_one_line_errors(tmp_path):
    out = ponder("train", "az", "--config", str(tmp_path / "missing.yaml"))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: config file not found: {tmp_path}/missing.yaml"
    ]

    config = write_config(tmp_path / "c.yaml", tiny_config(eval={"opponents": ["uct:lots"]}))
    out = ponder("train", "az", "--config", str(config), "--out", str(tmp_path / "run"))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "uct:lots" in out.stderr
    assert not (tmp_path / "run").exists()  # nothing is created for a config that cannot run


def test_progress_views_show_the_counters():
    snap = {
        "game": "tic_tac_toe",
        "run": "runs/x",
        "wall_seconds": 90.0,
        "games": 1234,
        "positions": 9876,
        "positions_per_s": 321.0,
        "workers": 2,
        "worker_restarts": 1,
        "step": 40,
        "max_steps": 100,
        "sample_ratio": 3.9,
        "target_ratio": 4.0,
        "losses": {"policy_loss": 1.5, "value_loss": 0.25},
        "evaluation": {
            "step": 40,
            "table": [{"opponent": "solver", "wins": 0, "draws": 90, "losses": 10}],
        },
        "status": "",
    }
    console = Console(width=120, record=True)
    console.print(snapshot_table(snap))
    text = console.export_text()
    for expected in ("1,234 games", "step 40/100", "1 restarts", "solver 0/90/10", "3.90"):
        assert expected in text, text
    line = snapshot_line(snap)
    assert "step 40/100" in line and "policy_loss=1.5000" in line
