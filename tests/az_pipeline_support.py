"""Shared pieces of the AlphaZero pipeline tests: small configs and one local Ray per process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def tiny_config(**sections: dict[str, Any]) -> dict[str, Any]:
    """A tic-tac-toe run small enough for a unit test (seconds, not learning anything)."""
    cfg: dict[str, Any] = {
        "game": "tic_tac_toe",
        # On Ray: these configs test the Ray pipeline (the in-process backend has its own tests).
        "run": {"seed": 0, "workers": 1, "steps": 40, "log_every": 10, "backend": "ray"},
        "checkpoint": {"every": 20},
        "network": {"blocks": 1, "channels": 16, "value_hidden": 16},
        "selfplay": {
            "concurrent_games": 16,
            "search": {"num_simulations": 16},
            "temperature_moves": 4,
            "resign_threshold": -1.0,
            "weights_every": 10,
        },
        "train": {
            "batch_size": 64,
            "min_replay": 200,
            "replay_window": 5000,
            "sample_ratio": 2.0,
            "lr_schedule": [[0, 0.002], [30, 0.001]],
        },
        "eval": {
            "every": 1_000_000,
            "games": 10,
            "simulations": 8,
            "opponents": ["random"],
            "solver": False,
        },
    }
    for name, values in sections.items():
        cfg.setdefault(name, {}).update(values)
    return cfg


def write_config(path: Path, cfg: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def start_local_ray() -> None:
    """One embedded Ray for every pipeline test of the process (it starts in seconds, not 0)."""
    from ponder.selfplay.cluster import ensure_ray

    ensure_ray(num_cpus=2)
