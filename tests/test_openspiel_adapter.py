"""The generic OpenSpiel adapter: game-type checks, shapes, and random games played through the
BoardGame-named functions on breakthrough, go 9x9, chess, and tic-tac-toe against the native one."""

from __future__ import annotations

import numpy as np
import pytest

from ponder.envs.openspiel import OpenSpielGame, make_game
from ponder.envs.registry import get_game
from ponder.errors import PonderError


def _random_game(game: OpenSpielGame, rng: np.random.Generator, max_plies: int | None = None):
    """Plays random legal moves through the adapter, checking its invariants at every step."""
    state = game.init()
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    planes = np.zeros(game.obs_shape, dtype=np.float32)
    plies = 0
    while not game.is_terminal(state):
        assert game.to_play(state) in (0, 1)
        assert game.outcome(state) == 0.0
        game.legal_mask(state, mask)
        legal = np.flatnonzero(mask)
        assert legal.tolist() == state.legal_actions()
        game.encode(state, planes)
        action = int(rng.choice(legal))
        done, result = game.play(state, action)
        plies += 1
        assert done == game.is_terminal(state)
        if done:
            assert result in (-1.0, 0.0, 1.0)
            assert result == game.outcome(state) == np.sign(state.returns()[game.first_player])
        if max_plies is not None and plies >= max_plies:
            break
    assert plies <= game.max_moves
    return state, plies


@pytest.mark.parametrize(
    "spec, obs_shape, board, actions",
    [
        ("breakthrough", (3, 8, 8), (8, 8), 768),
        ("go(board_size=9)", (4, 9, 9), (9, 9), 82),
        ("gomoku", (3, 15, 15), (15, 15), 225),  # OpenSpiel's tensor is 2-D: (3, 225)
        ("oware", (14, 1, 1), (0, 0), 6),  # 1-D features become planes of a 1x1 board
    ],
)
def test_shapes_and_fields(spec, obs_shape, board, actions):
    game = make_game(spec)
    assert game.name == f"openspiel:{spec}" and game.openspiel_name == spec
    assert game.kind == "openspiel"
    assert (game.obs_shape, game.board_shape, game.num_actions) == (obs_shape, board, actions)
    assert game.max_moves == game.spiel_game.max_game_length()
    assert game.num_symmetries == 1
    assert np.array_equal(game.action_perms[0], np.arange(actions))
    assert np.array_equal(game.cell_perms[0], np.arange(obs_shape[1] * obs_shape[2]))
    assert make_game(spec) is game
    assert get_game(f"openspiel:{spec}") is game


@pytest.mark.parametrize(
    "spec, why",
    [
        ("kuhn_poker", "kuhn_poker has imperfect information"),
        ("backgammon", "backgammon has chance events"),
        ("matrix_rps", "matrix_rps is not turn-based"),
        ("hearts", "hearts has 4 players"),
        ("no_such_game", "unknown OpenSpiel game 'no_such_game'"),
        ("go(bogus=1)", "Unknown parameter 'bogus'"),
        ("go(board_size=9", "bad OpenSpiel game string"),
        ("", "empty OpenSpiel game string"),
    ],
)
def test_unsupported_or_bad_specs_are_user_errors(spec, why):
    with pytest.raises(PonderError, match=why) as info:
        make_game(spec)
    assert "\n" not in str(info.value)


def test_breakthrough_random_games_end_with_a_winner():
    game = make_game("breakthrough")
    rng = np.random.default_rng(0)
    for _ in range(3):
        state, _ = _random_game(game, rng)
        assert game.outcome(state) in (-1.0, 1.0)  # breakthrough has no draws


def test_go_9x9_short_random_games_with_passes():
    game = make_game("go(board_size=9)")
    rng = np.random.default_rng(1)
    pass_action = 81
    state = game.init()
    game.play(state, pass_action)
    done, result = game.play(state, pass_action)  # two passes end a go game
    assert done and result == game.outcome(state) == -1.0  # komi 7.5 wins an empty board
    for _ in range(2):
        state, plies = _random_game(game, rng, max_plies=40)
        assert plies == 40 or game.is_terminal(state)


def test_chess_random_games_and_notation():
    game = make_game("chess")
    rng = np.random.default_rng(2)
    for _ in range(2):
        state, plies = _random_game(game, rng)  # to the end: mate, stalemate or a draw rule
        assert game.is_terminal(state) and plies > 0
    start = game.init()
    e4 = game.string_to_action("e4", start)
    assert game.action_to_string(e4, start) == "e4"
    assert game.action_to_string(e4) == "e4"  # default: the initial position
    assert game.string_to_action(str(e4)) == e4
    assert game.action_to_string(4000) == "#4000"  # not a move from the start: shown by id
    with pytest.raises(ValueError, match="not a move of chess"):
        game.string_to_action("zz9", start)
    # OpenSpiel numbers white 1; the adapter numbers players by move order like native games.
    assert game.first_player == 1
    clone = game.clone(start)
    game.play(clone, e4)
    assert game.to_play(start) == 0 and game.to_play(clone) == 1


def test_chess_outcome_is_for_the_first_mover():
    game = make_game("chess")
    state = game.init()
    for move in ("f3", "e5", "g4"):
        assert game.play(state, game.string_to_action(move, state)) == (False, 0.0)
    assert game.play(state, game.string_to_action("Qh4#", state)) == (True, -1.0)  # fool's mate


def test_tic_tac_toe_adapter_matches_native_move_for_move():
    adapter, native = make_game("tic_tac_toe"), get_game("tic_tac_toe")
    assert adapter.num_actions == native.num_actions and adapter.obs_shape == native.obs_shape
    rng = np.random.default_rng(3)
    mask_a = np.zeros(9, dtype=np.bool_)
    mask_n = np.zeros(9, dtype=np.bool_)
    outcomes = set()
    for _ in range(60):
        state, row = adapter.init(), native.new_states(1)[0]
        while True:
            assert adapter.is_terminal(state) == native.is_terminal(row)
            if adapter.is_terminal(state):
                assert adapter.outcome(state) == native.outcome(row)
                outcomes.add(adapter.outcome(state))
                break
            assert adapter.to_play(state) == native.to_play(row)
            adapter.legal_mask(state, mask_a)
            native.legal_mask(row, mask_n)
            assert np.array_equal(mask_a, mask_n)
            action = int(rng.choice(np.flatnonzero(mask_a)))
            assert adapter.play(state, action) == tuple(native.play(row, action))
    assert outcomes == {-1.0, 0.0, 1.0}


def test_batch_helpers_and_render():
    game = make_game("tic_tac_toe")
    states = game.new_states(3)
    game.play(states[1], 4)
    planes = game.encode_batch(states)
    assert planes.shape == (3, 3, 3, 3)
    assert not np.array_equal(planes[0], planes[1])
    assert game.legal_actions(states[1]).tolist() == [0, 1, 2, 3, 5, 6, 7, 8]
    assert "x" in game.render(states[1])
    assert game.string_to_action(game.action_to_string(4, states[0]), states[0]) == 4
