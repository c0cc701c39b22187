"""The one runner around a trainer's parts: cadence in the run's step unit, stop rules, the final
evaluation and checkpoint, Ctrl-C and errors; checked with a trainer that records its calls."""

from types import SimpleNamespace

import pytest

from ponder.progress import TrainingDisplay
from ponder.runner import Cadence, TrainerDefaults, run_training
from ponder.schedule import RunClock, next_boundary, stop_reason


class RecordingTrainer(TrainerDefaults):
    """Advances `per_step` steps per round; evaluations report `metric` (a function of step)."""

    def __init__(self, per_step=10, metric=lambda step: 0.0, fail_at=None, interrupt_at=None):
        self.step, self.last_eval_step = 0, -1
        self.per_step, self.metric = per_step, metric
        self.fail_at, self.interrupt_at = fail_at, interrupt_at
        self.calls: list[tuple[str, int]] = []
        self.closed = 0

    def advance(self):
        if self.interrupt_at is not None and self.step >= self.interrupt_at:
            raise KeyboardInterrupt
        if self.fail_at is not None and self.step >= self.fail_at:
            raise RuntimeError("env died")
        self.step += self.per_step

    def figures(self, rate):
        return f"{rate}"

    def log_row(self, rate):
        self.calls.append(("log", self.step))
        return {"x": 1.0, "absent": None}

    def evaluate(self, step):
        self.calls.append(("eval", step))
        self.last_eval_step = step
        return {"eval_return": self.metric(step)}, f"eval @{step}"

    def checkpoint(self):
        self.calls.append(("checkpoint", self.step))
        return f"ckpt_{self.step}"

    def close(self):
        self.closed += 1


def cadence(steps=100, minutes=0.0, stop_when=None, log=30, evaluate=50, ckpt=40):
    return Cadence(steps, minutes, stop_when or {}, log, evaluate, ckpt)


def run(trainer, c, clock=None):
    logged = []
    display = TrainingDisplay("t", c.steps, 0, enabled=False)
    ending = run_training(trainer, c, clock or RunClock(), display, lambda s, v: logged.append(v))
    return ending, logged


def test_cadence_and_the_final_evaluation_and_checkpoint():
    trainer = RecordingTrainer(per_step=10)
    ending, logged = run(trainer, cadence(steps=100))
    assert ending.reason == "reached run.steps=100" and ending.checkpoint == "ckpt_100"
    assert [s for k, s in trainer.calls if k == "log"] == [30, 60, 90]
    assert [s for k, s in trainer.calls if k == "eval"] == [50, 100]  # 100: the last step's own
    assert [s for k, s in trainer.calls if k == "checkpoint"] == [40, 80, 100]
    assert logged == [{"x": 1.0}] * 3  # None values are left out of the log rows
    assert trainer.closed == 1


def test_steps_that_jump_over_a_multiple_still_fire_it_once():
    trainer = RecordingTrainer(per_step=33)  # 33, 66, 99, 132
    run(trainer, cadence(steps=120, log=50, evaluate=1000, ckpt=1000))
    assert [s for k, s in trainer.calls if k == "log"] == [66, 132]  # 100 was jumped over
    # The loop ends at the first step past run.steps: one final evaluation and checkpoint.
    assert trainer.calls[-2:] == [("eval", 132), ("checkpoint", 132)]


def test_stop_when_ends_the_run_at_the_evaluation_that_meets_it():
    trainer = RecordingTrainer(per_step=10, metric=lambda step: step / 10)
    ending, _ = run(trainer, cadence(steps=1000, stop_when={"eval_return": 9.0}, evaluate=50))
    assert ending.reason == "stop_when eval_return=10.000 >= 9.0 at step 100"
    assert trainer.step == 100 and trainer.calls[-1] == ("checkpoint", 100)
    assert [s for k, s in trainer.calls if k == "eval"] == [50, 100]  # no second final one


def test_minutes_are_counted_over_sessions():
    # An earlier session spent the whole budget: the run stops at its first wall-clock check.
    trainer = RecordingTrainer(per_step=500)
    c = cadence(steps=10_000, minutes=1.0, evaluate=10**6)  # no evaluation checks it earlier
    ending, _ = run(trainer, c, RunClock(seconds_before=60.0))
    assert ending.reason == "reached run.minutes=1" and trainer.step == 1000


def test_ctrl_c_checkpoints_the_step_reached_and_closes():
    trainer = RecordingTrainer(per_step=10, interrupt_at=70)
    ending, _ = run(trainer, cadence(steps=1000))
    assert ending.reason == "interrupted" and ending.checkpoint == "ckpt_70"
    assert trainer.closed == 1 and ("eval", 70) not in trainer.calls  # no final evaluation


def test_an_error_closes_and_propagates_without_a_checkpoint():
    trainer = RecordingTrainer(per_step=10, fail_at=50)
    with pytest.raises(RuntimeError, match="env died"):
        run(trainer, cadence(steps=1000, ckpt=40))
    assert trainer.closed == 1
    assert [s for k, s in trainer.calls if k == "checkpoint"] == [40]  # the last good one


def test_stop_rules_and_boundaries():
    r = SimpleNamespace(steps=100, minutes=2.0, stop_when={"solver_loss_rate": 0.0})
    assert stop_reason(r, 100, 0.0) == "reached run.steps=100"
    assert stop_reason(r, 10, 120.0) == "reached run.minutes=2"
    assert stop_reason(r, 10, 1.0, {"solver_loss_rate": 0.0}, 10).startswith("stop_when")
    assert stop_reason(r, 10, 1.0, {"solver_loss_rate": 0.1}, 10) is None
    assert next_boundary(45, (20, 50), 100) == 50
    assert next_boundary(95, (20, 50), 98) == 98


class LateEvaluations(RecordingTrainer):
    """Evaluations that finish `delay` rounds after they are asked for (AlphaZero's judge)."""

    def __init__(self, delay=2, **kwargs):
        super().__init__(**kwargs)
        self.delay, self.running, self.waited = delay, [], []

    def evaluate(self, step):
        self.calls.append(("eval", step))
        self.last_eval_step = step
        self.running.append([self.delay, step])
        return None

    def advance(self):
        super().advance()
        for job in self.running:
            job[0] -= 1

    def evaluations(self, wait_s=0.0):
        if wait_s:
            self.waited.append(wait_s)
            for job in self.running:
                job[0] = 0
        done = [j for j in self.running if j[0] <= 0]
        self.running = [j for j in self.running if j[0] > 0]
        return [(s, {"eval_return": self.metric(s)}, f"eval @{s}") for _, s in done]


def test_late_evaluations_stop_the_run_at_the_step_they_were_made():
    trainer = LateEvaluations(delay=2, per_step=10, metric=lambda step: step / 10)
    c = cadence(steps=1000, stop_when={"eval_return": 9.0}, evaluate=50)
    ending, _ = run(trainer, c)
    # The evaluation of step 100 arrives two rounds later, at step 120; the reason names 100.
    assert ending.reason == "stop_when eval_return=10.000 >= 9.0 at step 100"
    assert trainer.step == 120 and trainer.calls[-1] == ("checkpoint", 120)
    assert trainer.waited == []  # a run stopped by stop_when does not wait for more


def test_a_budget_ended_run_waits_for_its_running_evaluation_without_a_final_one():
    trainer = LateEvaluations(delay=5, per_step=10)
    c = cadence(steps=100, evaluate=50)
    c.final_eval, c.final_eval_wait_s = False, 30.0
    ending, _ = run(trainer, c)
    assert ending.reason == "reached run.steps=100"
    assert [s for k, s in trainer.calls if k == "eval"] == [50, 100]  # no extra final one
    assert trainer.waited == [30.0] and trainer.running == []


def test_checkpoint_on_error_saves_the_step_reached_then_propagates():
    trainer = RecordingTrainer(per_step=10, fail_at=50)
    c = cadence(steps=1000, ckpt=40)
    c.checkpoint_on_error = True
    with pytest.raises(RuntimeError, match="env died"):
        run(trainer, c)
    assert [s for k, s in trainer.calls if k == "checkpoint"] == [40, 50]
    assert trainer.closed == 1


def test_slow_steps_still_meet_the_wall_clock_limit():
    """A trainer far below BAR_EVERY steps per run (AlphaZero's learner) stops on run.minutes
    by the runner's time-based check, not at the next thousandth step."""
    import time

    class Slow(RecordingTrainer):
        def advance(self):
            time.sleep(0.02)
            super().advance()

    trainer = Slow(per_step=1)
    ending, _ = run(trainer, cadence(steps=10**6, minutes=0.01, evaluate=10**6, ckpt=10**6))
    assert ending.reason == "reached run.minutes=0.01"
    assert trainer.step < 200  # about 1 s of 20 ms steps (the 0.6 s limit, then the check)
