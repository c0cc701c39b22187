"""Run directories: where a training run keeps everything it needs to be watched and resumed.

    <run>/config.yaml          the resolved config (what actually ran)
    <run>/metrics.jsonl        one JSON object per logged step
    <run>/tb/                  TensorBoard event files (the same scalars)
    <run>/checkpoints/         ckpt_<step>.safetensors + .json, and latest.json pointing at one
    <run>/games/               sample game records (JSON lines)
    <run>/videos/              MP4s of evaluation episodes (DQN, eval.video) and of `ponder watch`

`latest.json` is replaced atomically only after a checkpoint's two files are complete, so a
kill at any moment leaves the previous latest checkpoint intact and loadable.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ponder.checkpoint import (
    atomic_write_json,
    atomic_write_text,
    load_checkpoint,
    save_checkpoint,
)
from ponder.errors import PonderError

LATEST = "latest.json"


def is_log_spaced(ordinal: int) -> bool:
    """True for 1, 2, 3, 4, 6, 8, 12, 16, 24, ...: the powers of two and three times them.

    Neighbours differ by a factor of 1.33 to 1.5, so any stretch of training compute keeps
    about two checkpoints per doubling. The rule depends on the ordinal alone, so a resumed run
    keeps exactly what an uninterrupted one would.
    """
    if ordinal < 1:
        return False
    while ordinal % 2 == 0:
        ordinal //= 2
    return ordinal in (1, 3)


def _stem_step(stem: Path) -> int | None:
    try:
        return int(stem.name.removeprefix("ckpt_"))
    except ValueError:
        return None


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.checkpoints = self.path / "checkpoints"
        self.games = self.path / "games"
        self._tb: Any = None

    @classmethod
    def create(cls, out: str | Path | None, prefix: str) -> RunDir:
        """A new run directory: `out` (empty or absent) or runs/<prefix>-<time>."""
        if out is None:
            out = Path("runs") / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}"
        path = Path(out)
        if path.exists() and any(path.iterdir()):
            raise PonderError(
                f"run directory {path} is not empty (use --resume {path} to continue)"
            )
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path)
        run.checkpoints.mkdir(exist_ok=True)
        run.games.mkdir(exist_ok=True)
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run directory, for --resume."""
        run = cls(path)
        if not (run.path / "config.yaml").is_file():
            raise PonderError(f"{path} is not a ponder run directory (no config.yaml)")
        run.checkpoints.mkdir(exist_ok=True)
        run.games.mkdir(exist_ok=True)
        return run

    # -- config -------------------------------------------------------------------------------
    def write_config(self, text: str) -> None:
        atomic_write_text(self.path / "config.yaml", text)

    def config_path(self) -> Path:
        return self.path / "config.yaml"

    # -- metrics ------------------------------------------------------------------------------
    def log(self, step: int, values: dict[str, Any], prefix: str = "") -> None:
        """Append to metrics.jsonl and mirror numeric values to TensorBoard."""
        record = {"step": step, "time": time.time(), **values}
        with open(self.path / "metrics.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")
        writer = self._writer()
        for key, value in values.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                writer.add_scalar(f"{prefix}{key}", value, step)
        writer.flush()

    def _writer(self) -> Any:
        if self._tb is None:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(self.path / "tb"))
        return self._tb

    def read_metrics(self) -> list[dict[str, Any]]:
        path = self.path / "metrics.jsonl"
        if not path.is_file():
            return []
        rows = []
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line torn by a kill; the rest is still good
        return rows

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None

    # -- checkpoints --------------------------------------------------------------------------
    def save_checkpoint(
        self,
        step: int,
        tensors: dict[str, Any],
        metadata: dict[str, Any],
        keep: int = 5,
        log_spaced_every: int = 0,
    ) -> Path:
        """Write ckpt_<step>, then move the latest pointer to it, then prune old ones.

        `log_spaced_every` > 0 also keeps, for good, the checkpoints whose step is that cadence
        times a log-spaced ordinal (see `is_log_spaced`): what a study of strength against
        training compute (`ponder think`) needs from a run, at a few dozen files for any length.
        """
        stem = save_checkpoint(self.checkpoints / f"ckpt_{step:09d}", tensors, metadata)
        atomic_write_json(self.checkpoints / LATEST, {"checkpoint": stem.name, "step": step})
        self._prune(keep, log_spaced_every)
        return stem

    def _prune(self, keep: int, log_spaced_every: int = 0) -> None:
        stems = sorted(p.with_suffix("") for p in self.checkpoints.glob("ckpt_*.json"))
        for stem in stems[:-keep] if keep > 0 else []:
            step = _stem_step(stem)
            if (
                log_spaced_every > 0
                and step is not None
                and step % log_spaced_every == 0
                and is_log_spaced(step // log_spaced_every)
            ):
                continue
            for suffix in (".json", ".safetensors"):
                stem.with_suffix(suffix).unlink(missing_ok=True)

    def latest_checkpoint(self) -> Path | None:
        """The stem the latest pointer names, or None for a run with no checkpoint yet."""
        pointer = self.checkpoints / LATEST
        if not pointer.is_file():
            return None
        try:
            name = json.loads(pointer.read_text())["checkpoint"]
        except (json.JSONDecodeError, KeyError) as exc:
            raise PonderError(f"{pointer} is unreadable ({exc})") from None
        return self.checkpoints / name

    def load_latest(self, expect: dict[str, Any] | None = None, device: str = "cpu") -> Any:
        stem = self.latest_checkpoint()
        if stem is None:
            raise PonderError(f"run {self.path} has no checkpoint to resume from")
        return load_checkpoint(stem, expect=expect, device=device)
