"""The Gumbel root (Danihelka et al. 2022): sequential halving spends the budget as scheduled,
and the improved policy beats the prior with a handful of simulations."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from ponder.envs.board import tic_tac_toe as ttt
from ponder.envs.solvers.tic_tac_toe import solve as solve_ttt
from ponder.search import BatchedMCTS, SearchConfig, UniformEvaluator
from ponder.search.gumbel import considered_visit_table

GAME = ttt.GAME


def random_positions(count: int, max_plies: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    found: dict[bytes, np.ndarray] = {}
    while len(found) < count:
        state = GAME.new_states(1)[0]
        for _ in range(int(rng.integers(0, max_plies + 1))):
            if GAME.play(state, int(rng.choice(GAME.legal_actions(state))))[0]:
                break
        if not GAME.is_terminal(state):
            found.setdefault(state.tobytes(), state.copy())
    return np.stack(list(found.values()))


class FixedEvaluator:
    """A fixed, deliberately uninformed prior (random logits, fixed per position) and the exact
    minimax value: what the search adds over the prior is measurable."""

    def evaluate_states(self, states, legal):
        priors = np.zeros(legal.shape, dtype=np.float32)
        values = np.zeros(len(legal), dtype=np.float32)
        for i, state in enumerate(states):
            rng = np.random.default_rng(zlib.crc32(state.tobytes()))
            weights = np.where(legal[i], np.exp(2.0 * rng.normal(size=legal.shape[1])), 0.0)
            priors[i] = weights / weights.sum()
            values[i] = solve_ttt(state).value
        return priors, values


def exact_action_values(state: np.ndarray) -> np.ndarray:
    """Minimax value of every legal move for the mover (0 for illegal moves)."""
    values = np.zeros(GAME.num_actions)
    mover = GAME.to_play(state)
    for a in GAME.legal_actions(state):
        child = state.copy()
        done, outcome = GAME.play(child, a)
        if done:
            values[a] = outcome if mover == 0 else -outcome
        else:
            values[a] = -solve_ttt(child).value
    return values


def test_schedule_is_sequential_halving():
    table = considered_visit_table(4, 16)
    # 4 actions, 2 phases: 2 visits each, then the best 2 share the rest (6 visits each).
    np.testing.assert_array_equal(table[4], [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    np.testing.assert_array_equal(table[1], np.arange(16))
    for m in range(1, 5):
        assert (np.diff(table[m]) >= 0).all()


def test_root_visits_follow_the_schedule():
    state = GAME.new_states(1)
    cfg = SearchConfig(num_simulations=16, gumbel=True, gumbel_considered=4, leaves_per_step=1)
    result = BatchedMCTS(GAME, 1, cfg, UniformEvaluator(), seed=3).search(state)
    assert sorted(result.visits[0].tolist()) == [0] * 5 + [2, 2, 6, 6]
    assert result.visits[0, result.action[0]] == 6


@pytest.mark.parametrize("per_step", [1, 4])
def test_improved_policy_is_a_distribution_over_legal_moves(per_step):
    states = random_positions(8, max_plies=5, seed=2)
    cfg = SearchConfig(num_simulations=24, gumbel=True, leaves_per_step=per_step)
    result = BatchedMCTS(GAME, 8, cfg, FixedEvaluator(), seed=1).search(states)
    for i, state in enumerate(states):
        legal = np.zeros(9, dtype=bool)
        GAME.legal_mask(state, legal)
        assert abs(result.policy[i].sum() - 1) < 1e-5
        assert (result.policy[i][~legal] == 0).all()
        assert legal[result.action[i]]
        assert result.visits[i].sum() == 24


@pytest.mark.parametrize("simulations", [2, 4, 8, 16])
def test_improved_policy_beats_the_prior(simulations):
    states = random_positions(100, max_plies=5, seed=1)
    action_values = np.stack([exact_action_values(s) for s in states])
    cfg = SearchConfig(num_simulations=simulations, gumbel=True, leaves_per_step=1)
    gains, action_gains = [], []
    for seed in (0, 1000):
        result = BatchedMCTS(GAME, len(states), cfg, FixedEvaluator(), seed=seed).search(states)
        prior_value = (result.prior * action_values).sum(axis=1)
        gains.append((result.policy * action_values).sum(axis=1) - prior_value)
        action_gains.append(action_values[np.arange(len(states)), result.action] - prior_value)
    gains = np.concatenate(gains)
    # In expectation over positions the improved policy is better than the prior; a position
    # can lose a little where a completed Q is an estimate.
    assert gains.mean() > 0.2
    assert (gains < -1e-6).mean() < 0.05
    assert np.mean(action_gains) > 0.2


def test_zero_gumbel_scale_is_deterministic():
    states = random_positions(6, max_plies=4, seed=3)
    cfg = SearchConfig(num_simulations=12, gumbel=True, gumbel_scale=0.0, tree_reuse=False)
    first = BatchedMCTS(GAME, 6, cfg, FixedEvaluator(), seed=1).search(states)
    second = BatchedMCTS(GAME, 6, cfg, FixedEvaluator(), seed=2).search(states)
    np.testing.assert_array_equal(first.action, second.action)
    np.testing.assert_allclose(first.policy, second.policy, atol=1e-6)


def test_gumbel_search_with_tree_reuse_counts_only_new_visits():
    state = GAME.new_states(1)
    cfg = SearchConfig(num_simulations=16, gumbel=True, gumbel_considered=4, leaves_per_step=1)
    mcts = BatchedMCTS(GAME, 1, cfg, UniformEvaluator(), seed=3)
    before = mcts.search(state).visits[0].copy()
    after = mcts.search(state).visits[0]
    assert after.sum() == 32
    # The schedule applies to this search's visits: again 2, 2, 6, 6 on top of the old ones.
    assert sorted((after - before)[after - before > 0].tolist()) == [2, 2, 6, 6]
