"""BatchedMCTS with PUCT on native games: agreement with exact solvers, batch independence,
virtual-loss bookkeeping, capacity, tree reuse and root noise."""

from __future__ import annotations

import numpy as np
import pytest

from ponder.envs.board import tic_tac_toe as ttt
from ponder.envs.solvers.tic_tac_toe import solve as solve_ttt
from ponder.errors import PonderError
from ponder.search import (
    BatchedMCTS,
    RolloutEvaluator,
    SearchCapacityError,
    SearchConfig,
    UniformEvaluator,
)
from ponder.search.layout import EXPANDED, ILLEGAL, TERMINAL

GAME = ttt.GAME


def play_moves(game, moves) -> np.ndarray:
    state = game.new_states(1)[0]
    for move in moves:
        done, _ = game.play(state, move)
        assert not done
    return state


def random_positions(game, count: int, max_plies: int, seed: int) -> np.ndarray:
    """Distinct non-terminal positions reached by random play."""
    rng = np.random.default_rng(seed)
    found: dict[bytes, np.ndarray] = {}
    while len(found) < count:
        state = game.new_states(1)[0]
        for _ in range(int(rng.integers(0, max_plies + 1))):
            if game.play(state, int(rng.choice(game.legal_actions(state))))[0]:
                break
        if not game.is_terminal(state):
            found.setdefault(state.tobytes(), state.copy())
    return np.stack(list(found.values()))


def check_tree_invariants(mcts: BatchedMCTS, rows) -> None:
    """Every visit accounted for exactly once: no in-flight descents left, each edge's visits
    equal its child's, and an expanded node's visits are its own evaluation plus its edges'."""
    t = mcts.tree
    for b in rows:
        count = t.node_count[b]
        assert (t.inflight[b, :count] == 0).all()
        for node in range(count):
            assert t.status[b, node] in (EXPANDED, TERMINAL)
            if t.status[b, node] == EXPANDED:
                children = t.child[b, node]
                assert t.visits[b, node] == 1 + t.edge_visits[b, node][children != ILLEGAL].sum()
                for a in np.flatnonzero(children >= 0):
                    assert t.edge_visits[b, node, a] == t.visits[b, children[a]]
                    assert t.parent[b, children[a]] == node
                assert (t.edge_visits[b, node][children == -1] == 0).all()


def test_tic_tac_toe_agrees_with_minimax():
    states = random_positions(GAME, 40, max_plies=6, seed=1)
    mcts = BatchedMCTS(GAME, len(states), SearchConfig(num_simulations=3000), UniformEvaluator())
    result = mcts.search(states)
    for i, state in enumerate(states):
        exact = solve_ttt(state)
        assert result.action[i] in exact.best_actions, GAME.render(state)
        if exact.value == 0:
            assert abs(result.root_value[i]) < 0.3
        else:
            assert result.root_value[i] * exact.value > 0.3
        assert result.visits[i].sum() == 3000


@pytest.mark.parametrize(
    ("moves", "wins"),
    [
        ([0, 3, 1, 4], {2}),  # x x . / o o . : x completes the top row
        ([4, 0, 8, 2], {1}),  # o has a1 and c1: x must block at b1
    ],
)
def test_finds_immediate_win_or_block_with_few_simulations(moves, wins):
    state = play_moves(GAME, moves)
    exact = solve_ttt(state)
    assert set(exact.best_actions.tolist()) == wins
    mcts = BatchedMCTS(GAME, 1, SearchConfig(num_simulations=32), UniformEvaluator())
    assert mcts.search(state[None]).action[0] in wins


def win_in_two_positions(game, solve, count: int, seed: int):
    """Positions where the mover cannot win at once but has a move after which every reply
    allows a win: (state, set of such moves)."""
    out = []
    for state in random_positions(game, 400, max_plies=5, seed=seed):
        legal = game.legal_actions(state)
        if any(game.play(state.copy(), a)[0] for a in legal):
            continue
        forks = set()
        for a in legal:
            after = state.copy()
            if game.play(after, a)[0]:
                continue
            replies_all_lose = True
            for r in game.legal_actions(after):
                nxt = after.copy()
                if game.play(nxt, r)[0] or not any(
                    game.play(nxt.copy(), w)[0] for w in game.legal_actions(nxt)
                ):
                    replies_all_lose = False
                    break
            if replies_all_lose:
                forks.add(int(a))
        if forks and solve(state).value == 1:
            out.append((state, forks))
        if len(out) == count:
            break
    return out


def test_finds_forced_win_in_two_moves():
    cases = win_in_two_positions(GAME, solve_ttt, 8, seed=3)
    assert len(cases) >= 4
    states = np.stack([s for s, _ in cases])
    mcts = BatchedMCTS(GAME, len(states), SearchConfig(num_simulations=400), UniformEvaluator())
    result = mcts.search(states)
    for i, (_, forks) in enumerate(cases):
        assert result.action[i] in forks
        assert result.root_value[i] > 0.3


def test_batch_of_64_matches_64_single_searches():
    states = random_positions(GAME, 64, max_plies=4, seed=5)
    cfg = SearchConfig(num_simulations=60, leaves_per_step=4, root_noise=True, temperature=1.0)
    batched = BatchedMCTS(GAME, 64, cfg, UniformEvaluator(), seed=100).search(states)
    for i in range(64):
        single = BatchedMCTS(GAME, 1, cfg, UniformEvaluator(), seed=100 + i).search(
            states[i : i + 1]
        )
        np.testing.assert_array_equal(single.visits[0], batched.visits[i])
        np.testing.assert_array_equal(single.prior[0], batched.prior[i])
        np.testing.assert_allclose(single.q[0], batched.q[i], atol=1e-6)
        assert single.action[0] == batched.action[i]


@pytest.mark.parametrize("per_step", [1, 3, 16])
def test_virtual_loss_counts_every_visit_once(per_step):
    states = random_positions(GAME, 6, max_plies=3, seed=7)
    cfg = SearchConfig(num_simulations=250, leaves_per_step=per_step)
    mcts = BatchedMCTS(GAME, len(states), cfg, RolloutEvaluator(GAME, seed=1))
    result = mcts.search(states)
    assert (result.visits.sum(axis=1) == 250).all()
    check_tree_invariants(mcts, range(len(states)))
    # The root's own evaluation plus one visit per simulation.
    assert (mcts.tree.visits[:, 0] == 251).all()


def test_inactive_rows_are_left_alone():
    states = random_positions(GAME, 3, max_plies=2, seed=9)
    mcts = BatchedMCTS(GAME, 3, SearchConfig(num_simulations=20), UniformEvaluator())
    result = mcts.search(states, active=np.array([True, False, True]))
    assert result.action[1] == -1 and result.visits[1].sum() == 0
    assert mcts.nodes_used[1] == 0
    assert (result.visits[[0, 2]].sum(axis=1) == 20).all()


def test_too_small_max_nodes_is_a_config_error():
    with pytest.raises(ValueError, match="max_nodes"):
        SearchConfig(num_simulations=100, max_nodes=50)
    mcts = BatchedMCTS(GAME, 1, SearchConfig(num_simulations=10, max_nodes=20), UniformEvaluator())
    with pytest.raises(PonderError, match="max_nodes"):
        mcts.search(GAME.new_states(1), num_simulations=50)


def test_running_out_of_nodes_raises_instead_of_corrupting():
    mcts = BatchedMCTS(GAME, 1, SearchConfig(num_simulations=10, max_nodes=20), UniformEvaluator())
    mcts.capacity = 10_000  # defeat the up-front check: the kernels must still refuse
    with pytest.raises(SearchCapacityError):
        mcts.search(GAME.new_states(1), num_simulations=500)


def test_default_capacity_grows_for_bigger_searches():
    mcts = BatchedMCTS(GAME, 2, SearchConfig(num_simulations=10), UniformEvaluator())
    result = mcts.search(GAME.new_states(2), num_simulations=300)
    assert (result.visits.sum(axis=1) == 300).all()
    check_tree_invariants(mcts, range(2))


def test_tree_reuse_keeps_the_subtree_statistics():
    states = GAME.new_states(2)
    cfg = SearchConfig(num_simulations=400)
    mcts = BatchedMCTS(GAME, 2, cfg, RolloutEvaluator(GAME, seed=2))
    mcts.search(states)
    t = mcts.tree
    move = 4
    child = t.child[0, 0, move]
    kept_edges = t.edge_visits[0, child].copy()
    kept_visits = t.visits[0, child]
    mcts.advance(np.array([move, -1]))
    assert t.visits[0, 0] == kept_visits
    np.testing.assert_array_equal(t.edge_visits[0, 0], kept_edges)
    check_tree_invariants(mcts, [0, 1])
    GAME.play(states[0], move)
    result = mcts.search(states)
    assert (result.visits[0] >= kept_edges).all()
    assert result.visits[0].sum() == kept_edges.sum() + 400
    # Row 1 was not advanced and its position did not change: its tree simply grew.
    assert result.visits[1].sum() == 800
    check_tree_invariants(mcts, [0, 1])


def test_search_without_advance_drops_a_stale_tree():
    states = GAME.new_states(1)
    mcts = BatchedMCTS(GAME, 1, SearchConfig(num_simulations=50), UniformEvaluator())
    mcts.search(states)
    GAME.play(states[0], 0)  # moved on without telling the search
    result = mcts.search(states)
    assert result.visits[0].sum() == 50 and result.visits[0, 0] == 0


def test_root_noise_is_fresh_each_search_and_keeps_a_distribution():
    states = GAME.new_states(1)
    cfg = SearchConfig(num_simulations=30, root_noise=True, dirichlet_fraction=0.5)
    mcts = BatchedMCTS(GAME, 1, cfg, UniformEvaluator(), seed=4)
    first = mcts.search(states).prior[0]
    second = mcts.search(states).prior[0]
    assert abs(first.sum() - 1) < 1e-5 and abs(second.sum() - 1) < 1e-5
    assert not np.allclose(first, 1 / 9) and not np.allclose(first, second)
    assert (first >= 0.5 / 9 - 1e-6).all()  # the raw prior keeps half its weight


def test_temperature_zero_plays_the_most_visited_move():
    states = random_positions(GAME, 10, max_plies=4, seed=11)
    mcts = BatchedMCTS(GAME, 10, SearchConfig(num_simulations=100), RolloutEvaluator(GAME))
    result = mcts.search(states)
    for i in range(10):
        assert result.visits[i, result.action[i]] == result.visits[i].max()
        np.testing.assert_allclose(result.policy[i], result.visits[i] / 100, atol=1e-6)


def test_temperature_samples_in_proportion_to_visits():
    state = GAME.new_states(1)
    mcts = BatchedMCTS(
        GAME, 1, SearchConfig(num_simulations=30, tree_reuse=False), UniformEvaluator(), seed=0
    )
    counts = np.zeros(9)
    visits = None
    for _ in range(400):
        result = mcts.search(state, temperature=1.0)
        visits = result.visits[0]
        counts[result.action[0]] += 1
    assert visits is not None
    np.testing.assert_allclose(counts / 400, visits / visits.sum(), atol=0.08)


def test_terminal_position_is_refused():
    state = play_moves(GAME, [0, 3, 1, 4])
    GAME.play(state, 2)
    mcts = BatchedMCTS(GAME, 1, SearchConfig(num_simulations=5), UniformEvaluator())
    with pytest.raises(ValueError, match="game is over"):
        mcts.search(state[None])


def test_bad_evaluator_output_is_reported():
    def broken(planes, legal):
        return np.ones((len(planes), 3), dtype=np.float32), np.zeros(len(planes))

    mcts = BatchedMCTS(GAME, 1, SearchConfig(num_simulations=5), broken)
    with pytest.raises(ValueError, match="evaluator returned"):
        mcts.search(GAME.new_states(1))


def test_evaluator_sees_encoded_planes_and_legal_masks():
    seen = []

    def spy(planes, legal):
        seen.append((planes.copy(), legal.copy()))
        return UniformEvaluator()(planes, legal)

    state = play_moves(GAME, [4])
    BatchedMCTS(GAME, 1, SearchConfig(num_simulations=1), spy).search(state[None])
    root_planes, root_legal = seen[0]
    expected = np.zeros((1, *GAME.obs_shape), dtype=np.float32)
    GAME.encode(state, expected[0])
    np.testing.assert_array_equal(root_planes, expected)
    np.testing.assert_array_equal(root_legal[0], np.arange(9) != 4)


def test_terminal_positions_never_reach_the_evaluator():
    seen = []

    class Spy(UniformEvaluator):
        def evaluate_states(self, states, legal):
            seen.extend(bool(GAME.is_terminal(s)) for s in states)
            return super().evaluate_states(states, legal)

    states = random_positions(GAME, 8, max_plies=6, seed=13)
    mcts = BatchedMCTS(GAME, 8, SearchConfig(num_simulations=300, leaves_per_step=4), Spy())
    result = mcts.search(states)
    assert len(seen) > 0 and not any(seen)
    # Terminal nodes exist in these trees, and each is backed up with its exact outcome.
    t = mcts.tree
    terminal = t.status[:, : t.node_count.max()] == TERMINAL
    assert terminal.any()
    assert (result.visits.sum(axis=1) == 300).all()
