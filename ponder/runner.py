"""The one step loop of the in-process trainers (DQN's single-process loop and Ape-X's learner).

An algorithm supplies its parts as a `Trainer`: advance by one round of acting and the learning
it owes, the figures of the bar, a log row, an evaluation, a checkpoint, a close. The runner
owns what must be the same everywhere: the cadence (the bar every `BAR_EVERY` steps, log rows,
evaluations, checkpoints, all in the run's own step unit), the stop rules (`run.steps`,
`run.minutes` over all sessions, `run.stop_when` on an evaluation), the final evaluation and
checkpoint, Ctrl-C (checkpoint the step reached, close, end with the summary) and errors
(close, so that threads and actors stop, then re-raise; the last checkpoint stays good).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from ponder.progress import TrainingDisplay, short_number
from ponder.schedule import RunClock, crossed, stop_reason

BAR_EVERY = 1000  # steps between bar refreshes and wall-clock checks


class Trainer(Protocol):
    """What an algorithm supplies to `run_training`."""

    @property
    def step(self) -> int: ...  # the run's step count, in the unit run.steps counts

    @property
    def last_eval_step(self) -> int: ...  # the step of the last evaluation (-1: none)

    def advance(self) -> None: ...  # one round: act, insert, learn what the pace owes

    def figures(self, rate: float | None) -> str: ...  # beside the bar (rate: steps/s)

    def log_row(self, rate: float | None) -> dict[str, Any]: ...  # one log row (None: omitted)

    def evaluate(self, step: int) -> tuple[dict[str, float], str]: ...  # metrics, one line

    def checkpoint(self) -> Any: ...  # atomic; returns its path

    def close(self) -> None: ...  # stop threads and actors, close the run directory


@dataclass
class Ending:
    reason: str
    checkpoint: Any


@dataclass
class Cadence:
    """How often, in the run's step unit."""

    steps: int  # run.steps
    minutes: float  # run.minutes (0: none)
    stop_when: dict[str, float]
    log_every: int
    eval_every: int
    checkpoint_every: int

    @classmethod
    def of(cls, cfg: Any) -> Cadence:
        r = cfg.run
        return cls(
            r.steps, r.minutes, r.stop_when, r.log_every, cfg.eval.every, cfg.checkpoint.every
        )


class _RateMeter:
    """Steps per second between bar refreshes."""

    def __init__(self, step: int) -> None:
        self.mark = (time.monotonic(), step)
        self.rate: float | None = None

    def tick(self, step: int) -> None:
        now = time.monotonic()
        if now > self.mark[0]:
            self.rate = (step - self.mark[1]) / (now - self.mark[0])
        self.mark = (now, step)


def run_training(
    trainer: Trainer,
    cadence: Cadence,
    clock: RunClock,
    display: TrainingDisplay,
    log: Any,
) -> Ending:
    """Step `trainer` until a stop rule holds, Ctrl-C or an error; `log(step, values)` writes a
    log row (the run directory's metrics.jsonl and TensorBoard)."""
    meter = _RateMeter(trainer.step)
    try:
        reason = _run_steps(trainer, cadence, clock, display, log, meter)
    except KeyboardInterrupt:
        try:
            checkpoint = trainer.checkpoint()
        finally:
            trainer.close()
        display.message(f"interrupted at step {trainer.step}; checkpoint {checkpoint}")
        return Ending("interrupted", checkpoint)
    except BaseException:
        trainer.close()  # threads and actors stop; the latest checkpoint stays the last good one
        raise
    if trainer.last_eval_step != trainer.step:
        display.message(trainer.evaluate(trainer.step)[1])
    checkpoint = trainer.checkpoint()
    display.message(f"stopped at step {trainer.step}: {reason}; checkpoint {checkpoint}")
    trainer.close()
    return Ending(reason, checkpoint)


def _run_steps(
    trainer: Trainer,
    cadence: Cadence,
    clock: RunClock,
    display: TrainingDisplay,
    log: Any,
    meter: _RateMeter,
) -> str:
    c = cadence
    while trainer.step < c.steps:
        before = trainer.step
        trainer.advance()
        step = trainer.step
        if crossed(before, step, BAR_EVERY) or step >= c.steps:
            meter.tick(step)
            display.update(step, trainer.figures(meter.rate))
            if (why := _early_stop(c, clock, step)) is not None:
                return why
        if crossed(before, step, c.log_every):
            values = trainer.log_row(meter.rate)
            log(step, {k: v for k, v in values.items() if v is not None})
            display.line(plain_log_line(step, c.steps, values))
        if crossed(before, step, c.eval_every):
            metrics, text = trainer.evaluate(step)
            display.message(text)
            if (why := _early_stop(c, clock, step, metrics)) is not None:
                return why
        if crossed(before, step, c.checkpoint_every):
            trainer.checkpoint()
    return f"reached run.steps={c.steps}"


def _early_stop(
    c: Cadence, clock: RunClock, step: int, metrics: dict[str, float] | None = None
) -> str | None:
    """run.minutes spent or run.stop_when met; at run.steps the loop itself ends, after that
    step's log row, evaluation and checkpoint."""
    if step >= c.steps:
        return None
    return stop_reason(c, step, clock.total_seconds(), metrics, step)


def plain_log_line(step: int, total: int, values: dict[str, Any]) -> str:
    text = " ".join(f"{k}={short_number(v)}" for k, v in values.items())
    return f"step {step}/{total} {text}"
