"""Seed derivation, one way for the whole project.

Every component that needs its own random stream (a self-play worker and its restarts, a DQN
session or actor, an arena match's players and chunks, a study's pairings, an evaluation)
derives its seed from the run's seed and the keys that name the stream. numpy's SeedSequence
mixes the keys, so neighbouring keys (worker 1 and 2, step 1000 and 1001) give unrelated
streams where `seed + k` would give overlapping ones. Inside numba, per-row streams seeded
`seed + row` come from `ponder.envs.rng` (a different generator; rows there are rows of one
batch, not components).
"""

from __future__ import annotations

import hashlib

import numpy as np


def _key(value: int | str) -> int:
    if isinstance(value, str):  # a player spec, a game name: hashed the same in every process
        return int.from_bytes(hashlib.sha256(value.encode()).digest()[:8], "little")
    if value < 0:
        raise ValueError(f"seed keys must be >= 0 (got {value})")
    return int(value)


def derive_seed(*keys: int | str) -> int:
    """A seed in [0, 2**31) for the stream that `keys` name (the run's seed first); fits every
    consumer: numpy, torch, gymnasium, ALE and OpenSpiel's bots."""
    state = np.random.SeedSequence([_key(k) for k in keys]).generate_state(1, np.uint32)[0]
    return int(state) >> 1
