"""The connect-four solver against OpenSpiel's alpha-beta search, a brute-force score, and
known positions."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest
from open_spiel.python.algorithms import minimax

from ponder.envs.board import connect_four as c4
from ponder.envs.solvers import get_solver
from ponder.envs.solvers.connect_four import (
    ConnectFourSolver,
    SolverBudgetExceededError,
    solve,
)

SPIEL_GAME = pyspiel.load_game("connect_four")


def _state(history) -> np.ndarray:
    state = c4.GAME.new_states(1)[0]
    for action in history:
        c4.play(state, int(action))
    return state


def _positions(stones: int, count: int, seed: int) -> list[list[int]]:
    """Unfinished positions after `stones` plies: random up to ply 20, then optimal moves
    (picked at random among the solver's), so that late positions are not all lopsided."""
    rng = np.random.default_rng(seed)
    found: list[list[int]] = []
    while len(found) < count:
        state, history = _state([]), []
        while len(history) < stones and not c4.is_terminal(state):
            legal = c4.GAME.legal_actions(state) if len(history) < 20 else solve(state).best_actions
            history.append(int(rng.choice(legal)))
            c4.play(state, history[-1])
        if not c4.is_terminal(state):
            found.append(history)
    return found


def _spiel_state(history):
    state = SPIEL_GAME.new_initial_state()
    for action in history:
        state.apply_action(action)
    return state


def _brute_force_score(state) -> int:
    """Pons' score by plain minimax over OpenSpiel states: 22 - the winner's stone count."""
    if state.is_terminal():
        returns = state.returns()
        if returns[0] == 0:
            return 0
        winner_stones = (len(state.history()) + 1) // 2
        return -(22 - winner_stones)  # the player to move here has lost
    return max(-_brute_force_score(state.child(a)) for a in state.legal_actions())


@pytest.mark.parametrize("stones", [34, 32, 30, 28])
def test_value_and_optimal_set_match_openspiel_alpha_beta(stones):
    values_seen = set()
    for history in _positions(stones, 8, seed=stones):
        spiel_state = _spiel_state(history)
        mover = spiel_state.current_player()
        child_values = {
            a: minimax.alpha_beta_search(
                SPIEL_GAME, spiel_state.child(a), maximizing_player_id=mover
            )[0]
            for a in spiel_state.legal_actions()
        }
        best = max(child_values.values())
        result = solve(_state(history))
        assert result.value == best, history
        assert result.best_actions.tolist() == [a for a, v in child_values.items() if v == best]
        assert result.score is None
        values_seen.add(result.value)
    assert len(values_seen) >= 2


def test_exact_scores_match_brute_force():
    solver = ConnectFourSolver(table_bits=16)
    for history in _positions(37, 12, seed=5):
        expected = _brute_force_score(_spiel_state(history))
        result = solver.solve(_state(history), exact_score=True)
        assert result.score == expected, history
        assert result.value == np.sign(expected)
        assert solver.score(_state(history)) == expected


def test_weak_and_exact_solves_agree_and_the_kept_table_changes_nothing():
    """Mid-game, beyond OpenSpiel's reach: the yes/no child tests, the exact bisection, and a
    table warmed by earlier positions must all give the same answer."""
    warm = ConnectFourSolver(table_bits=18)
    for history in _positions(22, 6, seed=22):
        state = _state(history)
        weak = warm.solve(state)
        exact = ConnectFourSolver(table_bits=18).solve(state, exact_score=True)
        assert weak.value == exact.value == np.sign(exact.score), history
        assert weak.best_actions.tolist() == exact.best_actions.tolist()
        assert warm.score(state) == exact.score


def test_known_scores():
    # Columns numbered 1-7: "4455" lets the mover win with its 4th stone; in "44455554221"
    # the mover loses to the opponent's 7th stone whatever it plays.
    assert ConnectFourSolver(table_bits=16).score(_state([3, 3, 4, 4])) == 18
    result = solve(_state([int(ch) - 1 for ch in "44455554221"]), exact_score=True)
    assert result.score == -15 and result.value == -1
    assert result.best_actions.tolist() == c4.GAME.legal_actions(_state([])).tolist()


def test_finished_games():
    won = _state([0, 1, 0, 1, 0, 1, 0])  # the first player's 4th stone completes a column
    result = solve(won, exact_score=True)
    assert result.value == -1 and result.best_actions.size == 0 and result.score == -18
    drawn = _state([int(ch) for ch in "555054466351352123041430222100021613443666"])
    assert solve(drawn).value == 0


def test_budget_exhaustion_is_reported_and_leaves_the_table_sound():
    history = [int(ch) for ch in "5262045426321145"]  # about 100 000 positions to solve
    solver = ConnectFourSolver(table_bits=20)
    with pytest.raises(SolverBudgetExceededError, match="max_nodes=1000"):
        solver.solve(_state(history), max_nodes=1000)
    after_abort = solver.solve(_state(history))
    fresh = ConnectFourSolver(table_bits=20).solve(_state(history))
    assert after_abort.value == fresh.value
    assert after_abort.best_actions.tolist() == fresh.best_actions.tolist()
    assert solver.nodes > 1000


def test_registered_as_the_connect_four_solver():
    assert get_solver("connect_four") is solve


def test_two_threads_sharing_the_table_give_the_single_thread_answers():
    one, two = (
        ConnectFourSolver(table_bits=18, threads=1),
        ConnectFourSolver(table_bits=18, threads=2),
    )
    assert two.threads == 2
    for history in _positions(16, 6, seed=16):
        state = _state(history)
        for exact in (False, True):
            a, b = one.solve(state, exact_score=exact), two.solve(state, exact_score=exact)
            assert (a.value, a.score) == (b.value, b.score), history
            assert a.best_actions.tolist() == b.best_actions.tolist(), history


def test_budget_is_shared_between_threads():
    history = [int(ch) for ch in "5262045426321145"]
    solver = ConnectFourSolver(table_bits=20, threads=2)
    with pytest.raises(SolverBudgetExceededError, match="max_nodes=1000 "):
        solver.solve(_state(history), max_nodes=1000)
    assert solver.nodes <= 1000
    assert (
        solver.solve(_state(history)).value
        == ConnectFourSolver(threads=1).solve(_state(history)).value
    )


def test_table_size_is_checked():
    with pytest.raises(ValueError, match="table_bits"):
        ConnectFourSolver(table_bits=40)


@pytest.mark.slow
def test_empty_board_is_won_by_the_first_player_through_the_centre_only():
    """The known result (Allen and Allis, 1988): the first player wins, and only the centre
    column does; the other six first moves are each proved not to win."""
    result = ConnectFourSolver(table_bits=24).solve(_state([]))
    assert result.value == 1
    assert result.best_actions.tolist() == [3]
