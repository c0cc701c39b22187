"""Hex: sizes, OpenSpiel's edges and move names, union-find wins, encoding, rendering."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest

from ponder.envs.board import hex as hex_game
from ponder.envs.registry import get_game
from ponder.errors import PonderError


def _play(game, actions):
    state = game.new_states(1)[0]
    result = (False, 0.0)
    for action in actions:
        result = game.play(state, action)
    return state, result


def test_registry_sizes_are_cached_objects():
    for size in range(3, 12):
        game = get_game(f"hex_{size}")
        assert game is hex_game.make_game(size)
        assert game.num_actions == size * size
        assert game.obs_shape == (hex_game.NUM_PLANES, size, size)
        assert game.openspiel_name == f"hex(board_size={size})"
        assert pyspiel.load_game(game.openspiel_name).num_distinct_actions() == game.num_actions
    for bad in (2, 12):
        with pytest.raises(PonderError, match="hex board size"):
            hex_game.make_game(bad)


def test_move_names_match_openspiel():
    for size in (3, 7, 11):
        game = get_game(f"hex_{size}")
        spiel_state = pyspiel.load_game(game.openspiel_name).new_initial_state()
        for action in range(game.num_actions):
            name = spiel_state.action_to_string(action)
            assert game.action_to_string(action) == name
            assert game.string_to_action(name) == action
            assert game.string_to_action(name.upper()) == action
            assert game.string_to_action(str(action)) == action
    game = get_game("hex_5")
    for bad in ("f1", "a6", "a0", "25", "", "c", "3c"):
        with pytest.raises(ValueError, match="not a hex move"):
            game.string_to_action(bad)


def test_player_zero_joins_top_and_bottom_player_one_left_and_right():
    game = get_game("hex_3")
    # x fills column a (a1, a2, a3): top to bottom.
    state, (done, result) = _play(game, [0, 1, 3, 2, 6])
    assert done and result == 1.0 and game.outcome(state) == 1.0
    # o fills row 2 (a2, b2, c2): left to right; x's a1, b1 and c3 do not connect.
    state, (done, result) = _play(game, [0, 3, 1, 4, 8, 5])
    assert done and result == -1.0
    # x along the short diagonal c1, b2, a3: the (r+1, c-1) neighbours connect.
    _, (done, result) = _play(game, [2, 0, 4, 1, 6])
    assert done and result == 1.0
    # x on the long diagonal a1, b2, c3 is not connected: (r+1, c+1) is no neighbour.
    state, (done, _) = _play(game, [0, 1, 4, 2, 8])
    assert not done and game.to_play(state) == 1


def test_groups_merge_through_the_new_stone():
    """Two edge-connected groups that only meet at the last stone must win (union of flags)."""
    game = get_game("hex_5")
    # x: top group a1-a2, bottom group a4-a5; o elsewhere; x plays a3 last.
    x_moves, o_moves = [0, 5, 15, 20, 10], [4, 9, 14, 19]
    actions = [a for pair in zip(x_moves, o_moves, strict=False) for a in pair] + [x_moves[-1]]
    state, (done, result) = _play(game, actions)
    assert done and result == 1.0
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    game.legal_mask(state, mask)
    assert not mask.any()


def test_full_board_always_has_a_winner():
    rng = np.random.default_rng(1)
    game = get_game("hex_7")
    for _ in range(50):
        state = game.new_states(1)[0]
        done, result = False, 0.0
        for action in rng.permutation(game.num_actions):
            done, result = game.play(state, int(action))
            if done:
                break
        assert done and result in (1.0, -1.0)


def test_encode_is_from_the_movers_view():
    game = get_game("hex_4")
    state, _ = _play(game, [5, 6])  # x on b2, o on c2; x to move
    planes = np.zeros(game.obs_shape, dtype=np.float32)
    game.encode(state, planes)
    mine, theirs, colour, my_edges, their_edges = planes
    assert mine[1, 1] == 1 and mine.sum() == 1
    assert theirs[1, 2] == 1 and theirs.sum() == 1
    assert np.all(colour == 1)
    assert np.all(my_edges[[0, 3]] == 1) and my_edges[1:3].sum() == 0  # top and bottom rows
    assert np.all(their_edges[:, [0, 3]] == 1) and their_edges[:, 1:3].sum() == 0
    game.play(state, 0)  # now o moves: everything flips
    game.encode(state, planes)
    assert planes[0, 1, 2] == 1 and planes[0].sum() == 1
    assert planes[1].sum() == 2 and planes[1, 0, 0] == 1
    assert np.all(planes[2] == 0)
    assert np.all(planes[3][:, [0, 3]] == 1) and np.all(planes[4][[0, 3]] == 1)


def test_symmetries_are_identity_and_rot180_and_transpose_is_not_one():
    game = get_game("hex_5")
    cells = np.arange(25)
    assert game.num_symmetries == 2
    assert np.array_equal(game.cell_perms[1], cells[::-1])
    # The transpose swaps the players' goals: the same moves transposed change the winner.
    transpose = cells.reshape(5, 5).T.reshape(-1)
    rng = np.random.default_rng(0)
    differs = 0
    for _ in range(20):
        actions = rng.permutation(25)
        _, (_, result) = _play_to_end(game, actions)
        _, (_, flipped) = _play_to_end(game, transpose[actions])
        differs += result != flipped
    assert differs > 0


def _play_to_end(game, actions):
    state = game.new_states(1)[0]
    for action in actions:
        done, result = game.play(state, int(action))
        if done:
            return state, (done, result)
    raise AssertionError("hex ended without a winner")


def test_render_draws_the_rhombus_with_coordinates():
    game = get_game("hex_3")
    state, _ = _play(game, [4, 2])
    expected = "\n".join(
        [
            "    a b c",
            " 1  . . o 1",
            " 2   . x . 2",
            " 3    . . . 3",
            "       a b c",
        ]
    )
    assert game.render(state) == expected
