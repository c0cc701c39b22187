"""Symmetry augmentation: transforming a sample equals encoding the transformed position."""

from __future__ import annotations

import numpy as np
import pytest

from ponder.agents.alphazero.augment import apply_symmetry, random_symmetries
from ponder.agents.alphazero.samples import Samples
from ponder.envs.registry import get_game, native_game_names


def play_random_line(game, rng: np.random.Generator, max_plies: int) -> list[int]:
    """A random sequence of legal moves that leaves the game unfinished."""
    state = game.new_states(1)[0]
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    moves: list[int] = []
    for _ in range(max_plies):
        game.legal_mask(state, mask)
        action = int(rng.choice(np.flatnonzero(mask)))
        trial = state.copy()
        done, _ = game.play(trial, action)
        if done:
            break
        state = trial
        moves.append(action)
    return moves


def sample_of(game, moves: list[int], policy: np.ndarray) -> Samples:
    state = game.new_states(1)[0]
    for action in moves:
        game.play(state, action)
    legal = np.zeros((1, game.num_actions), dtype=np.bool_)
    game.legal_mask(state, legal[0])
    return Samples(
        planes=game.encode_batch(state[None]),
        policy=policy[None].astype(np.float32),
        value=np.array([0.5], np.float32),
        legal=legal,
        policy_weight=np.ones(1, np.float32),
    )


@pytest.mark.parametrize("name", native_game_names())
def test_symmetry_of_sample_equals_sample_of_symmetric_position(name: str) -> None:
    game = get_game(name)
    rng = np.random.default_rng(7)
    for symmetry in range(game.num_symmetries):
        # new_policy[a] = policy[perm[a]]: the move `m` corresponds to the move `inverse[m]`.
        inverse = np.argsort(game.action_perms[symmetry])
        for _ in range(3):
            moves = play_random_line(game, rng, max_plies=int(rng.integers(0, 8)))
            policy = rng.random(game.num_actions)
            original = sample_of(game, moves, policy)
            mapped_moves = [int(inverse[m]) for m in moves]
            expected = sample_of(game, mapped_moves, policy[game.action_perms[symmetry]])
            got = apply_symmetry(game, original, np.array([symmetry]))
            np.testing.assert_array_equal(got.planes, expected.planes)
            np.testing.assert_array_equal(got.legal, expected.legal)
            np.testing.assert_array_equal(got.policy, expected.policy)
            assert got.value[0] == original.value[0]


def test_random_symmetries_draw_from_the_whole_group() -> None:
    game = get_game("tic_tac_toe")
    rng = np.random.default_rng(0)
    moves = [0, 4]  # a corner and the centre: all 8 images of this position differ
    base = sample_of(game, moves, np.eye(9)[1])
    batch = Samples.concat([base] * 400)
    out = random_symmetries(game, batch, rng)
    distinct = {tuple(p.reshape(-1).astype(int)) for p in out.planes}
    assert len(distinct) == 4  # x in one of 4 corners, o in the centre
    # The policy moves with the board: its one-hot sits next to the corner where x went.
    for planes, policy in zip(out.planes, out.policy, strict=True):
        x_cell = int(np.flatnonzero(planes[1].reshape(-1))[0])  # o to move: x is "theirs"
        target = int(np.argmax(policy))
        row_x, col_x = divmod(x_cell, 3)
        row_t, col_t = divmod(target, 3)
        assert abs(row_x - row_t) + abs(col_x - col_t) == 1 and target in (1, 3, 5, 7)
