"""Hex, othello and gomoku against OpenSpiel move for move, and their symmetry tables.

Game counts: 10,000 random games for othello, gomoku and hex 5x5, 7x7 and 11x11; the other hex
sizes get fewer where their games are long, so the file stays within its share of the suite.
"""

from __future__ import annotations

import numpy as np
import pytest

from ponder.envs.conformance import compare_with_openspiel
from ponder.envs.registry import get_game

slow = pytest.mark.slow

CONFORMANCE_GAMES = [
    pytest.param("hex_3", 10_000),
    pytest.param("hex_4", 10_000),
    pytest.param("hex_5", 10_000),
    pytest.param("hex_6", 10_000),
    pytest.param("hex_7", 10_000, marks=slow),
    pytest.param("hex_8", 5_000, marks=slow),
    pytest.param("hex_9", 4_000, marks=slow),
    pytest.param("hex_10", 3_000, marks=slow),
    pytest.param("hex_11", 10_000, marks=slow),
    pytest.param("othello", 10_000, marks=slow),
    pytest.param("gomoku", 10_000, marks=slow),
]


@pytest.mark.parametrize(("name", "num_games"), CONFORMANCE_GAMES)
def test_matches_openspiel(name, num_games):
    report = compare_with_openspiel(get_game(name), num_games, seed=11)
    assert report.mismatch is None, report.mismatch
    assert report.games == num_games


@pytest.mark.parametrize("name", ["hex_4", "hex_7", "othello", "othello_6x6", "gomoku"])
def test_symmetries_map_games_onto_games(name):
    """Playing the image of every move under symmetry s must give the image of every position.

    `new_policy[a] = policy[action_perms[s, a]]`, so the original's action x is the image's
    action `a` with `action_perms[s, a] == x`; at every ply the image's planes must equal the
    original's planes gathered by `cell_perms[s]`, its legal mask the gathered mask, and the two
    games must end together with the same result.
    """
    game = get_game(name)
    rng = np.random.default_rng(2)
    channels = game.obs_shape[0]
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    image_mask = np.zeros(game.num_actions, dtype=np.bool_)
    planes = np.zeros(game.obs_shape, dtype=np.float32)
    image_planes = np.zeros(game.obs_shape, dtype=np.float32)
    for s in range(1, game.num_symmetries):
        inverse = np.argsort(game.action_perms[s])
        cell_perm = game.cell_perms[s]
        for _ in range(5):
            state, image = game.new_states(2)
            done = False
            while not done:
                game.encode(state, planes)
                game.encode(image, image_planes)
                gathered = planes.reshape(channels, -1)[:, cell_perm]
                assert np.array_equal(image_planes.reshape(channels, -1), gathered)
                game.legal_mask(state, mask)
                game.legal_mask(image, image_mask)
                assert np.array_equal(image_mask, mask[game.action_perms[s]])
                action = int(rng.choice(np.flatnonzero(mask)))
                done, result = game.play(state, action)
                assert game.play(image, int(inverse[action])) == (done, result)
