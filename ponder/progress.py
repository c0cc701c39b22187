"""The one display every trainer shows while it runs.

On a terminal: a live progress bar over the run's steps (with elapsed and remaining time), the
algorithm's figures beside it and, optionally, a table of detail below it. Elsewhere (CI logs,
files): one plain line per log interval. Off when disabled. Algorithms supply only what to show
(figures, table, line); how and when it is drawn lives here.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def short_number(value: Any) -> str:
    """A figure for a bar or a log line: three significant digits, '-' when unknown."""
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


class TrainingDisplay:
    """Live bar (+ table) on a terminal, plain lines elsewhere, nothing when disabled."""

    def __init__(
        self,
        title: str,
        total: int,
        start: int = 0,
        enabled: bool = True,
        console: Console | None = None,
        refresh_s: float = 0.5,
    ) -> None:
        self.console = console or Console()
        self.enabled = enabled
        self.is_live = enabled and self.console.is_terminal
        self.title, self.total, self.start = title, total, start
        self.refresh_s = refresh_s
        self._live: Live | None = None
        self._progress: Progress | None = None
        self._table: RenderableType | None = None
        self._last_table = 0.0

    def __enter__(self) -> TrainingDisplay:
        if self.is_live:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[figures]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._task = self._progress.add_task(
                self.title, total=self.total, completed=self.start, figures=""
            )
            # The bar's own clock ticks on Live's refresh thread; tables change only on update.
            self._live = Live(
                self._view(), console=self.console, refresh_per_second=4, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    def _view(self) -> RenderableType:
        assert self._progress is not None
        return self._progress if self._table is None else Group(self._progress, self._table)

    def update(
        self,
        step: int,
        figures: str = "",
        table: RenderableType | None = None,
        force: bool = False,
    ) -> None:
        """The live view's step, figures and table (a new table at most every `refresh_s`
        unless `force`: building it can cost more than the step it shows)."""
        if self._live is None or self._progress is None:
            return
        self._progress.update(self._task, completed=step, figures=figures)
        now = time.monotonic()
        if table is not None and (force or now - self._last_table >= self.refresh_s):
            self._table = table
            self._last_table = now
            self._live.update(self._view(), refresh=True)

    def wants_table(self) -> bool:
        """Whether `update` would take a table now (callers build it only then)."""
        return self._live is not None and time.monotonic() - self._last_table >= self.refresh_s

    def line(self, text: str) -> None:
        """One plain line per log interval, where there is no live view."""
        if self.enabled and not self.is_live:
            self.console.print(text, highlight=False, soft_wrap=True)

    def message(self, text: str) -> None:
        """An event worth a line in both modes (start, resume, evaluation, stop)."""
        if self.enabled:
            self.console.print(text, highlight=False, soft_wrap=True)
