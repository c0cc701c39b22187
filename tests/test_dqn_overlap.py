"""The overlapped single-process DQN loop (`train.overlap_lag > 0`): the learner on a thread of
its own keeps the configured replay ratio exactly, is deterministic, resumes with its
credit, and stops cleanly on Ctrl-C, on a learner failure and on an env failure."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from ponder.agents.dqn import loop as loop_module
from ponder.agents.dqn.learner import DQNLearner
from ponder.agents.dqn.loop import train_single
from ponder.agents.dqn.training import prepare_run
from ponder.agents.dqn.updates import LearnerThreadError
from ponder.checkpoint import read_metadata
from ponder.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs/classic/cartpole_dqn.yaml"


def settings(total: int, lag: int, **extra: object) -> list[str]:
    values = {
        "run.steps": total,
        "train.learning_starts": 200,
        "train.replay_ratio": 0.75,  # not a multiple of 1/num_envs: the credit carries over
        "train.batch_size": 16,
        "run.log_every": 100,
        "checkpoint.every": 600,
        "run.stop_when": "{}",
        "train.overlap_lag": lag,
        "replay.prioritized": "true",  # priorities must come back in a fixed order too
        "checkpoint.replay": "true",
        "eval.every": 100_000,
        "eval.episodes": 2,
        "eval.num_envs": 2,
        "env.num_envs": 3,
        **extra,
    }
    return [f"{key}={value}" for key, value in values.items()]


def train(tmp_path: Path, name: str, total: int, lag: int, **extra: object):
    cfg, run, _ = prepare_run(CONFIG, settings(total, lag, **extra), out=tmp_path / name)
    return train_single(cfg, run, False, show_progress=False), run


def weights(run: RunDir) -> dict[str, torch.Tensor]:
    return {k: v for k, v in run.load_latest().tensors.items() if k.startswith("model/")}


def learner_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "dqn-learner" and t.is_alive()]


def test_overlap_keeps_the_replay_ratio_and_is_deterministic(tmp_path):
    inline, _ = train(tmp_path, "inline", 1500, lag=0)
    first, run_a = train(tmp_path, "a", 1500, lag=3)
    second, run_b = train(tmp_path, "b", 1500, lag=3)
    assert (first.step, first.updates) == (second.step, second.updates)
    # One update per 1/0.75 agent steps once learning starts, as in the serial loop (whose
    # episodes differ: it acts with weights newer by a few updates).
    for summary in (inline, first):
        assert abs(summary.updates - 0.75 * (summary.step - 200)) <= 3
    a, b = weights(run_a), weights(run_b)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert not learner_threads()


def test_overlap_resume_carries_the_update_credit(tmp_path):
    summary, run = train(tmp_path, "r", 700, lag=2)
    meta = read_metadata(run.latest_checkpoint())
    credit = meta["counters"]["update_credit"]
    assert 0.0 <= credit < 1.0
    assert meta["learner"]["updates"] == summary.updates

    cfg, run2, has = prepare_run(None, ["run.steps=1400"], resume=run.path)
    assert has
    resumed = train_single(cfg, run2, True, show_progress=False)
    after = read_metadata(run2.latest_checkpoint())
    assert after["counters"]["sessions"] == 2
    # The replay came back with the checkpoint, so learning goes on from the first step, and
    # the carried credit makes the count exact: floor(credit + ratio * new agent steps).
    new_steps = after["counters"]["step"] - meta["counters"]["step"]
    assert resumed.updates - summary.updates == int(credit + 0.75 * new_steps)
    assert after["counters"]["update_credit"] == credit + 0.75 * new_steps - (
        resumed.updates - summary.updates
    )
    assert not learner_threads()


class FailingEnvs:
    """The real envs, with `recv` raising `error` on call number `at`."""

    def __init__(self, envs, at: int, error: BaseException):
        self.envs, self.at, self.error, self.calls = envs, at, error, 0

    def __getattr__(self, name):
        return getattr(self.envs, name)

    def __setattr__(self, name, value):
        if name in ("envs", "at", "error", "calls"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.envs, name, value)

    def recv(self):
        self.calls += 1
        if self.calls == self.at:
            raise self.error
        return self.envs.recv()


def failing_envs(monkeypatch, at: int, error: BaseException) -> None:
    real = loop_module.make_envs

    def make(*args, **kwargs):
        return FailingEnvs(real(*args, **kwargs), at, error)

    monkeypatch.setattr(loop_module, "make_envs", make)


def test_ctrl_c_checkpoints_the_step_reached_and_stops_the_learner(tmp_path, monkeypatch):
    failing_envs(monkeypatch, at=150, error=KeyboardInterrupt())
    cfg, run, _ = prepare_run(CONFIG, settings(3000, lag=2), out=tmp_path / "c")
    summary = train_single(cfg, run, False, show_progress=False)
    assert summary.stop_reason == "interrupted"
    meta = read_metadata(run.latest_checkpoint())
    assert summary.step == meta["counters"]["step"]
    assert 0 < meta["counters"]["step"] < 150 * 3  # the step reached, before the first 600
    assert meta["learner"]["updates"] > 0
    assert not learner_threads()


def test_env_failure_stops_the_learner_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    failing_envs(monkeypatch, at=300, error=RuntimeError("emulator died"))
    cfg, run, _ = prepare_run(CONFIG, settings(3000, lag=2), out=tmp_path / "e")
    with pytest.raises(RuntimeError, match="emulator died"):
        train_single(cfg, run, False, show_progress=False)
    assert read_metadata(run.latest_checkpoint())["counters"]["step"] // 600 == 1
    assert not learner_threads()


def test_learner_failure_is_one_line_and_writes_nothing_more(tmp_path, monkeypatch):
    real_update = DQNLearner.update

    def update(self, batch, *args):
        if self.updates == 400:
            raise FloatingPointError("the loss became NaN")
        return real_update(self, batch, *args)

    monkeypatch.setattr(DQNLearner, "update", update)
    cfg, run, _ = prepare_run(CONFIG, settings(3000, lag=2), out=tmp_path / "l")
    with pytest.raises(LearnerThreadError, match="the learner thread failed: the loss became NaN"):
        train_single(cfg, run, False, show_progress=False)
    meta = read_metadata(run.latest_checkpoint())
    assert meta["counters"]["step"] // 600 == 1 and meta["learner"]["updates"] < 400
    assert not learner_threads()


def test_acting_weights_lag_by_whole_multiples(tmp_path):
    """Acting sees the weights of update floor((submitted - lag) / lag) * lag, never newer."""
    from ponder.agents.dqn.config import DQNConfig
    from ponder.agents.dqn.updates import ThreadedUpdates

    cfg = DQNConfig.model_validate(
        {
            "run": {"device": "cpu"},
            "env": {"type": "classic", "game": "CartPole-v1"},
            "network": {"torso": "mlp", "mlp_hidden": [8], "head_hidden": 8},
            "replay": {"prioritized": False},
        }
    )
    learner = DQNLearner(cfg, 1, (4,), 2)
    rng = np.random.default_rng(0)
    history = [copy_state(learner)]
    updates = ThreadedUpdates(learner, lag=3)
    try:
        for k in range(1, 12):
            b = cartpole_batch(rng, 4)
            updates.take_results()
            updates.submit(b)
            updates.act(np.zeros((1, 1, 4), np.float32), 0.0, rng)
            expected = max(0, (k - 3) // 3 * 3)
            assert updates.acting_version == expected
            results = updates.drain()
            assert all(len(r) == 3 for r in results)
            history.append(copy_state(learner))
            for got, want in zip(
                updates.acting_net.state_dict().values(), history[expected].values(), strict=True
            ):
                assert torch.equal(got, want)
    finally:
        updates.close()
    assert not updates.thread.is_alive()


def cartpole_batch(rng: np.random.Generator, size: int):
    """A batch of random CartPole-shaped transitions (one-frame stacks of 4 numbers)."""
    from ponder.agents.dqn.replay import Batch

    return Batch(
        index=np.arange(size),
        obs=rng.random((size, 1, 4), dtype=np.float32),
        next_obs=rng.random((size, 1, 4), dtype=np.float32),
        actions=rng.integers(0, 2, size).astype(np.uint8),
        returns=rng.random(size, dtype=np.float32),
        discounts=np.full(size, 0.9, np.float32),
        probs=np.full(size, 1.0 / size),
        weights=np.ones(size, np.float32),
    )


def copy_state(learner: DQNLearner) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in learner.online.state_dict().items()}


@pytest.mark.parametrize("double", [False, True])
def test_threaded_updates_equal_inline_updates_with_hard_target_copies(double):
    """Same batches in, same weights out: the target Q-values computed on the acting side use
    exactly the target weights the learner would have used."""
    from ponder.agents.dqn.config import DQNConfig
    from ponder.agents.dqn.updates import InlineUpdates, ThreadedUpdates

    cfg = DQNConfig.model_validate(
        {
            "run": {"device": "cpu"},
            "env": {"type": "classic", "game": "CartPole-v1"},
            "network": {"torso": "mlp", "mlp_hidden": [16], "head_hidden": 16},
            "agent": {"double": double, "target_update": "hard", "target_period": 3},
            "replay": {"prioritized": False},
        }
    )
    rng = np.random.default_rng(1)
    batches = [cartpole_batch(rng, 8) for _ in range(20)]
    torch.manual_seed(0)
    serial = DQNLearner(cfg, 1, (4,), 2)
    torch.manual_seed(0)
    threaded = DQNLearner(cfg, 1, (4,), 2)
    inline, overlapped = InlineUpdates(serial), ThreadedUpdates(threaded, lag=2)
    assert overlapped.target_net is not None
    try:
        for b in batches:
            inline.submit(b)
            overlapped.submit(b)
            overlapped.drain()  # the batch arrays are shared here; real loops use slots
        assert len(inline.take_results()) == 20
    finally:
        overlapped.close()
    assert threaded.updates == serial.updates == 20
    for net in ("online", "target"):
        for p, q in zip(
            getattr(serial, net).parameters(), getattr(threaded, net).parameters(), strict=True
        ):
            assert torch.equal(p, q)
