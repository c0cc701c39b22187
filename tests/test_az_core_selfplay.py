"""SelfPlayRunner: game records replay to their results, targets are consistent, and the
resignation bookkeeping (including no-resign calibration games) adds up."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from az_core_support import one_torch_thread  # noqa: F401

from ponder.agents.alphazero.config import AZConfig
from ponder.agents.alphazero.evaluator import TorchEvaluator
from ponder.agents.alphazero.network import PolicyValueNet
from ponder.agents.alphazero.selfplay import SelfPlayRunner
from ponder.envs.registry import get_game


def config(game: str = "tic_tac_toe", **selfplay: object) -> AZConfig:
    search = {"num_simulations": 8, "leaves_per_step": 2, "root_noise": True}
    search.update(selfplay.pop("search", {}))  # type: ignore[arg-type]
    return AZConfig.model_validate(
        {
            "game": game,
            "network": {"blocks": 1, "channels": 8, "value_hidden": 8},
            "selfplay": {
                "concurrent_games": 6,
                "search": search,
                "resign_threshold": -1.0,
                **selfplay,
            },
        }
    )


def network_evaluator(game, cfg: AZConfig) -> TorchEvaluator:
    torch.manual_seed(0)
    return TorchEvaluator(PolicyValueNet(game, cfg.network))


class ColourBiasedEvaluator:
    """Uniform priors; every position looks lost (-0.9) to player 0 and won to player 1.

    Reads the colour plane (plane 2 of tic-tac-toe: 1 when player 0 moves), so player 0's root
    value drops below any threshold above -0.9 and it resigns as soon as it may."""

    def __call__(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        priors = legal / legal.sum(axis=1, keepdims=True)
        values = np.where(planes[:, 2, 0, 0] == 1.0, -0.9, 0.9)
        return priors.astype(np.float32), values.astype(np.float32)


def replay_and_check(game, record) -> None:
    """Replaying the moves reproduces every recorded position and the final result."""
    state = game.new_states(1)[0]
    samples = record.samples
    assert len(samples) == len(record.moves) + int(record.resigned)
    planes = np.zeros(game.obs_shape, np.float32)
    legal = np.zeros(game.num_actions, np.bool_)
    done = False
    for ply in range(len(samples)):
        game.encode(state, planes)
        game.legal_mask(state, legal)
        np.testing.assert_array_equal(samples.planes[ply], planes)
        np.testing.assert_array_equal(samples.legal[ply], legal)
        mover = game.to_play(state)
        want = record.outcome if mover == 0 else -record.outcome
        assert samples.value[ply] == want
        assert np.all(samples.policy[ply][~legal] == 0)
        if samples.policy_weight[ply] > 0:
            assert samples.policy[ply].sum() == pytest.approx(1.0, abs=1e-5)
        if ply < len(record.moves):
            assert legal[record.moves[ply]]
            done, outcome = game.play(state, record.moves[ply])
    if record.resigned:
        assert not done
        loser = game.to_play(state)
        assert record.outcome == (-1.0 if loser == 0 else 1.0)
    else:
        assert done and outcome == record.outcome


@pytest.mark.parametrize("gumbel", [False, True], ids=["puct", "gumbel"])
def test_records_replay_to_their_results(gumbel: bool) -> None:
    game = get_game("tic_tac_toe")
    cfg = config(temperature_moves=2, search={"gumbel": gumbel, "gumbel_considered": 4})
    runner = SelfPlayRunner(game, cfg, network_evaluator(game, cfg), seed=3)
    records = runner.play(12)
    assert len(records) >= 12 and runner.games == len(records)
    for record in records:
        replay_and_check(game, record)
        assert not record.resigned and record.would_have_lost_resigner is None
        assert np.all(record.samples.policy_weight == 1.0)
    assert runner.positions >= sum(len(r.samples) for r in records)
    assert runner.evaluations == runner.evaluator.evaluations > 0
    # Temperature: the first plies vary between games, so not every game opens the same way.
    assert len({tuple(r.moves[:2]) for r in records}) > 1


def test_playout_cap_randomization_marks_fast_searches() -> None:
    game = get_game("connect_four")
    cfg = config("connect_four", fast_simulations=2, full_search_prob=0.5, temperature_moves=4)
    runner = SelfPlayRunner(game, cfg, network_evaluator(game, cfg), seed=1)
    records = runner.play(6)
    weights = np.concatenate([r.samples.policy_weight for r in records])
    assert set(np.unique(weights)) == {0.0, 1.0}
    for record in records:
        replay_and_check(game, record)


def test_resignation_and_false_resign_bookkeeping() -> None:
    game = get_game("tic_tac_toe")
    cfg = config(
        resign_threshold=-0.5,
        resign_min_moves=2,
        resign_disabled_fraction=0.5,
        temperature_moves=9,
        search={"root_noise": False},
    )
    runner = SelfPlayRunner(game, cfg, ColourBiasedEvaluator(), seed=0)
    records = runner.play(40)
    resigned = [r for r in records if r.resigned]
    played_out = [r for r in records if r.resign_disabled]
    assert resigned and played_out
    assert {r.resign_disabled for r in resigned} == {False}
    for record in resigned:
        replay_and_check(game, record)
        # Player 0 resigns at its first chance: after ply 0 and the reply, at ply 2.
        assert len(record.moves) == 2 and record.outcome == -1.0
        assert record.would_have_lost_resigner is None
    for record in played_out:
        replay_and_check(game, record)
        assert not record.resigned
        # Player 0 wanted to resign; the flag says whether it really lost the played-out game.
        assert record.would_have_lost_resigner == (record.outcome < 0)
    stats = runner.stats()
    assert stats["resign_rate"] == pytest.approx(runner.resigned / runner.games)
    false = sum(not r.would_have_lost_resigner for r in played_out)
    assert runner.false_resigns == false and runner.resign_checks == len(played_out)


def test_openspiel_game_self_play() -> None:
    game = get_game("openspiel:tic_tac_toe")
    cfg = config("openspiel:tic_tac_toe", temperature_moves=2)
    cfg.selfplay.concurrent_games = 3
    runner = SelfPlayRunner(game, cfg, network_evaluator(game, cfg), seed=0)
    records = runner.play(3)
    native = get_game("tic_tac_toe")
    for record in records:
        # Same action ids and results as the native twin; the planes are OpenSpiel's own.
        state = native.new_states(1)[0]
        for move in record.moves:
            done, outcome = native.play(state, move)
        assert done and outcome == record.outcome
        values = record.samples.value
        assert np.all(values[0::2] == record.outcome) and np.all(values[1::2] == -record.outcome)
