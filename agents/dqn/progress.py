"""What `ponder train dqn` shows while it runs: a progress bar with steps/s, the recent episodic
return and the loss on a terminal; one plain line per log interval elsewhere (CI, files)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


class TrainProgress:
    def __init__(self, title: str, total: int, start: int, enabled: bool = True):
        self.console = Console(stderr=True)
        self.enabled = enabled
        self.live = enabled and self.console.is_terminal
        self.progress: Progress | None = None
        self.title, self.total, self.start = title, total, start

    def __enter__(self) -> TrainProgress:
        if self.live:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} steps/s"),
                TextColumn("return {task.fields[ret]}"),
                TextColumn("loss {task.fields[loss]}"),
                TextColumn("eps {task.fields[eps]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                refresh_per_second=4,
            )
            self.progress.__enter__()
            self.task = self.progress.add_task(
                self.title,
                total=self.total,
                completed=self.start,
                rate="-",
                ret="-",
                loss="-",
                eps="-",
            )
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)
            self.progress = None

    def update(
        self,
        step: int,
        rate: float | None,
        ret: float | None,
        loss: float | None,
        eps: float | None,
    ) -> None:
        if self.progress is not None:
            self.progress.update(
                self.task,
                completed=step,
                rate=_fmt(rate),
                ret=_fmt(ret),
                loss=_fmt(loss),
                eps=_fmt(eps),
            )

    def log_line(self, step: int, values: dict[str, Any]) -> None:
        """One line per log interval when there is no live bar."""
        if self.enabled and not self.live:
            text = " ".join(f"{k}={_fmt(v)}" for k, v in values.items())
            self.console.print(f"step {step}/{self.total} {text}", highlight=False)

    def message(self, text: str) -> None:
        if self.enabled:
            self.console.print(text, highlight=False)
