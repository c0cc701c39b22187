"""The tic-tac-toe table against OpenSpiel's alpha-beta search and the known facts."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest
from open_spiel.python.algorithms import minimax

from ponder.envs.board import tic_tac_toe as ttt
from ponder.envs.solvers import get_solver
from ponder.envs.solvers.tic_tac_toe import UNREACHED, solve, value_table


def _reachable_histories() -> list[list[int]]:
    """One action history per distinct reachable position, found by OpenSpiel's own rules."""
    game = pyspiel.load_game("tic_tac_toe")
    seen: dict[str, list[int]] = {}
    stack = [(game.new_initial_state(), [])]
    while stack:
        state, history = stack.pop()
        key = str(state)
        if key in seen:
            continue
        seen[key] = history
        if not state.is_terminal():
            for action in state.legal_actions():
                stack.append((state.child(action), [*history, action]))
    return list(seen.values())


def _our_state(history: list[int]) -> np.ndarray:
    state = ttt.GAME.new_states(1)[0]
    for action in history:
        ttt.play(state, action)
    return state


def test_known_facts():
    table = value_table()
    assert int((table != UNREACHED).sum()) == 5478 == len(_reachable_histories())
    empty = solve(ttt.GAME.new_states(1)[0])
    assert empty.value == 0
    assert empty.best_actions.tolist() == list(range(9))  # every opening move draws
    # After a corner opening only the centre reply holds the draw.
    assert solve(_our_state([0])).best_actions.tolist() == [4]
    # x: a1 b1 (0, 1), o: b2 (4) -> o must block at c1 (2); x then still cannot force a win.
    result = solve(_our_state([0, 4, 1]))
    assert result.value == 0 and result.best_actions.tolist() == [2]
    assert get_solver("tic_tac_toe") is solve


def test_finished_game_and_unreachable_code():
    won = _our_state([0, 3, 1, 4, 2])  # x completes the top row
    result = solve(won)
    assert result.value == -1 and result.best_actions.size == 0
    bogus = ttt.GAME.new_states(1)[0]
    bogus[:3] = 1  # three x stones, no o stones: no game gets here
    with pytest.raises(ValueError, match="reachable"):
        solve(bogus)


def test_every_position_against_openspiel_alpha_beta():
    """Value and the whole set of optimal moves, for every reachable non-terminal position."""
    game = pyspiel.load_game("tic_tac_toe")
    histories = _reachable_histories()
    checked = 0
    for history in histories:
        spiel_state = game.new_initial_state()
        for action in history:
            spiel_state.apply_action(action)
        if spiel_state.is_terminal():
            continue
        mover = spiel_state.current_player()
        child_values = {
            a: minimax.alpha_beta_search(game, spiel_state.child(a), maximizing_player_id=mover)[0]
            for a in spiel_state.legal_actions()
        }
        best = max(child_values.values())
        result = solve(_our_state(history))
        assert result.value == best, history
        assert result.best_actions.tolist() == [a for a, v in child_values.items() if v == best]
        checked += 1
    assert checked == 4520  # the 5478 positions less the 958 finished ones
