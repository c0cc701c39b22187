"""The players a study is made of: root rules and adaptive budgets from the spec, test compute
measured per move, and the adaptive rule's decisions on crafted root statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from az_core_support import one_torch_thread  # noqa: F401

from ponder.agents.alphazero.config import AZConfig
from ponder.agents.alphazero.learner import AZLearner
from ponder.agents.alphazero.player import AdaptiveBudget, most_visited
from ponder.arena.match import play_match
from ponder.arena.specs import make_player
from ponder.arena.think.compute import macs_per_evaluation, training_compute
from ponder.checkpoint import read_metadata
from ponder.envs.registry import get_game
from ponder.errors import PonderError
from ponder.rundir import RunDir

TTT = get_game("tic_tac_toe")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    cfg = AZConfig.model_validate(
        {
            "game": "tic_tac_toe",
            "network": {"blocks": 1, "channels": 8, "value_hidden": 8},
            "selfplay": {"search": {"num_simulations": 8, "leaves_per_step": 2}},
        }
    )
    trainer = AZLearner(TTT, cfg)
    run = RunDir.create(tmp_path_factory.mktemp("run") / "r", prefix="az")
    compute = {
        "network_evaluations": 1000,
        "selfplay_positions": 100,
        "learner_samples": 400,
        "wall_seconds": 1.0,
    }
    tensors, meta = trainer.checkpoint(compute)
    return str(run.save_checkpoint(trainer.step, tensors, meta))


def test_match_counts_each_players_evaluations_per_move(checkpoint):
    result = play_match(TTT, f"{checkpoint}@0", f"{checkpoint}@8:root=puct", 8, seed=1)
    moves_a = sum(g.moves_a for g in result.games)
    moves_b = sum(g.moves_b for g in result.games)
    assert moves_a > 0 and moves_b > 0
    assert sum(g.evaluations_a for g in result.games) == moves_a  # one network call a move
    per_move_b = sum(g.evaluations_b for g in result.games) / moves_b
    assert 1.0 < per_move_b <= 9.0  # root + at most 8 simulations; terminal leaves cost none
    uct = play_match(TTT, "uct:20", "random", 2, seed=0)
    assert all(g.evaluations_a == 0 and g.moves_a > 0 for g in uct.games)


def test_gumbel_root_and_adaptive_budget_from_the_spec(checkpoint):
    gumbel = make_player(f"{checkpoint}@4:root=gumbel", TTT)
    assert gumbel.search_config.gumbel
    adaptive = make_player(f"{checkpoint}@8:adapt=4", TTT)
    assert adaptive.budget is not None and adaptive.budget.cap == 32
    assert adaptive.search_config.num_simulations == 32 and adaptive.search_config.tree_reuse
    with pytest.raises(PonderError, match="needs the PUCT root"):
        make_player(f"{checkpoint}@8:root=gumbel:adapt=4", TTT)
    result = play_match(TTT, f"{checkpoint}@8:adapt=4", "random", 8, seed=2)
    assert result.num_games == 8
    spent = [g.evaluations_a / g.moves_a for g in result.games]
    assert all(0 < s <= 33 for s in spent)


def test_adaptive_rule_stops_where_the_move_is_settled():
    rule = AdaptiveBudget(base=16, adapt=4)  # slices of 4, at most 64
    still = np.array([0.1])
    # Out of reach: a lead of 50 visits with 14 simulations left.
    assert rule.stop(np.array([50]), np.array([[50, 0, 0]]), np.zeros((1, 3)), still, still)[0]
    # Before the base budget: decided (80% of visits, value steady) stops...
    visits = np.array([[8, 1, 1]])
    assert rule.stop(np.array([8]), visits, np.zeros((1, 3)), still, still)[0]
    # ...but not while the root value still moves.
    assert not rule.stop(np.array([8]), visits, np.zeros((1, 3)), still, still + 0.1)[0]
    # Past the base: close Q values keep it thinking, a clear best move stops it.
    visits = np.array([[10, 8, 2]])
    close = np.array([[0.30, 0.28, 0.0]])
    clear = np.array([[0.30, 0.10, 0.0]])
    assert not rule.stop(np.array([20]), visits, close, still, still)[0]
    assert rule.stop(np.array([20]), visits, clear, still, still)[0]
    # The cap always stops.
    assert rule.stop(np.array([64]), visits, close, still, still + 1)[0]


def test_most_visited_breaks_ties_by_q_then_prior():
    visits = np.array([[1, 1, 0], [2, 2, 2]])
    q = np.array([[0.1, 0.5, 0.9], [0.2, 0.2, 0.2]])
    prior = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]])
    assert most_visited(visits, q, prior).tolist() == [1, 1]


def test_training_compute_counts_macs_from_the_network(checkpoint):
    meta = read_metadata(checkpoint)
    compute = training_compute(meta, checkpoint)
    net_macs = macs_per_evaluation("tic_tac_toe", '{"blocks": 1, "channels": 8}')
    # The stem's 3x3 conv alone is obs_planes*8*9 MACs per cell over 9 cells.
    planes = TTT.obs_shape[0]
    assert net_macs > 9 * planes * 8 * 9
    assert compute.macs == compute.macs_per_evaluation * (1000 + 3 * 400)
    assert torch.get_num_threads() >= 1
