"""Random playouts: valid outcomes, the exact tic-tac-toe statistics, use from inside a kernel, and
an on-disk cache that hits in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from ponder.envs.jit_cache import njit_closure
from ponder.envs.playout import make_random_playout, random_playouts_batch
from ponder.envs.registry import get_game, native_game_names
from ponder.envs.rng import seed_rows

# Exact probabilities under uniformly random play (all 255168 games weighted by their chance).
TTT_FIRST, TTT_DRAW, TTT_SECOND = 0.5849, 0.1270, 0.2881


def test_tic_tac_toe_outcome_distribution_matches_exact_values():
    counts = random_playouts_batch(get_game("tic_tac_toe"), batch=1024, rounds=100, seed=7)
    n = counts.games
    assert counts.first_wins + counts.draws + counts.second_wins == n
    # 102400 games: one standard error is at most 0.0016, so 0.008 is five of them.
    assert abs(counts.first_wins / n - TTT_FIRST) < 0.008
    assert abs(counts.draws / n - TTT_DRAW) < 0.008
    assert abs(counts.second_wins / n - TTT_SECOND) < 0.008
    assert 5 * n <= counts.moves <= 9 * n


def test_batch_runs_are_seeded_and_batch_size_does_not_change_statistics():
    game = get_game("tic_tac_toe")
    assert random_playouts_batch(game, 64, 3, seed=1) == random_playouts_batch(game, 64, 3, seed=1)
    assert random_playouts_batch(game, 64, 3, seed=1) != random_playouts_batch(game, 64, 3, seed=2)
    single = random_playouts_batch(game, batch=1, rounds=20000, seed=3)
    assert abs(single.first_wins / single.games - TTT_FIRST) < 0.02


def _streams(rows: int, seed: int) -> np.ndarray:
    rng = np.zeros(rows, dtype=np.uint64)
    seed_rows(rng, seed)
    return rng


def test_a_playout_draws_from_its_own_row_only():
    """Stream r of a batch seeded s is the stream of row 0 seeded s + r, and playing on one
    row leaves the others untouched: a tree's rollouts do not depend on its neighbours."""
    game = get_game("connect_four")
    playout = make_random_playout(game)
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    batch = _streams(3, 20)
    untouched = batch.copy()
    alone = _streams(1, 22)
    a, b = game.new_states(1)[0], game.new_states(1)[0]
    assert playout(a, mask, batch, 2) == playout(b, mask, alone, 0)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(batch[:2], untouched[:2])
    assert batch[2] == alone[0] != untouched[2]


def _make_kernel(game):
    """A kernel that calls the playout from jitted code, built the way search builds its own."""
    playout, init, state_len = make_random_playout(game), game.init, game.state_len

    def playouts(n, rng):
        state = np.zeros(state_len, dtype=np.int8)
        mask = np.zeros(9, dtype=np.bool_)
        total = np.zeros(3, dtype=np.int64)
        for _ in range(n):
            init(state)
            result = playout(state, mask, rng, 0)
            total[int(result) + 1] += 1
        return total

    return njit_closure(playouts)


def test_playout_callable_from_jitted_code_and_plays_in_place():
    game = get_game("tic_tac_toe")
    playout = make_random_playout(game)
    assert make_random_playout(game) is playout  # cached per game
    second, draws, first = _make_kernel(game)(20000, _streams(1, 5))
    assert abs(first / 20000 - TTT_FIRST) < 0.02
    assert abs(draws / 20000 - TTT_DRAW) < 0.02
    assert abs(second / 20000 - TTT_SECOND) < 0.02

    state = game.new_states(1)[0]
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    rng = _streams(1, 0)
    result = playout(state, mask, rng, 0)
    assert game.is_terminal(state) and result == game.outcome(state)
    assert playout(state, mask, rng, 0) == result  # finished position: outcome unchanged


@pytest.mark.parametrize("name", native_game_names())
def test_every_native_game_plays_to_a_valid_end(name):
    game = get_game(name)
    playout = make_random_playout(game)
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    rng = _streams(1, 11)
    for _ in range(5):
        state = game.new_states(1)[0]
        result = playout(state, mask, rng, 0)
        assert result in (-1.0, 0.0, 1.0)
        assert game.is_terminal(state)
        assert result == game.outcome(state)
    counts = random_playouts_batch(game, batch=8, rounds=2, seed=0)
    assert counts.first_wins + counts.draws + counts.second_wins == 16
    assert counts.moves <= 16 * game.max_moves


KERNELS = """
import numpy as np
from numba import njit
from ponder.envs.jit_cache import njit_closure

@njit(cache=True)
def add_one(x):
    return x + 1

@njit(cache=True)
def triple(x):
    return 3 * x

def make(fn):
    def run(n):
        out = np.zeros(n)  # returns an array: boxing it is where colliding symbols broke
        for i in range(n):
            out[i] = fn(i)
        return out
    return njit_closure(run)
"""

LOAD = """
import sys
import kernels
for name in sys.argv[1:]:
    k = kernels.make(getattr(kernels, name))
    print(name, k(3).sum(), sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values()))
"""


def test_closure_kernels_load_from_disk_cache_in_new_processes(tmp_path):
    """Two closures of one factory compiled in separate processes, then both loaded into a
    third: each must hit the cache, and their compiled symbols must not collide (they did when
    the closures shared a qualified name: numba names symbols after it)."""
    (tmp_path / "kernels.py").write_text(KERNELS)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(tmp_path)}
    runs = []
    for names in (["add_one"], ["add_one", "triple"], ["add_one", "triple"]):
        out = subprocess.run(
            [sys.executable, "-c", LOAD, *names], capture_output=True, text=True, env=env
        )
        assert out.returncode == 0, out.stderr
        runs.append(out.stdout.split())
    assert runs[0] == ["add_one", "6.0", "0", "1"]  # compiled
    assert runs[1] == ["add_one", "6.0", "1", "0", "triple", "9.0", "0", "1"]  # loaded, compiled
    assert runs[2] == ["add_one", "6.0", "1", "0", "triple", "9.0", "1", "0"]  # both loaded


def test_playout_kernels_use_the_stable_closure_cache():
    game = get_game("tic_tac_toe")
    assert type(make_random_playout(game)._cache).__name__ == "_StableClosureCache"
