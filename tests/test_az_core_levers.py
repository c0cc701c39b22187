"""The strength levers of the connect-four ablation: forced playouts with policy target
pruning, value targets mixed with the search value, the one-cycle learning rate and the growing
replay window. Each is checked against hand-computed numbers and trains a few steps."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from az_core_support import one_torch_thread  # noqa: F401
from pydantic import ValidationError

from ponder.agents.alphazero.config import AZConfig
from ponder.agents.alphazero.learner import AZLearner, lr_at
from ponder.agents.alphazero.samples import Samples
from ponder.agents.alphazero.selfplay import SelfPlayRunner
from ponder.agents.alphazero.targets import mixed_value, pruned_policy
from ponder.envs.registry import get_game
from ponder.search import BatchedMCTS, SearchConfig, UniformEvaluator
from ponder.selfplay.replay import ReplayBuffer, growing_window


def tiny_config(**sections: dict) -> AZConfig:
    base: dict = {
        "game": "tic_tac_toe",
        "network": {"blocks": 1, "channels": 8, "value_hidden": 8},
        "selfplay": {
            "concurrent_games": 6,
            "resign_threshold": -1.0,
            "search": {"num_simulations": 16, "leaves_per_step": 2, "root_noise": True},
        },
        "train": {"batch_size": 16},
    }
    for name, values in sections.items():
        if name == "search":
            base["selfplay"]["search"].update(values)
        else:
            base.setdefault(name, {}).update(values)
    return AZConfig.model_validate(base)


# -- forced playouts and policy target pruning ---------------------------------------------------
def test_pruning_removes_forced_visits_by_hand() -> None:
    visits = np.array([[80, 20, 0]], np.int32)
    prior = np.array([[0.5, 0.3, 0.2]], np.float32)
    q = np.array([[0.5, -0.5, 0.0]], np.float32)
    policy = pruned_policy(visits, prior, q, 2.0, 1.25, 19652.0)
    # c = log((1 + 100 + base) / base) + 1.25; the loser keeps 20 - sqrt(2 * 0.3 * 100) visits,
    # since PUCT would still rank it below the best child with only 3 of them.
    forced = math.sqrt(2 * 0.3 * 100)
    kept = 20 - forced
    np.testing.assert_allclose(policy[0], [80 / (80 + kept), kept / (80 + kept), 0.0], rtol=1e-5)


def test_pruning_keeps_what_puct_wanted_and_drops_single_visits() -> None:
    # Child 1 is nearly as good as the best: PUCT wanted all of its visits, none are removed.
    visits = np.array([[50, 45, 1, 0]], np.int32)
    prior = np.array([[0.4, 0.4, 0.1, 0.1]], np.float32)
    q = np.array([[0.30, 0.29, -0.9, 0.0]], np.float32)
    policy = pruned_policy(visits, prior, q, 2.0, 1.25, 19652.0)
    np.testing.assert_allclose(policy[0], [50 / 95, 45 / 95, 0.0, 0.0], rtol=1e-5)
    # A row without visits keeps its prior, as the unpruned target does.
    empty = pruned_policy(np.zeros((1, 4)), prior, np.zeros((1, 4)), 2.0, 1.25, 19652.0)
    np.testing.assert_allclose(empty[0], prior[0])


def test_forced_playouts_give_every_visited_root_child_its_share() -> None:
    game = get_game("connect_four")
    states = game.new_states(4)
    k, sims = 2.0, 200
    config = SearchConfig(
        num_simulations=sims,
        leaves_per_step=1,
        root_noise=True,
        dirichlet_alpha=0.3,
        forced_playouts_k=k,
    )
    result = BatchedMCTS(game, 4, config, UniformEvaluator(), seed=5).search(states)
    total = result.visits.sum(axis=1, keepdims=True)
    floor = np.sqrt(k * result.prior * total)
    visited = result.visits > 0
    # Each visited child reached its forced share, up to the last visit that would cross it.
    assert np.all(result.visits[visited] >= np.floor(floor[visited]) - 1)
    plain = BatchedMCTS(
        game, 4, config.model_copy(update={"forced_playouts_k": 0.0}), UniformEvaluator(), seed=5
    ).search(states)
    # Uniform values: forced playouts spread visits more evenly than plain PUCT.
    assert result.visits.min(axis=1).mean() >= plain.visits.min(axis=1).mean()


def test_players_do_not_force_playouts() -> None:
    """A run's search settings reach its checkpoint players, but forced playouts are
    self-play exploration: a player spends every visit on its own choice."""
    from ponder.agents.alphazero.player import AlphaZeroPlayer

    search = SearchConfig(forced_playouts_k=2.0, c_puct_init=1.7)
    player = AlphaZeroPlayer(UniformEvaluator(), 50, 0.0, "test@50", search=search)
    assert player.search_config.forced_playouts_k == 0.0
    assert player.search_config.c_puct_init == 1.7


def test_forced_playouts_refuse_a_gumbel_root() -> None:
    with pytest.raises(ValidationError, match="forced_playouts_k"):
        SearchConfig(gumbel=True, forced_playouts_k=2.0)


# -- value targets -------------------------------------------------------------------------------
def test_mixed_value_by_hand() -> None:
    z = np.array([1.0, -1.0, 0.0], np.float32)
    q = np.array([0.2, -0.6, 1.4], np.float32)  # q is clipped to [-1, 1]
    np.testing.assert_allclose(mixed_value(z, q, 0.25), [0.8, -0.9, 0.25], rtol=1e-6)
    np.testing.assert_array_equal(mixed_value(z, q, 0.0), z)


@pytest.mark.parametrize(
    "sections",
    [
        {"selfplay": {"value_target_q": 0.5}},
        {"search": {"forced_playouts_k": 2.0}},
        {"selfplay": {"value_target_q": 0.3}, "search": {"forced_playouts_k": 2.0}},
    ],
    ids=["q-mix", "forced", "both"],
)
def test_levers_self_play_and_train(sections: dict) -> None:
    game = get_game("tic_tac_toe")
    cfg = tiny_config(**sections)
    trainer = AZLearner(game, cfg)
    from ponder.agents.alphazero.evaluator import TorchEvaluator

    runner = SelfPlayRunner(game, cfg, TorchEvaluator(trainer.net), seed=2)
    records = runner.play(6)
    samples = Samples.concat([r.samples for r in records])
    assert np.all(np.abs(samples.value) <= 1.0)
    assert np.allclose(samples.policy.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(samples.policy[~samples.legal] == 0)
    results = np.concatenate(
        [np.where(np.arange(len(r.samples)) % 2 == 0, r.outcome, -r.outcome) for r in records]
    )
    share = cfg.selfplay.value_target_q
    if share:
        # Targets move off the game results, but stay nearer z than the search value alone.
        assert not np.array_equal(samples.value, results)
        assert np.all(np.abs(samples.value - results) <= 2 * share + 1e-6)
    else:
        np.testing.assert_array_equal(samples.value, results)
    for _ in range(3):
        losses = trainer.train_step(samples.take(slice(0, 16)))
        assert all(math.isfinite(v) for v in losses.values())


# -- learning-rate schedule ----------------------------------------------------------------------
def test_one_cycle_schedule_shape() -> None:
    cfg = tiny_config(train={"lr": 0.01, "lr_cycle_steps": 400})
    assert lr_at(cfg, 0) == pytest.approx(0.001)
    assert lr_at(cfg, 50) == pytest.approx(0.001 + 0.009 * 0.5)
    assert lr_at(cfg, 100) == pytest.approx(0.01)
    assert lr_at(cfg, 250) == pytest.approx(0.0001 + 0.0099 * 0.5)
    assert lr_at(cfg, 400) == pytest.approx(0.0001)
    assert lr_at(cfg, 10_000) == pytest.approx(0.0001)
    steps = [lr_at(cfg, s) for s in range(100, 401)]
    assert all(a >= b for a, b in itertools.pairwise(steps))


def test_one_cycle_and_piecewise_schedule_exclude_each_other() -> None:
    with pytest.raises(ValidationError, match="lr_cycle_steps"):
        tiny_config(train={"lr_cycle_steps": 100, "lr_schedule": [[50, 0.001]]})


# -- growing replay window -----------------------------------------------------------------------
def test_growing_window_formula() -> None:
    assert growing_window(500, 1000, 10_000) == 500
    assert growing_window(1000, 1000, 10_000) == 1000
    grown = 1000 * (1 + 0.4 * (16**0.75 - 1) / 0.75)  # 16x the start: 8x to the 3/4 power
    assert growing_window(16_000, 1000, 100_000) == int(grown)
    assert growing_window(10**9, 1000, 10_000) == 10_000


def rows(count: int, first: int) -> Samples:
    """Rows whose value field holds their insertion index, to see which rows batches use."""
    index = np.arange(first, first + count, dtype=np.float32)
    return Samples(
        planes=np.zeros((count, 1, 1, 1), np.float32),
        policy=np.ones((count, 2), np.float32) / 2,
        value=index,
        legal=np.ones((count, 2), np.bool_),
        policy_weight=np.ones(count, np.float32),
    )


@pytest.mark.parametrize("added", [150, 900, 5000], ids=["filling", "wrapped", "long"])
def test_batches_come_from_the_newest_window(added: int) -> None:
    buffer = ReplayBuffer(capacity=1000, seed=1, window_start=100)
    for first in range(0, added, 50):
        buffer.add(rows(50, first))
    window = buffer.window()
    assert window == min(1000, growing_window(added, 100, 1000))
    batch = buffer.sample(4096)[0]["value"]
    assert batch.min() >= added - window and batch.max() <= added - 1
    assert len(np.unique(batch)) > window * 0.9  # the whole window is used
    # Exact resume: a restored buffer draws the very batches this one would.
    copy = ReplayBuffer(capacity=1000, seed=9, window_start=100)
    copy.restore(*buffer.snapshot())
    np.testing.assert_array_equal(copy.sample(64)[0]["value"], buffer.sample(64)[0]["value"])


def test_window_off_samples_the_whole_buffer() -> None:
    buffer = ReplayBuffer(capacity=1000, seed=1)
    buffer.add(rows(600, 0))
    assert buffer.window() == 600
    assert buffer.sample(4096)[0]["value"].min() < 50
