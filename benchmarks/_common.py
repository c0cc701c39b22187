"""Shared benchmark plumbing: what machine and versions a figure came from, timing, and writing
`benchmarks/results/<name>.json` so the README can quote a file rather than a memory.

Scripts run as `python benchmarks/<name>.py` and import this as `from _common import ...`.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_PACKAGES = ("ponder", "numpy", "numba", "open_spiel", "torch")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_names() -> list[str]:
    """GPU models from nvidia-smi (no torch import: it costs seconds and may not be wanted)."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def load_average_1m() -> float | None:
    """The 1-minute load average; other work on the machine skews timings."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


class LoadSampler:
    """The 1-minute load average every 30 s while training runs (the figures' context)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(30.0):
            self.samples.append(load_average_1m() or 0.0)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float | None]:
        if not self.samples:
            return {"mean": None, "max": None}
        return {
            "mean": round(sum(self.samples) / len(self.samples), 2),
            "max": round(max(self.samples), 2),
        }


def machine_info() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "gpu": gpu_names() or None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_1m": load_average_1m(),
    }


def versions(packages: Iterable[str] = ()) -> dict[str, str | None]:
    """Installed versions of the default packages plus `packages` (None where absent)."""
    found: dict[str, str | None] = {}
    for name in (*DEFAULT_PACKAGES, *packages):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def best_time(fn: Callable[[], Any], repeats: int = 3) -> float:
    """Fastest of `repeats` wall-clock runs of `fn()`, in seconds (the least disturbed one)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def write_result(
    name: str, results: dict[str, Any], quick: bool = False, packages: Iterable[str] = ()
) -> Path:
    """Add machine, versions and the exact command to `results`, print it as JSON and write
    `benchmarks/results/<name>.json` (`<name>_quick.json` for a smoke run, so a smoke run never
    replaces full figures)."""
    record = {
        "benchmark": name,
        "quick": quick,
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "versions": versions(packages),
        **results,
    }
    text = json.dumps(record, indent=2)
    print(text)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}{'_quick' if quick else ''}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text + "\n")
    os.replace(tmp, path)
    return path
