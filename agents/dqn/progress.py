"""What `ponder train dqn` shows while it runs (through the one TrainingDisplay): steps/s, the
recent episodic return, the loss and epsilon beside the bar on a terminal; one plain line per
log interval elsewhere (CI, files)."""

from __future__ import annotations

from rich.console import Console

from ponder.progress import TrainingDisplay, short_number


def dqn_display(title: str, total: int, start: int, enabled: bool = True) -> TrainingDisplay:
    return TrainingDisplay(title, total, start, enabled, Console(stderr=True))


def bar_figures(
    rate: float | None, ret: float | None, loss: float | None, eps: float | None
) -> str:
    n = short_number
    return f"{n(rate)} steps/s  return {n(ret)}  loss {n(loss)}  eps {n(eps)}"
