"""Othello: the start, passes, the end, move names, encoding; 6x6 against a plain reference.

OpenSpiel has no 6x6 othello, so 6x6 is checked move for move against a deliberately simple
array implementation of the same rules written here; that reference is itself first checked
against OpenSpiel on 8x8, so both sizes trace back to OpenSpiel.
"""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest

from ponder.envs.board import othello
from ponder.envs.registry import get_game
from ponder.errors import PonderError

DIRECTIONS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


class ReferenceOthello:
    """Othello on a size x size list board, walking each direction cell by cell."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.board = [[0] * size for _ in range(size)]  # 0 empty, 1 black, 2 white
        a, b = size // 2 - 1, size // 2
        self.board[a][a] = self.board[b][b] = 2
        self.board[a][b] = self.board[b][a] = 1
        self.player = 0
        self.done = False
        self.result = 0

    def _captures(self, player: int, r: int, c: int) -> list[tuple[int, int]]:
        if self.board[r][c] != 0:
            return []
        me, flips = player + 1, []
        for dr, dc in DIRECTIONS:
            line, rr, cc = [], r + dr, c + dc
            while 0 <= rr < self.size and 0 <= cc < self.size and self.board[rr][cc] == 3 - me:
                line.append((rr, cc))
                rr, cc = rr + dr, cc + dc
            inside = 0 <= rr < self.size and 0 <= cc < self.size
            if line and inside and self.board[rr][cc] == me:
                flips += line
        return flips

    def moves(self, player: int) -> list[int]:
        n = self.size
        return [r * n + c for r in range(n) for c in range(n) if self._captures(player, r, c)]

    def legal(self) -> list[int]:
        if self.done:
            return []
        return self.moves(self.player) or [self.size * self.size]

    def play(self, action: int) -> None:
        n = self.size
        if action != n * n:
            r, c = divmod(action, n)
            for rr, cc in self._captures(self.player, r, c):
                self.board[rr][cc] = self.player + 1
            self.board[r][c] = self.player + 1
            if not self.moves(0) and not self.moves(1):
                cells = [v for row in self.board for v in row]
                black, white = cells.count(1), cells.count(2)
                self.done = True
                self.result = (black > white) - (black < white)
        self.player = 1 - self.player


def _compare(game, make_other, num_games: int, seed: int) -> tuple[int, int, set[float]]:
    """Random games in `game` and in the other engine: (plies, passes, final results seen)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    plies, passes, results = 0, 0, set()
    for _ in range(num_games):
        state = game.new_states(1)[0]
        other = make_other()
        while True:
            legal, done, result, player = other()
            assert game.is_terminal(state) == done
            if done:
                assert game.outcome(state) == result
                results.add(result)
                break
            assert game.to_play(state) == player
            game.legal_mask(state, mask)
            assert np.flatnonzero(mask).tolist() == legal
            action = legal[int(rng.integers(len(legal)))]
            game.play(state, action)
            other.apply(action)
            plies += 1
            passes += action == game.num_actions - 1
    return plies, passes, results


class _ReferenceEngine:
    def __init__(self, size: int) -> None:
        self.ref = ReferenceOthello(size)

    def __call__(self):
        return self.ref.legal(), self.ref.done, float(self.ref.result), self.ref.player

    def apply(self, action: int) -> None:
        self.ref.play(action)


class _SpielEngine:
    def __init__(self) -> None:
        self.state = pyspiel.load_game("othello").new_initial_state()

    def __call__(self):
        s = self.state
        done = s.is_terminal()
        return s.legal_actions(), done, s.returns()[0] if done else 0.0, s.current_player()

    def apply(self, action: int) -> None:
        self.state.apply_action(action)


def test_reference_agrees_with_openspiel_then_6x6_agrees_with_reference():
    rng = np.random.default_rng(3)
    for _ in range(20):  # the reference follows OpenSpiel on 8x8 ...
        ref_8, spiel = ReferenceOthello(8), pyspiel.load_game("othello").new_initial_state()
        while not spiel.is_terminal():
            assert ref_8.legal() == spiel.legal_actions() and not ref_8.done
            action = int(rng.choice(spiel.legal_actions()))
            ref_8.play(action)
            spiel.apply_action(action)
        assert ref_8.done and float(ref_8.result) == spiel.returns()[0]
    # ... and our 6x6 follows the reference, passes and draws included.
    game = get_game("othello_6x6")
    plies, passes, results = _compare(game, lambda: _ReferenceEngine(6), num_games=300, seed=4)
    assert plies > 300 * 20 and passes > 0 and results == {-1.0, 0.0, 1.0}


def test_8x8_against_openspiel_through_the_same_driver():
    game = get_game("othello")
    plies, _, _ = _compare(game, _SpielEngine, num_games=20, seed=5)
    assert plies > 20 * 40


def test_start_position_and_first_moves():
    game = get_game("othello")
    assert game is othello.make_game(8) and game.num_actions == 65
    state = game.new_states(1)[0]
    assert game.to_play(state) == 0
    assert [game.action_to_string(a) for a in game.legal_actions(state)] == [
        "d3",
        "c4",
        "f5",
        "e6",
    ]
    spiel_state = pyspiel.load_game("othello").new_initial_state()
    for action in range(65):
        assert game.action_to_string(action) == spiel_state.action_to_string(action)
        assert game.string_to_action(game.action_to_string(action)) == action
    assert "o x" in game.render(state).splitlines()[4]  # row 4: d4 white, e4 black
    small = get_game("othello_6x6")
    assert small.num_actions == 37 and small.openspiel_name is None
    assert small.legal_actions(small.new_states(1)[0]).tolist() == [8, 13, 22, 27]
    assert small.string_to_action("pass") == 36 and small.action_to_string(36) == "pass"
    for bad in ("g1", "a7", "37", "pas"):
        with pytest.raises(ValueError, match="not an othello move"):
            small.string_to_action(bad)
    with pytest.raises(PonderError, match="othello board size"):
        othello.make_game(10)


def _find_pass(game, seed: int):
    """A position from random play where the mover has no capture (and the game goes on)."""
    rng = np.random.default_rng(seed)
    cells = game.num_actions - 1
    for _ in range(2000):
        state = game.new_states(1)[0]
        while not game.is_terminal(state):
            legal = game.legal_actions(state)
            if legal.tolist() == [cells]:
                return state
            game.play(state, int(rng.choice(legal)))
    raise AssertionError("no pass found")


def test_pass_is_forced_and_hands_the_move_over():
    game = get_game("othello")
    state = _find_pass(game, seed=6)
    player = game.to_play(state)
    before = state.copy()
    done, result = game.play(state, 64)
    assert not done and result == 0.0
    assert game.to_play(state) == 1 - player
    assert state[othello.BLACK] == before[othello.BLACK]
    assert state[othello.WHITE] == before[othello.WHITE]
    legal = game.legal_actions(state)
    assert len(legal) > 0 and 64 not in legal  # the game never asks for two passes in a row


def test_wipe_out_ends_the_game_early():
    """The shortest othello game: nine plies, no white disc left, 51 cells still empty."""
    game = get_game("othello")
    state = game.new_states(1)[0]
    moves = ["e6", "f4", "e3", "f6", "g5", "d6", "e7", "f5", "c5"]
    for i, move in enumerate(moves):
        done, result = game.play(state, game.string_to_action(move))
        assert done == (i == len(moves) - 1)
    assert result == 1.0 and game.outcome(state) == 1.0
    assert state[othello.WHITE] == 0 and othello.popcount(state[othello.BLACK]) == 13


def test_game_ends_when_nobody_can_move_and_counts_discs():
    game = get_game("othello")
    rng = np.random.default_rng(7)
    for _ in range(30):
        state = game.new_states(1)[0]
        done = False
        while not done:
            done, result = game.play(state, int(rng.choice(game.legal_actions(state))))
        black, white = state[othello.BLACK], state[othello.WHITE]
        assert othello.capturing_moves(black, white, 8) == 0
        assert othello.capturing_moves(white, black, 8) == 0
        count = othello.popcount(black) - othello.popcount(white)
        assert result == float(np.sign(count)) == game.outcome(state)
        assert not game.legal_actions(state).size


def test_encode_shows_movers_discs_and_moves():
    game = get_game("othello")
    state = game.new_states(1)[0]
    planes = np.zeros(game.obs_shape, dtype=np.float32)
    game.encode(state, planes)
    mine, theirs, moves, ones = planes
    assert mine[3, 4] == mine[4, 3] == 1 and mine.sum() == 2  # black's e4, d5
    assert theirs[3, 3] == theirs[4, 4] == 1 and theirs.sum() == 2
    assert np.flatnonzero(moves).tolist() == [19, 26, 37, 44]
    assert np.all(ones == 1)
    game.play(state, 19)  # d3 flips d4; white to move
    game.encode(state, planes)
    assert planes[0].sum() == 1 and planes[1].sum() == 4
    assert np.flatnonzero(planes[2]).tolist() == game.legal_actions(state).tolist()


def test_symmetries_keep_the_start_and_fix_the_pass():
    for name in ("othello", "othello_6x6"):
        game = get_game(name)
        assert game.num_symmetries == 4
        state = game.new_states(1)[0]
        planes = np.zeros(game.obs_shape, dtype=np.float32)
        game.encode(state, planes)
        flat = planes.reshape(planes.shape[0], -1)
        for s in range(4):
            assert np.array_equal(flat[:, game.cell_perms[s]], flat)
            assert game.action_perms[s, -1] == game.num_actions - 1
