"""When a run logs, evaluates, checkpoints and stops: the cadence and the stop rules every
trainer shares, and the wall clock they count in (summed over the run's sessions, so that
`run.minutes` means the same in every algorithm and across a resume)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

# stop_when keys with these endings are upper bounds (stop at or below); others lower bounds.
UPPER_BOUNDS = ("loss_rate", "mistakes")


def crossed(before: int, after: int, every: int) -> bool:
    """Whether a multiple of `every` lies in (before, after]."""
    return after // every > before // every


def next_boundary(step: int, cadences: Iterable[int], limit: int) -> int:
    """The first step after `step` at which some cadence fires, or `limit` if sooner."""
    return min([limit, *((step // every + 1) * every for every in cadences)])


class RunClock:
    """The run's wall time: what earlier sessions spent plus this session so far."""

    def __init__(self, seconds_before: float = 0.0) -> None:
        self.seconds_before = seconds_before
        self.session_start = time.monotonic()

    def session_seconds(self) -> float:
        return time.monotonic() - self.session_start

    def total_seconds(self) -> float:
        return self.seconds_before + self.session_seconds()


def stop_reached(stop_when: dict[str, float], metrics: dict[str, float]) -> str | None:
    """The first satisfied `run.stop_when` condition, as text, or None.

    Keys ending in `loss_rate` or `mistakes` are upper bounds (stop once at or below); every
    other key is a lower bound (stop once at or above). Each needs the metric measured.
    """
    for key, bound in stop_when.items():
        if key not in metrics:
            continue
        value = metrics[key]
        upper = key.endswith(UPPER_BOUNDS)
        if upper and value <= bound:
            return f"{key}={value:.3f} <= {bound}"
        if not upper and value >= bound:
            return f"{key}={value:.3f} >= {bound}"
    return None


def stop_reason(
    run: Any,
    step: int,
    seconds: float,
    metrics: dict[str, float] | None = None,
    eval_step: int | None = None,
) -> str | None:
    """Why a run stops now, or None: `run.steps` reached, `run.minutes` spent, or a
    `run.stop_when` bound met by the evaluation (`metrics`, made at `eval_step`)."""
    if step >= run.steps:
        return f"reached run.steps={run.steps}"
    if run.minutes and seconds >= run.minutes * 60:
        return f"reached run.minutes={run.minutes:g}"
    if metrics is not None and (hit := stop_reached(run.stop_when, metrics)):
        return f"stop_when {hit} at step {eval_step}"
    return None
