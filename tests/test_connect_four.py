"""Connect four specifics: the picture and planes agree with OpenSpiel's, the bitboard helpers
agree with playing the move, and the move notation."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest

from ponder.envs.board import connect_four as c4
from ponder.envs.registry import get_game

# A full board without four in a row, found by random play (columns 0-6, one digit per move).
DRAWN_GAME = "555054466351352123041430222100021613443666"


def _random_positions(count: int, seed: int = 0):
    """(history, state) pairs of random unfinished positions of every length."""
    rng = np.random.default_rng(seed)
    positions = []
    while len(positions) < count:
        state = c4.GAME.new_states(1)[0]
        history: list[int] = []
        target = int(rng.integers(0, 40))
        while len(history) < target:
            action = int(rng.choice(c4.GAME.legal_actions(state)))
            done, _ = c4.play(state, action)
            history.append(action)
            if done:
                break
        if not c4.is_terminal(state):
            positions.append((history, state))
    return positions


def _play(history) -> np.ndarray:
    state = c4.GAME.new_states(1)[0]
    for action in history:
        c4.play(state, int(action))
    return state


def test_registry_returns_the_module_game():
    assert get_game("connect_four") is c4.GAME
    assert c4.GAME.num_actions == 7 and c4.GAME.obs_shape == (3, 6, 7)


def test_render_and_planes_match_openspiel_picture():
    spiel_game = pyspiel.load_game("connect_four")
    planes = np.zeros(c4.OBS_SHAPE, dtype=np.float32)
    for history, state in _random_positions(200):
        spiel_state = spiel_game.new_initial_state()
        for action in history:
            spiel_state.apply_action(action)
        picture = spiel_state.observation_string(0).strip().split("\n")
        rendered = c4.render(state).split("\n")
        assert rendered[:6] == picture and rendered[6] == "abcdefg"
        c4.encode(state, planes)
        mine, theirs = ("x", "o") if len(history) % 2 == 0 else ("o", "x")
        for r, line in enumerate(picture):
            assert [bool(v) for v in planes[0, r]] == [ch == mine for ch in line]
            assert [bool(v) for v in planes[1, r]] == [ch == theirs for ch in line]
        assert np.all(planes[2] == (1.0 if len(history) % 2 == 0 else 0.0))


def test_full_board_is_a_draw_in_both_engines():
    history = [int(ch) for ch in DRAWN_GAME]
    state = _play(history)
    assert c4.is_terminal(state) and c4.outcome(state) == 0.0 and state[c4.MOVES] == 42
    spiel_state = pyspiel.load_game("connect_four").new_initial_state()
    for action in history:
        spiel_state.apply_action(action)
    assert spiel_state.is_terminal() and spiel_state.returns() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("history", "winner"),
    [
        ([0, 1, 0, 1, 0, 1, 0], 0),  # vertical
        ([6, 0, 5, 0, 4, 0, 2, 1, 3], 0),  # horizontal, completed in the middle
        ([0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3], 0),  # diagonal /
        ([6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3], 0),  # diagonal \
        ([6, 0, 6, 1, 5, 2, 5, 3], 1),  # horizontal for the second player
    ],
)
def test_lines_end_the_game(history, winner):
    state = _play(history[:-1])
    assert not c4.is_terminal(state) and c4.can_win_next(state)
    assert c4.is_winning_column(state, history[-1])
    done, result = c4.play(state, history[-1])
    assert done and result == (1.0 if winner == 0 else -1.0)
    mask = np.zeros(7, dtype=np.bool_)
    c4.legal_mask(state, mask)
    assert not mask.any()


def test_bitboard_helpers_agree_with_playing_the_move():
    mask = np.zeros(7, dtype=np.bool_)
    keys: dict[int, bytes] = {}
    for _, state in _random_positions(400, seed=1):
        c4.legal_mask(state, mask)
        winning = []
        for col in np.flatnonzero(mask):
            child = state.copy()
            done, result = c4.play(child, int(col))
            wins = done and result != 0.0
            assert bool(c4.is_winning_column(state, int(col))) == wins
            winning.append(wins)
        assert bool(c4.can_win_next(state)) == any(winning)
        # The key identifies the position: equal keys only for equal boards and movers.
        board = c4.GAME.encode_batch(state[None]).tobytes()
        assert keys.setdefault(int(c4.position_key(state)), board) == board


def test_transpositions_share_a_key():
    assert c4.position_key(_play([3, 2, 4])) == c4.position_key(_play([4, 2, 3]))
    assert c4.position_key(_play([3, 2, 4])) != c4.position_key(_play([3, 4, 2]))


def test_move_notation():
    for col in range(7):
        assert c4.string_to_action(c4.action_to_string(col)) == col
        assert c4.string_to_action(str(col + 1)) == col
    assert c4.string_to_action(" D ") == 3
    for bad in ["0", "8", "h", "", "d4", "-1"]:
        with pytest.raises(ValueError, match="connect-four"):
            c4.string_to_action(bad)
