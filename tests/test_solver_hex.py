"""The exact hex solver against OpenSpiel's alpha-beta search and the known small-board facts."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest
from open_spiel.python.algorithms import minimax

from ponder.envs.registry import get_game
from ponder.envs.solvers import get_solver
from ponder.envs.solvers.hex import solve
from ponder.errors import PonderError


def _spiel_wins(spiel_game, spiel_state, player: int) -> bool:
    """Does `player` win from `spiel_state` with best play (OpenSpiel's own alpha-beta)?"""
    if spiel_state.is_terminal():
        return spiel_state.returns()[player] > 0
    value, _ = minimax.alpha_beta_search(spiel_game, state=spiel_state, maximizing_player_id=player)
    return value > 0


def _spiel_result(spiel_game, spiel_state) -> tuple[int, list[int]]:
    """(value for the mover, every action that keeps it), computed by OpenSpiel alone."""
    mover = spiel_state.current_player()
    wins = [
        a
        for a in spiel_state.legal_actions()
        if _spiel_wins(spiel_game, spiel_state.child(a), mover)
    ]
    return (1, wins) if wins else (-1, spiel_state.legal_actions())


def _state(game, actions):
    state = game.new_states(1)[0]
    for action in actions:
        game.play(state, action)
    return state


def test_first_player_wins_and_the_winning_openings():
    three = solve(get_game("hex_3").new_states(1)[0])
    assert three.value == 1
    # c1, a2, b2, c2, a3: the short diagonal (c1 b2 a3, with the centre) and the two middle
    # edge cells of the top-bottom player's row 2.
    assert three.best_actions.tolist() == [2, 3, 4, 5, 6]
    spiel_game = pyspiel.load_game("hex(board_size=3)")
    assert _spiel_result(spiel_game, spiel_game.new_initial_state()) == (1, [2, 3, 4, 5, 6])

    four = solve(get_game("hex_4").new_states(1)[0])
    assert four.value == 1
    # Exactly the short diagonal d1, c2, b3, a4 (an independent memoised search over OpenSpiel
    # states, too slow for the suite, finds the same four).
    assert four.best_actions.tolist() == [3, 6, 9, 12]
    assert get_solver("hex_4") is solve and get_solver("hex_3") is solve


def test_every_opening_reply_on_3x3_matches_openspiel():
    """All 72 two-ply positions of 3x3 (and their values from each side's view)."""
    game = get_game("hex_3")
    spiel_game = pyspiel.load_game(game.openspiel_name)
    for first in range(9):
        for second in range(9):
            if second == first:
                continue
            spiel_state = spiel_game.new_initial_state().child(first).child(second)
            ours = solve(_state(game, [first, second]))
            value, best = _spiel_result(spiel_game, spiel_state)
            assert (ours.value, ours.best_actions.tolist()) == (value, best)


def test_random_4x4_midgames_match_openspiel():
    game = get_game("hex_4")
    spiel_game = pyspiel.load_game(game.openspiel_name)
    rng = np.random.default_rng(5)
    checked = {1: 0, -1: 0}
    while sum(checked.values()) < 24:
        actions = rng.permutation(16)[:8].tolist()
        spiel_state = spiel_game.new_initial_state()
        for action in actions:
            if spiel_state.is_terminal():
                break
            spiel_state.apply_action(action)
        if spiel_state.is_terminal():
            continue
        ours = solve(_state(game, actions))
        value, best = _spiel_result(spiel_game, spiel_state)
        assert (ours.value, ours.best_actions.tolist()) == (value, best), actions
        checked[value] += 1
    assert checked[1] > 0 and checked[-1] > 0


def test_lost_and_finished_positions():
    game = get_game("hex_3")
    lost = solve(_state(game, [4]))  # x took the centre: o loses whatever it plays
    assert lost.value == -1
    assert lost.best_actions.tolist() == [0, 1, 2, 3, 5, 6, 7, 8]
    finished = _state(game, [0, 1, 3, 2, 6])  # x joined top and bottom down column a
    assert game.is_terminal(finished)
    result = solve(finished)
    assert result.value == -1 and result.best_actions.size == 0


def test_refuses_big_boards_and_foreign_rows():
    with pytest.raises(PonderError, match="up to 4x4"):
        solve(get_game("hex_5").new_states(1)[0])
    with pytest.raises(PonderError, match="hex state row"):
        solve(np.zeros(10, dtype=np.int8))
    with pytest.raises(PonderError, match="hex state row"):
        solve(get_game("hex_3").new_states(1)[0].astype(np.int64))
