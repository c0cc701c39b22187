"""Run directories: where a training run keeps everything it needs to be watched and resumed.

    <run>/config.yaml          the resolved config (what actually ran)
    <run>/metrics.jsonl        one JSON object per logged step
    <run>/tb/                  TensorBoard event files (the same scalars)
    <run>/checkpoints/         ckpt_<step>.safetensors + .json, and latest.json pointing at one
    <run>/games/               sample game records (JSON lines)
    <run>/videos/              MP4s of evaluation episodes (DQN, eval.video) and of `ponder watch`

`latest.json` is replaced atomically only after a checkpoint's two files are complete, so a
kill at any moment leaves the previous latest checkpoint intact and loadable. It may only name a
file of its own folder: a pointer that leads elsewhere is refused, not followed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ponder.checkpoint import (
    atomic_write_json,
    atomic_write_text,
    is_plain_name,
    json_line,
    load_checkpoint,
    save_checkpoint,
)
from ponder.errors import PonderError, short

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


def check_creatable(path: Path, what: str) -> None:
    """`path` does not exist yet and could be created: its nearest existing ancestor is a
    writable directory and no component is too long. Raises PonderError; writes nothing."""
    if len(str(path).encode()) >= 4096 or any(len(p.encode()) > 255 for p in path.parts):
        raise PonderError(f"{what} {short(str(path))}: the name is too long")
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise PonderError(f"{what} {path}: {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PonderError(f"{what} {path}: {parent} is not writable")


def check_output_file(path: str | Path, what: str) -> None:
    """An output file a command will write at its end (`--json`, `--csv`...): checked before
    any work, so that a long run's results are not lost to a bad path at the last moment."""
    path = Path(path)
    try:
        if path.is_dir():
            raise PonderError(f"{what} {path} is a directory; give a file name")
        if path.exists():
            if not path.is_file():
                # Outputs are written to a temporary file and renamed over the target, which
                # would replace a device or a pipe (such as /dev/stdout) with a plain file.
                raise PonderError(f"{what} {path} is not a regular file; give a file name")
            if not os.access(path, os.W_OK) or not os.access(path.absolute().parent, os.W_OK):
                raise PonderError(f"{what} {path} is not writable")
            return
        check_creatable(path, what)
    except OSError as exc:
        raise PonderError(f"{what} {short(str(path))}: {exc.strerror or exc}") from None


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.checkpoints = self.path / "checkpoints"
        self.games = self.path / "games"
        self._tb: Any = None

    @staticmethod
    def check_new(out: str | Path | None, prefix: str) -> Path:
        """The path `create` would use, after every check that needs no write: `out` must be
        an empty directory or absent, under a directory this user may write in."""
        if out is None:
            out = Path("runs") / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}"
        path = Path(out)
        try:
            if path.is_dir():
                if any(path.iterdir()):
                    raise PonderError(
                        f"run directory {path} is not empty (use --resume {path} to continue)"
                    )
                if not os.access(path, os.W_OK | os.X_OK):
                    raise PonderError(f"run directory {path} is not writable")
                return path
            if path.exists() or path.is_symlink():
                raise PonderError(f"--out {path} is a file, not a directory")
            check_creatable(path, "run directory")
        except OSError as exc:
            raise PonderError(f"run directory {path}: {exc.strerror or exc}") from None
        return path

    @classmethod
    def create(cls, out: str | Path | None, prefix: str) -> RunDir:
        """A new run directory: `out` (empty or absent) or runs/<prefix>-<time>."""
        path = cls.check_new(out, prefix)
        try:
            path.mkdir(parents=True, exist_ok=True)
            run = cls(path)
            run.checkpoints.mkdir(exist_ok=True)
            run.games.mkdir(exist_ok=True)
        except OSError as exc:
            raise PonderError(f"cannot create run directory {path}: {exc.strerror}") from None
        return run

    @classmethod
    def open(cls, path: str | Path, create_folders: bool = True) -> RunDir:
        """An existing run directory, for --resume. `create_folders=False` only checks it
        (validation must not write into a run it may then refuse)."""
        run = cls(path)
        try:
            is_run = (run.path / "config.yaml").is_file()
        except OSError as exc:
            raise PonderError(f"--resume {short(str(path))}: {exc.strerror or exc}") from None
        if not is_run:
            raise PonderError(f"{path} is not a ponder run directory (no config.yaml)")
        if create_folders:
            run.make_folders()
        return run

    def make_folders(self) -> None:
        self.checkpoints.mkdir(exist_ok=True)
        self.games.mkdir(exist_ok=True)

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
            handle.write(json_line(record) + "\n")
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
        """The stem the latest pointer names, or None for a run with no checkpoint yet.

        The pointer must be `{"checkpoint": NAME, ...}` with NAME a file name of the
        checkpoints folder; anything else is refused with one line, never followed."""
        pointer = self.checkpoints / LATEST
        if not pointer.is_file():
            return None
        try:
            data = json.loads(pointer.read_bytes())
        except (OSError, ValueError, RecursionError) as exc:
            raise PonderError(f"{pointer} is unreadable ({short(str(exc))})") from None
        name = data.get("checkpoint") if isinstance(data, dict) else None
        if name is None:
            raise PonderError(f'{pointer} does not hold {{"checkpoint": NAME}}')
        if not is_plain_name(name):
            raise PonderError(
                f"{pointer} names {short(name)}, not a file of its own folder: refusing to "
                "follow it"
            )
        return self.checkpoints / name

    def load_latest(self, expect: dict[str, Any] | None = None, device: str = "cpu") -> Any:
        stem = self.latest_checkpoint()
        if stem is None:
            raise PonderError(f"run {self.path} has no checkpoint to resume from")
        return load_checkpoint(stem, expect=expect, device=device)
