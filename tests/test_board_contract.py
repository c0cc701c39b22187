"""The BoardGame contract, checked on every native game the registry knows (new games are
covered as soon as they are registered).

Stone-ownership checks assume stones never leave the board, which holds for every native game
so far (othello flips stones but never removes them).
"""

from __future__ import annotations

import numpy as np
import pytest

from ponder.envs.board.base import BoardGame
from ponder.envs.registry import get_game, native_game_names

GAMES = native_game_names()
NUM_GAMES = 6


def _planes(game: BoardGame, state: np.ndarray) -> np.ndarray:
    planes = np.full(game.obs_shape, np.nan, dtype=np.float32)
    game.encode(state, planes)
    return planes


def _legal(game: BoardGame, state: np.ndarray) -> np.ndarray:
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    game.legal_mask(state, mask)
    return mask


def _random_games(game: BoardGame, seed: int):
    """Yield (ply, state before, action, state after) along NUM_GAMES random games."""
    rng = np.random.default_rng(seed)
    for _ in range(NUM_GAMES):
        state = game.new_states(1)[0]
        ply = 0
        while not game.is_terminal(state):
            action = int(rng.choice(game.legal_actions(state)))
            before = state.copy()
            game.play(state, action)
            yield ply, before, action, state.copy()
            ply += 1


@pytest.fixture(params=GAMES)
def game(request) -> BoardGame:
    return get_game(request.param)


def test_constants(game):
    assert game.obs_shape[1:] == game.board_shape
    height, width = game.board_shape
    assert game.cell_perms.shape == (game.num_symmetries, height * width)
    assert game.action_perms.shape == (game.num_symmetries, game.num_actions)
    states = game.new_states(3)
    assert states.shape == (3, game.state_len) and states.dtype == game.state_dtype
    assert (states == states[0]).all()


def test_init_play_and_terminal_agree(game):
    rng = np.random.default_rng(0)
    for _ in range(NUM_GAMES):
        state = game.new_states(1)[0]
        assert not game.is_terminal(state) and game.to_play(state) == 0
        plies = 0
        done = False
        while not done:
            mask = _legal(game, state)
            assert mask.any(), "a running game needs a legal action"
            assert game.to_play(state) in (0, 1)
            action = int(rng.choice(np.flatnonzero(mask)))
            done, result = game.play(state, action)
            plies += 1
            assert bool(done) == bool(game.is_terminal(state))
            # The contract defines outcome() for finished games only.
            assert result == (game.outcome(state) if done else 0.0)
        assert result in (-1.0, 0.0, 1.0)
        assert plies <= game.max_moves
        assert not _legal(game, state).any(), "a finished game has no legal action"


def test_planes_are_from_the_movers_view(game):
    """Planes 0 and 1 hold the mover's and the opponent's stones: after a move, the stones
    that were 'mine' belong to the opponent of the new mover, and vice versa."""
    for _, before, _, after in _random_games(game, seed=1):
        planes_before, planes_after = _planes(game, before), _planes(game, after)
        for planes in (planes_before, planes_after):
            assert np.isfinite(planes).all(), "encode must write every plane"
            assert set(np.unique(planes[:2])) <= {0.0, 1.0}
            assert (planes[0] + planes[1] <= 1.0).all(), "a cell has one owner"
        if game.to_play(after) != game.to_play(before):
            mover_stones, opponent_stones = planes_before[0] > 0, planes_before[1] > 0
            assert (planes_after[1][mover_stones] == 1.0).all()
            assert (planes_after[0][~opponent_stones] == 0.0).all()


def test_symmetries_form_a_group(game):
    cells, actions = game.cell_perms, game.action_perms
    n_cells, n_actions = cells.shape[1], actions.shape[1]
    assert np.array_equal(cells[0], np.arange(n_cells))
    assert np.array_equal(actions[0], np.arange(n_actions))
    for table, n in ((cells, n_cells), (actions, n_actions)):
        for row in table:
            assert np.array_equal(np.sort(row), np.arange(n))
    cell_rows = {row.tobytes(): s for s, row in enumerate(cells)}
    action_rows = {row.tobytes(): s for s, row in enumerate(actions)}
    assert len(cell_rows) == len(cells), "symmetries must be distinct"
    for s1 in range(len(cells)):
        for s2 in range(len(cells)):
            # Gathering with s1 then s2 gathers with s1[s2]; both tables must agree on which.
            composed = cell_rows.get(cells[s1][cells[s2]].tobytes())
            assert composed is not None, f"symmetries {s1} and {s2} compose outside the table"
            assert action_rows.get(actions[s1][actions[s2]].tobytes()) == composed


def test_symmetric_games_stay_symmetric(game):
    """Play a random game and, beside it, its image under each symmetry: at every step the
    image's planes, legal moves and result are the transformed ones of the original."""
    channels = game.obs_shape[0]
    for s in range(1, game.num_symmetries):
        image_of = np.argsort(game.action_perms[s])  # original action -> action in the image
        image = game.new_states(1)[0]
        for ply, before, action, after in _random_games(game, seed=2 + s):
            if ply == 0:
                game.init(image)
            planes = _planes(game, before).reshape(channels, -1)
            expected = planes[:, game.cell_perms[s]].reshape(game.obs_shape)
            np.testing.assert_array_equal(_planes(game, image), expected)
            legal = _legal(game, before)
            np.testing.assert_array_equal(_legal(game, image), legal[game.action_perms[s]])
            done, result = game.play(image, int(image_of[action]))
            assert done == game.is_terminal(after)
            assert result == (game.outcome(after) if done else 0.0)
            assert game.to_play(image) == game.to_play(after)


def test_move_names_round_trip(game):
    for action in range(game.num_actions):
        text = game.action_to_string(action)
        assert isinstance(text, str) and text
        assert game.string_to_action(text) == action
    with pytest.raises(ValueError):
        game.string_to_action("not a move")
    for _, _, _, after in _random_games(game, seed=3):
        picture = game.render(after)
        assert isinstance(picture, str) and picture.strip()


def test_placement_flag_holds(game):
    """A game flagged `placement` must take exactly the played action out of the legal set
    (random playouts rely on it); the others must show a move that breaks that rule."""
    broken = False
    for _, before, action, after in _random_games(game, seed=3):
        if game.is_terminal(after):
            continue
        expected = _legal(game, before)
        expected[action] = False
        same = np.array_equal(_legal(game, after), expected)
        if game.placement:
            assert same, action
        broken |= not same
    assert game.placement or broken
