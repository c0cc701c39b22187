"""The non-network players on real games: legal moves, seeded randomness, exact play, OpenSpiel's
MCTS bot fed by action history, and the terminal human."""

import numpy as np
import pytest

from ponder.agents.player import Player
from ponder.agents.players import (
    HumanPlayer,
    HumanQuit,
    OpenSpielMCTSPlayer,
    RandomPlayer,
    SolverPlayer,
    UCTPlayer,
)
from ponder.arena.openings import replay
from ponder.envs.registry import get_game
from ponder.errors import PonderError

TTT = get_game("tic_tac_toe")
# x: a1 b1, o: a2 b2 -> x to move; c1 (action 2) wins at once, c2 (5) is o's threat.
X_WINS_NOW = [0, 3, 1, 4]


def _batch(game, histories):
    states = np.stack([replay(game, h) for h in histories])
    return states, histories, np.arange(len(histories))


def test_players_follow_the_protocol():
    players = (
        RandomPlayer(),
        UCTPlayer(10),
        SolverPlayer(),
        OpenSpielMCTSPlayer(10),
        HumanPlayer(),
    )
    for player in players:
        assert isinstance(player, Player)


def test_random_player_is_legal_and_seeded():
    histories = [[], [4], [0, 4, 8]]
    states, hist, idx = _batch(TTT, histories)
    picks = []
    for _ in range(2):
        player = RandomPlayer()
        player.start(TTT, 3, seed=11)
        picks.append([player.act(states, hist, idx)[0].tolist() for _ in range(20)])
    assert picks[0] == picks[1]
    for row in picks[0]:
        for k, action in enumerate(row):
            assert action not in histories[k]
    other = RandomPlayer()
    other.start(TTT, 3, seed=12)
    assert [other.act(states, hist, idx)[0].tolist() for _ in range(20)] != picks[0]


def test_solver_player_plays_only_optimal_moves():
    from ponder.envs.solvers import get_solver

    solve = get_solver("tic_tac_toe")
    histories = [X_WINS_NOW, [4], [0], [0, 4, 8]]
    states, hist, idx = _batch(TTT, histories)
    player = SolverPlayer()
    player.start(TTT, len(histories), seed=0)
    seen = [set() for _ in histories]
    for _ in range(30):
        actions, info = player.act(states, hist, idx)
        for k, action in enumerate(actions):
            assert action in solve(states[k]).best_actions
            seen[k].add(int(action))
    assert seen[0] == {2}
    assert len(seen[1]) > 1  # random among the optimal replies to a centre opening
    first = SolverPlayer("first", spec="solver:first")
    first.start(TTT, len(histories), seed=0)
    actions, info = first.act(states, hist, idx)
    assert actions.tolist() == [int(solve(s).best_actions[0]) for s in states]
    assert info.root_value.tolist() == [solve(s).value for s in states]


def test_solver_player_refuses_a_game_without_solver():
    with pytest.raises(PonderError, match="no exact solver for othello"):
        SolverPlayer().start(get_game("othello"), 1, 0)


def test_uct_player_searches_only_its_own_games():
    histories = [X_WINS_NOW, [0, 4], [4], [0, 4, 8]]
    states, hist, _ = _batch(TTT, histories)
    player = UCTPlayer(400)
    player.start(TTT, 4, seed=1)
    rows = np.array([0, 3])  # the other two games are the opponent's to move
    actions, info = player.act(states[rows], [hist[0], hist[3]], rows)
    assert actions.shape == (2,) and actions[0] == 2  # takes the immediate win
    assert actions[1] not in (0, 4, 8)
    assert info.visits.shape == (2, 9) and info.visits[0].sum() >= 399
    assert int(np.argmax(info.visits[0])) == 2 and info.q[0, 2] == pytest.approx(1.0)
    again = UCTPlayer(400)
    again.start(TTT, 4, seed=1)
    assert again.act(states[rows], [hist[0], hist[3]], rows)[1].visits.tolist() == (
        info.visits.tolist()
    )


def test_openspiel_mcts_uses_the_history_and_reports_statistics():
    states, hist, idx = _batch(TTT, [X_WINS_NOW, [0, 4]])
    player = OpenSpielMCTSPlayer(300)
    player.start(TTT, 2, seed=3)
    actions, info = player.act(states, hist, idx)
    assert actions[0] == 2
    assert info.visits.shape == (2, 9) and info.visits[0].sum() >= 299
    assert int(np.argmax(info.visits[0])) == 2 and info.q[0, 2] == pytest.approx(1.0)
    assert info.visits[1, [0, 4]].sum() == 0  # occupied cells are never searched
    assert actions[1] not in (0, 4)


def test_openspiel_mcts_plays_an_openspiel_game():
    game = get_game("openspiel:tic_tac_toe")
    states = game.new_states(1)
    for a in X_WINS_NOW:
        game.play(states[0], a)
    player = OpenSpielMCTSPlayer(200)
    player.start(game, 1, seed=0)
    actions, _ = player.act(states, [X_WINS_NOW], np.arange(1))
    assert actions.tolist() == [2]


def _scripted(lines):
    feed = iter(lines)
    said = []

    def read(prompt):
        said.append(prompt)
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return read, said


def test_human_reasks_until_a_legal_move():
    read, said = _scripted(["", "zz", "a1", "c1"])
    shown = []
    human = HumanPlayer(read=read, write=shown.append)
    human.start(TTT, 1, 0)
    states, hist, idx = _batch(TTT, [X_WINS_NOW])
    actions, info = human.act(states, hist, idx)
    assert actions.tolist() == [2] and info is None
    assert any("not a tic-tac-toe move" in s for s in shown)
    assert any("not legal here" in s for s in shown)
    assert shown[0] == TTT.render(states[0])
    assert len(said) == 4 and "quit" in said[0] and "c1" in said[0]


@pytest.mark.parametrize("lines", [["quit"], []])
def test_human_quit_and_closed_input_stop_the_game(lines):
    read, _ = _scripted(lines)
    human = HumanPlayer(read=read, write=lambda s: None)
    human.start(TTT, 1, 0)
    with pytest.raises(HumanQuit):
        human.act(*_batch(TTT, [[]]))
