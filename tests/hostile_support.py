"""Shared pieces of the hostile-input tests: the CLI called in-process, a small run directory
with a real checkpoint (made without Ray), and a byte-for-byte snapshot of a folder."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from az_pipeline_support import tiny_config

from ponder import cli


class Reached(Exception):  # noqa: N818 (a marker, not an error)
    """Raised by a stand-in for the step after validation (Ray's start, the first game): a
    request that gets there passed every check, and nothing may have been written for it."""


def run_cli(capsys: Any, *args: str) -> tuple[int, str, str]:
    """`ponder ARGS` in this process: (exit code, stdout, stderr). Reached counts as code -1."""
    capsys.readouterr()
    try:
        cli.main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except Reached:
        code = -1
    else:  # pragma: no cover - main always exits
        code = 0
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2, (code, err)
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("error: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under `folder` (folders as 'dir')."""
    if not folder.exists():
        return {}
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def stop_before_ray(monkeypatch: Any) -> None:
    """Make a request that passes validation stop where Ray would start."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise Reached

    monkeypatch.setattr("ponder.selfplay.cluster.ensure_ray", refuse)


def stop_before_games(monkeypatch: Any) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise Reached

    monkeypatch.setattr("ponder.arena.match.play_match", refuse)
    monkeypatch.setattr("ponder.arena.tournament.run_tournament", refuse)


def make_run(path: Path, **sections: dict[str, Any]) -> Path:
    """A tic-tac-toe run directory holding config.yaml and one real AlphaZero checkpoint
    (step 0, with trainer state and counters, as a training run writes it), and a replay."""
    import numpy as np

    from ponder.agents.alphazero.config import AZConfig
    from ponder.agents.alphazero.learner import AZLearner
    from ponder.checkpoint import save_array_folder
    from ponder.config import dump_config, validate_config
    from ponder.envs.registry import get_game
    from ponder.rundir import RunDir
    from ponder.selfplay.driver import REPLAY_FOLDER, REPLAY_META, PipelineCounters
    from ponder.selfplay.replay import ReplayBuffer

    cfg = validate_config(AZConfig, tiny_config(**sections))
    trainer = AZLearner(get_game(cfg.game), cfg)
    tensors, meta = trainer.checkpoint(PipelineCounters().compute(0))
    meta["pipeline"] = asdict(PipelineCounters())
    meta["replay_step"] = 0
    run = RunDir.create(path, prefix="az")
    run.write_config(dump_config(cfg))
    game = get_game(cfg.game)
    replay = ReplayBuffer(cfg.train.replay_window, seed=0)
    rows = 6
    replay.add(
        SimpleNamespace(
            planes=np.zeros((rows, *game.obs_shape), dtype=np.float32),
            policy=np.full((rows, game.num_actions), 1 / game.num_actions, dtype=np.float32),
            value=np.linspace(-1, 1, rows, dtype=np.float32),
            legal=np.ones((rows, game.num_actions), dtype=np.bool_),
            policy_weight=np.ones(rows, dtype=np.float32),
        ),
        games=1,
    )
    arrays, replay_meta = replay.snapshot()
    save_array_folder(run.path / REPLAY_FOLDER, arrays, {**replay_meta, "step": 0}, REPLAY_META)
    run.save_checkpoint(0, tensors, meta)
    return run.path
