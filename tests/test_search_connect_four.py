"""Search on connect four against the exact solver: late positions, wins in one and two."""

from __future__ import annotations

import numpy as np
import pytest

from ponder.envs.board import connect_four as c4
from ponder.envs.solvers.connect_four import solve
from ponder.search import BatchedMCTS, RolloutEvaluator, SearchConfig, UCTRollout

GAME = c4.GAME

# Found by random play; in each, the mover has a move after which every reply loses at once.
WIN_IN_TWO = [
    [3, 3, 3, 0, 0, 5, 6, 4, 0, 2, 4, 5, 0, 0, 5, 1, 3, 5, 6, 0],
    [2, 2, 2, 2, 3, 4, 5, 5, 3, 0, 1, 2, 4, 0, 4, 1],
    [4, 3, 3, 3, 5, 2, 6, 1, 4, 2, 3, 1, 0, 0],
    [0, 0, 4, 1, 1, 1, 1, 3, 2, 1, 5, 1, 5, 0, 6],
    [2, 4, 4, 1, 2, 4, 4, 4, 6, 5, 0, 3],
    [3, 0, 3, 5, 0, 6, 0, 6, 5, 1, 4, 3, 1, 1, 1, 5],
]


def position(history) -> np.ndarray:
    state = GAME.new_states(1)[0]
    for action in history:
        assert not GAME.play(state, action)[0]
    return state


def wins_at_once(state, action) -> bool:
    return bool(GAME.play(state.copy(), action)[0])


def late_positions(count: int, seed: int):
    """Positions 26-33 plies in where the choice of move matters, with their solution."""
    rng = np.random.default_rng(seed)
    found = []
    while len(found) < count:
        state = GAME.new_states(1)[0]
        over = False
        for _ in range(int(rng.integers(26, 34))):
            if GAME.play(state, int(rng.choice(GAME.legal_actions(state))))[0]:
                over = True
                break
        if over:
            continue
        exact = solve(state)
        if len(exact.best_actions) < len(GAME.legal_actions(state)):
            found.append((state, exact))
    return found


def check_against_solver(result, cases) -> None:
    for i, (state, exact) in enumerate(cases):
        assert result.action[i] in exact.best_actions, GAME.render(state)
        if exact.value == 0:
            assert abs(result.root_value[i]) < 0.5
        else:
            assert result.root_value[i] * exact.value > 0


@pytest.fixture(scope="module")
def late_cases():
    return late_positions(20, seed=11)


def test_puct_with_rollouts_agrees_with_the_solver_late_in_the_game(late_cases):
    states = np.stack([s for s, _ in late_cases])
    # Four playouts per leaf: one noisy playout per leaf left a drawn position's only saving
    # moves to the seed's luck (one of the cases failed on a new random stream).
    evaluator = RolloutEvaluator(GAME, rollouts=4, seed=1)
    mcts = BatchedMCTS(GAME, len(states), SearchConfig(num_simulations=2000), evaluator)
    check_against_solver(mcts.search(states), late_cases)


def test_uct_agrees_with_the_solver_late_in_the_game(late_cases):
    states = np.stack([s for s, _ in late_cases])
    check_against_solver(UCTRollout(GAME, len(states), 2000, seed=1).search(states), late_cases)


def test_wins_in_one_are_taken_with_few_simulations():
    state = position([0, 1, 0, 1, 0, 1])  # both have three in a column; x moves and wins
    mcts = BatchedMCTS(GAME, 1, SearchConfig(num_simulations=16), RolloutEvaluator(GAME))
    assert mcts.search(state[None]).action[0] == 0
    assert UCTRollout(GAME, 1, 16).search(state[None]).action[0] == 0


def test_wins_in_two_are_found_with_few_simulations():
    states = np.stack([position(h) for h in WIN_IN_TWO])
    for state in states:
        assert not any(wins_at_once(state, a) for a in GAME.legal_actions(state))
        assert solve(state).value == 1
    # PUCT spreads its visits by a prior, here an uninformed one, so it needs more of them.
    cfg = SearchConfig(num_simulations=800)
    puct = BatchedMCTS(GAME, len(states), cfg, RolloutEvaluator(GAME, seed=2)).search(states)
    uct = UCTRollout(GAME, len(states), 200, seed=2).search(states)
    for i, state in enumerate(states):
        winning = solve(state).best_actions
        assert puct.action[i] in winning and puct.root_value[i] > 0
        assert uct.action[i] in winning and uct.root_value[i] > 0
