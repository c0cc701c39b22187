"""Shared helpers for the AlphaZero core tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny networks run fastest on one thread, and CI shares its few cores between processes:
    torch's default thread pool then spends most of its time waiting for a busy sibling."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def random_positions(
    game, count: int, seed: int, max_plies: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """States after a random number of random moves (never terminal), with their legal masks."""
    rng = np.random.default_rng(seed)
    states = game.new_states(count)
    legal = np.zeros((count, game.num_actions), dtype=np.bool_)
    for i in range(count):
        for _ in range(int(rng.integers(0, max_plies + 1))):
            game.legal_mask(states[i], legal[i])
            trial = states[i].copy()
            done, _ = game.play(trial, int(rng.choice(np.flatnonzero(legal[i]))))
            if done:
                break
            states[i] = trial
        game.legal_mask(states[i], legal[i])
    return states, legal
