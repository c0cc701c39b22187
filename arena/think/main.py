"""One call runs a whole study: prepare (validate), play (resumable), fit, draw, write."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ponder.arena.think.study import (
    Study,
    StudyOptions,
    optimal_shares,
    prepare,
    run,
    widest_interval,
    write_study_file,
)
from ponder.checkpoint import atomic_write_json, atomic_write_text


def run_study(options: StudyOptions, command: str, progress: bool = True) -> dict[str, Any]:
    """Play, fit and write the study in `options.out`; returns `results.json`'s content."""
    from ponder.arena.think.plots import draw_all
    from ponder.arena.think.report import markdown
    from ponder.arena.think.results import summarize

    start = time.perf_counter()
    study = prepare(options)
    write_study_file(study)
    with StudyProgress(progress, study) as on_batch:
        run(study, on_batch)
    optimal = optimal_shares(study) if options.positions > 0 else {}
    results = summarize(study, optimal)
    results["command"] = command
    results["seconds"] = round(time.perf_counter() - start, 1)
    results["machine"] = machine()
    atomic_write_json(options.out / "results.json", results)
    plots = draw_all(results, options.out)
    atomic_write_text(options.out / "report.md", markdown(results, plots, command))
    return results


def machine() -> dict[str, Any]:
    import os
    import platform

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (None, None, None)
    return {"cores": os.cpu_count(), "cpu": cpu, "load_average_1m_at_end": load[0]}


class StudyProgress:
    """A rich progress bar over the game budget, with the widest interval as it narrows."""

    def __init__(self, enabled: bool, study: Study):
        self.enabled = enabled
        self.study = study
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        console = Console(stderr=True)
        if not self.enabled:
            return None
        options = self.study.options
        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=not console.is_terminal,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            "games", total=options.max_games, completed=self.study.cache.games
        )
        return self.update

    def update(self, study: Study, label: str) -> None:
        widest = widest_interval(study)
        shown = "skeleton" if widest == float("inf") else f"widest +-{widest:.0f} Elo"
        self._progress.update(
            self._task, completed=study.cache.games, description=f"{label[:40]:<40} {shown}"
        )

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
