"""UCTRollout: classic UCT with random rollouts in numba, the baseline opponent."""

from __future__ import annotations

import numpy as np

from ponder.envs.board import tic_tac_toe as ttt
from ponder.envs.solvers.tic_tac_toe import solve as solve_ttt
from ponder.search import UCTRollout

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


def test_uct_never_loses_tic_tac_toe_to_random_play():
    games = 200  # UCT plays x in the first half, o in the second
    uct = UCTRollout(GAME, games, num_simulations=1000, seed=3)
    rng = np.random.default_rng(0)
    states = GAME.new_states(games)
    uct_player = np.where(np.arange(games) < games // 2, 0, 1)
    results = np.zeros(games)
    done = np.zeros(games, dtype=bool)
    while not done.all():
        to_move = np.array([GAME.to_play(s) for s in states])
        uct_turn = ~done & (to_move == uct_player)
        actions = uct.search(states, active=uct_turn).action
        for g in np.flatnonzero(~done):
            move = actions[g] if uct_turn[g] else rng.choice(GAME.legal_actions(states[g]))
            finished, outcome = GAME.play(states[g], int(move))
            if finished:
                done[g] = True
                results[g] = outcome if uct_player[g] == 0 else -outcome
    assert (results >= 0).all(), f"UCT lost {(results < 0).sum()} of {games} games"
    assert (results > 0).mean() > 0.8


def test_uct_agrees_with_minimax_on_tic_tac_toe():
    states = random_positions(30, max_plies=6, seed=2)
    result = UCTRollout(GAME, len(states), num_simulations=4000, seed=1).search(states)
    for i, state in enumerate(states):
        exact = solve_ttt(state)
        assert result.action[i] in exact.best_actions, GAME.render(state)


def test_uct_statistics_are_consistent():
    states = random_positions(5, max_plies=3, seed=4)
    uct = UCTRollout(GAME, 5, num_simulations=300, rollouts=2, seed=0)
    result = uct.search(states, active=np.array([True, True, False, True, True]))
    active = [0, 1, 3, 4]
    assert (result.visits[active].sum(axis=1) == 300).all()
    assert result.action[2] == -1 and result.visits[2].sum() == 0
    t = uct.tree
    for b in active:
        assert (t.inflight[b, : t.node_count[b]] == 0).all()
        legal = np.zeros(9, dtype=bool)
        GAME.legal_mask(states[b], legal)
        np.testing.assert_allclose(result.prior[b], legal / legal.sum(), atol=1e-6)
        np.testing.assert_allclose(result.policy[b], result.visits[b] / 300, atol=1e-6)
        visited = result.visits[b] > 0
        assert (np.abs(result.q[b][visited]) <= 1).all()
        assert result.visits[b, result.action[b]] == result.visits[b].max()


def test_uct_is_reproducible_for_a_seed():
    states = random_positions(4, max_plies=2, seed=5)
    first = UCTRollout(GAME, 4, num_simulations=200, seed=9).search(states)
    second = UCTRollout(GAME, 4, num_simulations=200, seed=9).search(states)
    np.testing.assert_array_equal(first.visits, second.visits)
    np.testing.assert_array_equal(first.action, second.action)


def test_openspiel_terminal_rule_still_takes_wins_and_blocks():
    # x x . / o o . / . . . with x to move: win at c1; and the same with o to move: block.
    win = GAME.new_states(1)[0]
    for move in (0, 3, 1, 4):
        GAME.play(win, move)
    block = GAME.new_states(1)[0]
    for move in (4, 0, 8, 2):
        GAME.play(block, move)
    states = np.stack([win, block])
    for rule in (True, False):
        uct = UCTRollout(GAME, 2, num_simulations=300, seed=1, terminal_exploration=rule)
        result = uct.search(states)
        assert result.action.tolist() == [2, 1]
        assert result.visits[0, 2] == result.visits[0].max()


def test_a_uct_row_does_not_depend_on_its_batch():
    """Tree b draws its ties and rollouts from stream seed + b alone: searched beside other
    positions or by itself, it makes the same search."""
    states = random_positions(3, max_plies=2, seed=6)
    batch = UCTRollout(GAME, 3, num_simulations=200, rollouts=2, seed=4).search(states)
    for r in range(3):
        alone = UCTRollout(GAME, 1, num_simulations=200, rollouts=2, seed=4 + r)
        result = alone.search(states[r : r + 1])
        np.testing.assert_array_equal(batch.visits[r], result.visits[0])
        np.testing.assert_array_equal(batch.q[r], result.q[0])
