"""`cells(state)`, the board as viewers draw it, agrees with the game's own encoding."""

import numpy as np
import pytest

from ponder.envs.registry import get_game

GAMES = ["tic_tac_toe", "connect_four", "hex_5", "othello_6x6", "gomoku"]


@pytest.mark.parametrize("name", GAMES)
def test_cells_match_the_mover_view_planes(name):
    game = get_game(name)
    rng = np.random.default_rng(0)
    h, w = game.board_shape
    for _ in range(3):
        state = game.new_states(1)[0]
        for _ply in range(40):
            cells = game.cells(state)
            assert cells.shape == (h, w) and cells.dtype == np.int8
            planes = np.zeros(game.obs_shape, dtype=np.float32)
            game.encode(state, planes)
            mover = game.to_play(state)
            assert np.array_equal(cells == mover + 1, planes[0] == 1)
            assert np.array_equal(cells == 2 - mover, planes[1] == 1)
            if game.is_terminal(state):
                break
            game.play(state, int(rng.choice(game.legal_actions(state))))


def test_layouts_say_how_actions_name_cells():
    assert get_game("connect_four").layout == "columns"
    assert get_game("hex_7").layout == "hex"
    assert {get_game(n).layout for n in ("tic_tac_toe", "othello", "gomoku")} == {"grid"}
