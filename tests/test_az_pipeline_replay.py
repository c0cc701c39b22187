"""The replay buffer keeps exactly the newest positions and samples them uniformly."""

from __future__ import annotations

import numpy as np
import pytest

from ponder.agents.alphazero.samples import Samples
from ponder.schedule import stop_reached
from ponder.selfplay.evaluation import metric_prefix, opponent_specs
from ponder.selfplay.replay import ReplayBuffer


def numbered(start: int, n: int) -> Samples:
    """Rows whose every field carries their number, so survivors can be identified."""
    ids = np.arange(start, start + n, dtype=np.float32)
    return Samples(
        planes=np.broadcast_to(ids[:, None, None, None], (n, 2, 3, 3)).copy(),
        policy=np.broadcast_to(ids[:, None], (n, 4)).copy(),
        value=ids.copy(),
        legal=np.ones((n, 4), np.bool_),
        policy_weight=(ids % 2).astype(np.float32),
    )


def held_ids(buffer: ReplayBuffer) -> set[int]:
    return {int(v) for v in buffer.arrays["value"][: buffer.size]}


def test_snapshot_restores_rows_counters_and_sampling_stream(tmp_path):
    """Through the files a checkpoint writes: the restored buffer holds the same rows in the
    same order and draws the same batches next; a smaller window keeps only the newest rows."""
    from ponder.checkpoint import load_array_folder, save_array_folder

    buffer = ReplayBuffer(capacity=10, seed=3)
    for start, n in ((0, 6), (6, 7)):  # 13 rows: the ring has wrapped
        buffer.add(numbered(start, n), games=2)
    buffer.sample(4)
    arrays, meta = buffer.snapshot()
    assert sorted(arrays["value"].tolist()) == list(range(3, 13))
    save_array_folder(tmp_path / "replay", arrays, {**meta, "step": 7}, "replay.json")
    arrays, meta = load_array_folder(tmp_path / "replay", "replay.json")
    assert meta["step"] == 7

    copy = ReplayBuffer(capacity=10, seed=99)
    assert copy.restore(arrays, meta) == 10
    assert (copy.added, copy.sampled, copy.games) == (13, 4, 4)
    assert held_ids(copy) == held_ids(buffer)
    for a, b in zip(buffer.sample(8, batches=3), copy.sample(8, batches=3), strict=True):
        assert all(np.array_equal(a[k], b[k]) for k in a)
    copy.add(numbered(13, 2))
    assert held_ids(copy) == set(range(5, 15))

    small = ReplayBuffer(capacity=4)
    assert small.restore(arrays, meta) == 4
    assert held_ids(small) == {9, 10, 11, 12}
    empty = ReplayBuffer(capacity=4)
    assert empty.restore(*ReplayBuffer(capacity=4).snapshot()) == 0


def test_window_keeps_the_newest_rows_across_wraparound():
    buffer = ReplayBuffer(capacity=10)
    start = 0
    for n in (4, 5, 3, 7, 1):
        buffer.add(numbered(start, n), games=1)
        start += n
        assert buffer.size == min(start, 10)
        assert held_ids(buffer) == set(range(max(0, start - 10), start))
    assert buffer.added == start == 20
    assert buffer.games == 5


def test_add_larger_than_capacity_keeps_its_tail():
    buffer = ReplayBuffer(capacity=6)
    buffer.add(numbered(0, 3))
    buffer.add(numbered(3, 15))
    assert held_ids(buffer) == set(range(12, 18))
    assert buffer.added == 18


def test_sample_rows_are_consistent_and_uniform():
    buffer = ReplayBuffer(capacity=50, seed=3)
    buffer.add(numbered(0, 80))  # rows 30..79 survive
    batches = buffer.sample(batch_size=400, batches=5)
    assert len(batches) == 5
    ids = np.concatenate([b["value"] for b in batches]).astype(int)
    for batch in batches:
        # Every field of a row comes from the same position.
        assert np.array_equal(batch["planes"][:, 1, 2, 0], batch["value"])
        assert np.array_equal(batch["policy"][:, 3], batch["value"])
        assert np.array_equal(batch["policy_weight"], batch["value"] % 2)
    assert ids.min() >= 30 and ids.max() <= 79
    counts = np.bincount(ids - 30, minlength=50)
    # 2,000 draws over 50 rows: 40 expected each; a chi-square far beyond chance would fail.
    chi2 = float(((counts - 40.0) ** 2 / 40.0).sum())
    assert chi2 < 100, chi2
    assert buffer.sampled == 2000


def test_sampling_an_empty_buffer_is_an_error_and_stats_report_counts():
    buffer = ReplayBuffer(capacity=8)
    with pytest.raises(ValueError):
        buffer.sample(4)
    buffer.add(numbered(0, 4), games=2)
    stats = buffer.stats()
    assert stats["replay_size"] == 4 and stats["replay_games"] == 2
    assert stats["replay_full_search_share"] == pytest.approx(0.5)
    assert stats["replay_value_mean"] == pytest.approx(1.5)


def test_stop_when_bounds_and_metric_names():
    assert metric_prefix("uct:1000") == "uct_1000"
    assert stop_reached({"solver_loss_rate": 0.0}, {"solver_loss_rate": 0.01}) is None
    assert stop_reached({"solver_loss_rate": 0.0}, {"solver_loss_rate": 0.0})
    assert stop_reached({"uct_1000_win_rate": 0.9}, {"uct_1000_win_rate": 0.95})
    assert stop_reached({"uct_1000_win_rate": 0.9}, {"uct_1000_win_rate": 0.5}) is None
    assert stop_reached({"random_score": 0.9}, {}) is None  # not measured yet


def test_opponents_add_the_solver_where_one_exists():
    class Eval:
        opponents = ["random", "uct:100"]
        solver = True

    class Cfg:
        eval = Eval()

    assert opponent_specs(Cfg(), has_solver=True) == ["random", "uct:100", "solver"]
    assert opponent_specs(Cfg(), has_solver=False) == ["random", "uct:100"]
