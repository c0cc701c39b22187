"""The slow path: OpenSpiel games searched by the same tree code, with transitions in Python."""

from __future__ import annotations

import numpy as np

from ponder.envs.board import tic_tac_toe as ttt
from ponder.envs.openspiel import make_game
from ponder.envs.solvers.tic_tac_toe import solve as solve_ttt
from ponder.search import BatchedMCTS, SearchConfig, UCTRollout, UniformEvaluator

NATIVE = ttt.GAME
SPIEL = make_game("tic_tac_toe")


def paired_positions(histories):
    """The same positions as native rows and as pyspiel states (action ids agree)."""
    rows = NATIVE.new_states(len(histories))
    states = []
    for row, history in zip(rows, histories, strict=True):
        state = SPIEL.init()
        for action in history:
            NATIVE.play(row, action)
            SPIEL.play(state, action)
        states.append(state)
    return rows, states


HISTORIES = [[], [4], [0, 4], [4, 0, 8], [0, 3, 1, 4], [2, 4, 6, 0, 8]]


def test_both_backends_build_the_same_tree():
    rows, states = paired_positions(HISTORIES)
    cfg = SearchConfig(num_simulations=300, leaves_per_step=4, root_noise=True)
    native = BatchedMCTS(NATIVE, len(rows), cfg, UniformEvaluator(), seed=7).search(rows)
    spiel = BatchedMCTS(SPIEL, len(states), cfg, UniformEvaluator(), seed=7).search(states)
    np.testing.assert_array_equal(native.visits, spiel.visits)
    np.testing.assert_allclose(native.q, spiel.q, atol=1e-6)
    np.testing.assert_allclose(native.prior, spiel.prior, atol=1e-6)
    np.testing.assert_array_equal(native.action, spiel.action)


def test_gumbel_root_runs_on_the_python_backend():
    rows, states = paired_positions(HISTORIES)
    cfg = SearchConfig(num_simulations=16, gumbel=True, leaves_per_step=2)
    native = BatchedMCTS(NATIVE, len(rows), cfg, UniformEvaluator(), seed=1).search(rows)
    spiel = BatchedMCTS(SPIEL, len(states), cfg, UniformEvaluator(), seed=1).search(states)
    np.testing.assert_array_equal(native.visits, spiel.visits)
    np.testing.assert_allclose(native.policy, spiel.policy, atol=1e-5)


def test_terminal_leaves_are_scored_not_evaluated():
    seen_terminal = []

    class Spy(UniformEvaluator):
        def evaluate_states(self, states, legal):
            seen_terminal.extend(s.is_terminal() for s in states)
            return super().evaluate_states(states, legal)

    _, states = paired_positions([[0, 3, 1, 4]])  # x wins at c1 (action 2)
    result = BatchedMCTS(SPIEL, 1, SearchConfig(num_simulations=60), Spy()).search(states)
    assert seen_terminal and not any(seen_terminal)
    assert result.action[0] == 2 and result.q[0, 2] == 1.0


def test_tree_reuse_on_the_python_backend():
    _, states = paired_positions([[], [4]])
    mcts = BatchedMCTS(SPIEL, 2, SearchConfig(num_simulations=200), UniformEvaluator())
    mcts.search(states)
    kept = mcts.tree.edge_visits[0, mcts.tree.child[0, 0, 4]].copy()
    mcts.advance(np.array([4, -1]))
    SPIEL.play(states[0], 4)
    np.testing.assert_array_equal(mcts.tree.edge_visits[0, 0], kept)
    result = mcts.search(states)
    assert result.visits[0].sum() == kept.sum() + 200
    assert result.visits[1].sum() == 400  # same position searched twice: the tree grew


def test_uct_on_openspiel_agrees_with_the_solver():
    histories = [[0, 4], [4, 0, 8], [0, 3, 1], [1, 4, 0]]
    rows, states = paired_positions(histories)
    result = UCTRollout(SPIEL, len(states), num_simulations=3000, seed=2).search(states)
    for i, row in enumerate(rows):
        assert result.action[i] in solve_ttt(row).best_actions
        assert result.visits[i].sum() == 3000


def test_other_openspiel_games_search():
    game = make_game("breakthrough(rows=5,columns=5)")
    states = [game.init(), game.init()]
    game.play(states[1], int(game.legal_actions(states[1])[0]))
    result = BatchedMCTS(game, 2, SearchConfig(num_simulations=40), UniformEvaluator()).search(
        states
    )
    for i, state in enumerate(states):
        assert result.visits[i].sum() == 40
        assert result.action[i] in game.legal_actions(state)
