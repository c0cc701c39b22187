"""The exact hex solver against OpenSpiel's alpha-beta search, the known small-board facts, its
own opening table, and as a player."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest
from open_spiel.python.algorithms import minimax

from ponder.agents.players import RandomPlayer, SolverPlayer, UCTPlayer
from ponder.envs.board.hex import HEADER
from ponder.envs.registry import get_game
from ponder.envs.solvers import get_solver, hex_openings
from ponder.envs.solvers.hex import HexSolver, label, solve
from ponder.errors import PonderError

# The winning first moves on 5x5, as this solver proves them (the first player wins).
WINNING_5X5_OPENINGS = [4, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 18, 20]


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


def _random_live_position(game, rng, stones: int):
    """Move list of a live position after `stones` uniformly random moves, or None."""
    state = game.new_states(1)[0]
    actions = rng.permutation(game.num_actions)[:stones].tolist()
    for action in actions:
        if game.is_terminal(state):
            return None
        game.play(state, action)
    return None if game.is_terminal(state) else actions


def test_random_5x5_late_positions_match_openspiel():
    game = get_game("hex_5")
    spiel_game = pyspiel.load_game(game.openspiel_name)
    rng = np.random.default_rng(11)
    checked = {1: 0, -1: 0}
    solver = HexSolver(table_bits=16)
    while sum(checked.values()) < 16:
        actions = _random_live_position(game, rng, int(rng.integers(16, 19)))
        if actions is None:
            continue
        spiel_state = spiel_game.new_initial_state()
        for action in actions:
            spiel_state.apply_action(action)
        ours = solver.solve(_state(game, actions))
        value, best = _spiel_result(spiel_game, spiel_state)
        assert (ours.value, ours.best_actions.tolist()) == (value, best), actions
        checked[value] += 1
    assert checked[1] > 0 and checked[-1] > 0


def test_5x5_first_player_wins_and_the_openings_are_rotation_invariant():
    result = solve(get_game("hex_5").new_states(1)[0])
    assert result.value == 1
    best = result.best_actions.tolist()
    assert best == WINNING_5X5_OPENINGS
    assert 12 in best  # the centre
    # The 180-degree rotation maps cell a to 24 - a and keeps each player's edges.
    assert sorted(24 - a for a in best) == best
    assert get_solver("hex_5") is solve


def test_opening_table_is_consistent_and_a_sample_re_solves():
    entries = hex_openings.load()
    assert len(entries) == 1 + 25 + 25 * 24
    # One- and zero-stone entries follow from the two-stone ones.
    for a in range(25):
        derived = [b for b in range(25) if b != a and not entries[f"{a},{b}"]]
        assert entries[str(a)] == derived
    assert entries[""] == [a for a in range(25) if not entries[str(a)]]
    # Every entry agrees with its rotated twin.
    for key, moves in entries.items():
        rotated = ",".join(str(24 - a) for a in hex_openings.moves_of(key))
        assert entries[rotated] == sorted(24 - m for m in moves)
    # A random sample of two-stone entries, re-solved by search from a cold table.
    keys = sorted(k for k in entries if k.count(",") == 1)
    solver = HexSolver(table_bits=18)
    for i in np.random.default_rng().choice(len(keys), size=2, replace=False):
        moves = hex_openings.moves_of(keys[i])
        assert hex_openings.search_winning_moves(moves, solver) == entries[keys[i]], keys[i]


@pytest.mark.slow
def test_5x5_empty_board_by_search_alone():
    solver = HexSolver()
    value, values = solver.move_values(get_game("hex_5").new_states(1)[0], use_openings=False)
    assert value == 1 and np.flatnonzero(values == 1).tolist() == WINNING_5X5_OPENINGS


def test_labels_agree_with_the_values_of_the_children():
    """An optimal move from a won position leaves the opponent lost; every other move from it
    lets the opponent win; from a lost position every legal move is optimal (all lose)."""
    game = get_game("hex_5")
    rng = np.random.default_rng(2)
    histories = []
    while len(histories) < 10:
        actions = _random_live_position(game, rng, int(rng.integers(6, 14)))
        if actions is not None:
            histories.append(actions)
    states = np.stack([_state(game, h) for h in histories])
    labels = label(states)
    assert labels.values.dtype == np.int8 and labels.values.shape == (10,)
    assert labels.optimal.dtype == np.bool_ and labels.optimal.shape == (10, 25)
    assert set(labels.values.tolist()) == {-1, 1}
    for state, value, optimal in zip(states, labels.values, labels.optimal, strict=True):
        legal = state[HEADER : HEADER + 25] == 0
        assert not (optimal & ~legal).any() and optimal.any()
        if value < 0:
            assert (optimal == legal).all()
        for action in np.flatnonzero(legal):
            child = state.copy()
            done, _ = game.play(child, int(action))
            child_value = -1 if done else solve(child).value
            assert (child_value == -1) == (value == 1 and optimal[action]), action


@pytest.mark.parametrize("opponent", [RandomPlayer(), UCTPlayer(200)])
def test_solver_player_wins_every_5x5_game_as_first_player(opponent):
    game = get_game("hex_5")
    solver = SolverPlayer()
    for seed in range(3):
        solver.start(game, 1, seed)
        opponent.start(game, 1, seed)
        states = game.new_states(1)
        history: list[int] = []
        while not game.is_terminal(states[0]):
            player = solver if len(history) % 2 == 0 else opponent
            actions, _ = player.act(states, [history], np.zeros(1, dtype=np.int64))
            action = int(actions[0])
            assert action in game.legal_actions(states[0])
            game.play(states[0], action)
            history.append(action)
        assert game.outcome(states[0]) == 1.0, history  # x, the solver, joined top and bottom


def test_refuses_big_boards_and_foreign_rows():
    with pytest.raises(PonderError, match="up to 5x5"):
        solve(get_game("hex_6").new_states(1)[0])
    assert get_solver("hex_6") is None
    with pytest.raises(PonderError, match="hex state row"):
        solve(np.zeros(10, dtype=np.int8))
    with pytest.raises(PonderError, match="hex state row"):
        solve(get_game("hex_3").new_states(1)[0].astype(np.int64))
