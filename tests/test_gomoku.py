"""Gomoku: OpenSpiel's rules at the edges (overlines, exactly four, the full-board draw)."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest

from ponder.envs.board import gomoku
from ponder.envs.registry import get_game


def _both(actions):
    """Play `actions` in ours and in OpenSpiel; return our state, our last result and theirs."""
    game = get_game("gomoku")
    state = game.new_states(1)[0]
    spiel = pyspiel.load_game("gomoku").new_initial_state()
    result = (False, 0.0)
    for action in actions:
        assert not spiel.is_terminal()
        result = game.play(state, action)
        spiel.apply_action(action)
    return state, result, spiel


def _interleave(black, white):
    out = []
    for i, b in enumerate(black):
        out.append(b)
        if i < len(white):
            out.append(white[i])
    return out


def test_five_wins_and_overline_wins():
    white = [30, 32, 60, 62, 90]
    # Black: 0,1,2,4,5 then 3 makes six in a row; OpenSpiel counts it as a win.
    _, (done, result), spiel = _both(_interleave([0, 1, 2, 4, 5, 3], white))
    assert done and result == 1.0 and spiel.is_terminal() and spiel.returns() == [1.0, -1.0]
    # Exactly five on a diagonal for white.
    black = [0, 2, 4, 6, 8]
    diagonal = [16 * k + 20 for k in range(5)]  # (1,5), (2,6), ... (5,9)
    _, (done, result), spiel = _both(_interleave(black, diagonal))
    assert done and result == -1.0 and spiel.returns() == [-1.0, 1.0]


def test_four_is_not_enough():
    state, (done, _), spiel = _both(_interleave([0, 1, 2, 3], [30, 31, 32]))
    assert not done and not spiel.is_terminal() and gomoku.to_play(state) == 1


def test_full_board_without_five_is_a_draw():
    rows, cols = np.divmod(np.arange(225), 15)
    black_cells = ((cols + 2 * rows) % 4) < 2  # runs of at most two in every direction
    black = np.flatnonzero(black_cells).tolist()
    white = np.flatnonzero(~black_cells).tolist()
    assert len(black) == 113 and len(white) == 112
    state, (done, result), spiel = _both(_interleave(black, white))
    assert done and result == 0.0 and gomoku.outcome(state) == 0.0
    assert spiel.is_terminal() and spiel.returns() == [0.0, 0.0]


def test_move_names_and_encoding():
    game = get_game("gomoku")
    spiel = pyspiel.load_game("gomoku").new_initial_state()
    for action in range(225):
        assert game.action_to_string(action) == spiel.action_to_string(action)
        assert game.string_to_action(game.action_to_string(action)) == action
    assert game.string_to_action(" 7, 7 ") == 112
    for bad in ("15,0", "0,15", "225", "a", "1,2,3"):
        with pytest.raises(ValueError, match="not a gomoku move"):
            game.string_to_action(bad)
    state = game.new_states(1)[0]
    game.play(state, 112)
    planes = np.zeros(game.obs_shape, dtype=np.float32)
    game.encode(state, planes)  # white to move: black's centre stone is theirs
    assert planes[0].sum() == 0 and planes[1, 7, 7] == 1 and planes[1].sum() == 1
    assert np.all(planes[2] == 1)
    assert game.num_symmetries == 8
    assert game.render(state).splitlines()[8].split()[8] == "x"
