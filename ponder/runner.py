"""The one step loop of every trainer: DQN's single-process loop, Ape-X's learner and AlphaZero.

An algorithm supplies its parts as a `Trainer`: advance by one round of acting and the learning
it owes, the figures of the bar, a log row, an evaluation, a checkpoint, a close. The runner
owns what must be the same everywhere: the cadence (log rows, evaluations, checkpoints, all in
the run's own step unit; the bar and the wall clock every `BAR_EVERY` steps or `CHECK_EVERY_S`
seconds, whichever comes first), the stop rules (`run.steps`, `run.minutes` over all sessions,
`run.stop_when` on an evaluation), the final evaluation and checkpoint, Ctrl-C (checkpoint the
step reached, close, end with the summary) and errors (close, so that threads and actors stop,
then re-raise; the last checkpoint stays good, or, with `Cadence.checkpoint_on_error`, one of
the step reached is attempted first).

Evaluations may finish later than they are asked for (AlphaZero's run in their own actor while
training goes on): `evaluate` then returns None, and `evaluations()` hands over each result when
it arrives, with the step it was made at; `run.stop_when` is checked on it then.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from ponder.errors import user_error_in
from ponder.progress import TrainingDisplay, short_number
from ponder.schedule import RunClock, crossed, stop_reason

BAR_EVERY = 1000  # steps between bar refreshes and wall-clock checks, at most
CHECK_EVERY_S = 1.0  # seconds between them, at most (for trainers whose steps are slow)

# An evaluation that arrived: the step it was made at, its metrics, its line for the display.
Arrived = tuple[int, dict[str, float], str]


class Trainer(Protocol):
    """What an algorithm supplies to `run_training`."""

    @property
    def step(self) -> int: ...  # the run's step count, in the unit run.steps counts

    @property
    def last_eval_step(self) -> int: ...  # the step of the last evaluation (-1: none)

    def advance(self) -> None: ...  # one round: act, insert, learn what the pace owes

    def figures(self, rate: float | None) -> str: ...  # beside the bar (rate: steps/s)

    def log_row(self, rate: float | None) -> dict[str, Any]: ...  # one log row (None: omitted)

    def evaluate(self, step: int) -> tuple[dict[str, float], str] | None: ...  # None: later

    def evaluations(self, wait_s: float = 0.0) -> list[Arrived]: ...  # arrived since last call

    def log_line(self, step: int, total: int, values: dict[str, Any]) -> str: ...  # plain mode

    def checkpoint(self) -> Any: ...  # atomic; returns its path

    def close(self) -> None: ...  # stop threads and actors, close the run directory


class TrainerDefaults:
    """The parts most trainers share: evaluations finish inside `evaluate`, and the plain log
    line lists the log row."""

    def evaluations(self, wait_s: float = 0.0) -> list[Arrived]:
        return []

    def log_line(self, step: int, total: int, values: dict[str, Any]) -> str:
        return plain_log_line(step, total, values)


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
    final_eval: bool = True  # evaluate the last step when the run ends (if not evaluated yet)
    final_eval_wait_s: float = 0.0  # a run that reached its budget waits this long for the last
    checkpoint_on_error: bool = False  # try a checkpoint of the step reached before re-raising

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
        try:
            if cadence.checkpoint_on_error:
                _salvage_checkpoint(trainer, display)
        finally:
            trainer.close()  # threads and actors stop; the latest checkpoint stays good
        raise
    if cadence.final_eval and trainer.last_eval_step != trainer.step:
        result = trainer.evaluate(trainer.step)
        if result is not None:
            display.message(result[1])
    checkpoint = trainer.checkpoint()
    display.message(f"stopped at step {trainer.step}: {reason}; checkpoint {checkpoint}")
    if reason.startswith("reached") and cadence.final_eval_wait_s > 0:
        # A budget-ended run waits for the evaluations still running; one stopped by
        # run.stop_when or by the user does not.
        for _, _, text in trainer.evaluations(cadence.final_eval_wait_s):
            display.message(text)
    trainer.close()
    return Ending(reason, checkpoint)


def _salvage_checkpoint(trainer: Trainer, display: TrainingDisplay) -> None:
    """A checkpoint of the step reached after an error elsewhere (a worker that kept dying, an
    evaluation that failed): the learner's state is still good. When it cannot be taken (the
    learner itself failed), the latest one stays and the display says so."""
    try:
        trainer.checkpoint()
    except Exception as exc:  # the original error is the one re-raised
        why = str(user_error_in(exc) or exc).splitlines() or [type(exc).__name__]
        display.message(f"the final checkpoint could not be taken ({why[0]})")


def _run_steps(
    trainer: Trainer,
    cadence: Cadence,
    clock: RunClock,
    display: TrainingDisplay,
    log: Any,
    meter: _RateMeter,
) -> str:
    c = cadence
    checked = time.monotonic()
    while trainer.step < c.steps:
        before = trainer.step
        trainer.advance()
        step = trainer.step
        now = time.monotonic()
        if crossed(before, step, BAR_EVERY) or step >= c.steps or now - checked >= CHECK_EVERY_S:
            checked = now
            meter.tick(step)
            display.update(step, trainer.figures(meter.rate))
            if (why := _early_stop(c, clock, step)) is not None:
                return why
        if crossed(before, step, c.log_every):
            values = trainer.log_row(meter.rate)
            log(step, {k: v for k, v in values.items() if v is not None})
            display.line(trainer.log_line(step, c.steps, values))
        arrived = []
        if crossed(before, step, c.eval_every) and (result := trainer.evaluate(step)):
            arrived.append((step, *result))
        for eval_step, metrics, text in [*arrived, *trainer.evaluations()]:
            display.message(text)
            if (why := _early_stop(c, clock, step, metrics, eval_step)) is not None:
                return why
        if crossed(before, step, c.checkpoint_every):
            trainer.checkpoint()
    return f"reached run.steps={c.steps}"


def _early_stop(
    c: Cadence,
    clock: RunClock,
    step: int,
    metrics: dict[str, float] | None = None,
    eval_step: int | None = None,
) -> str | None:
    """run.minutes spent or run.stop_when met; at run.steps the loop itself ends, after that
    step's log row, evaluation and checkpoint."""
    if step >= c.steps:
        return None
    return stop_reason(c, step, clock.total_seconds(), metrics, eval_step)


def plain_log_line(step: int, total: int, values: dict[str, Any]) -> str:
    text = " ".join(f"{k}={short_number(v)}" for k, v in values.items())
    return f"step {step}/{total} {text}"
