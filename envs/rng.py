"""One small random generator per row of a batch, inside numba: every tree of a batched search
and every random playout draws from one of these, never from numba's global `np.random`.

Each row of a batch draws from its own xorshift64* stream seeded from `seed + row`, so a tree's
search (its noise, ties and rollouts) does not depend on which other trees share its batch: row
r of a batch seeded s replays exactly what row 0 of a batch seeded s + r does. (numba's global
`np.random` state is shared by every row and would tie each row's randomness to the batch
composition.) It lives in envs/ because random playouts, a game-level tool, draw from it too.
"""

from __future__ import annotations

import math

import numpy as np

from ponder.envs.jit_cache import njit_cached

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STAR = np.uint64(0x2545F4914F6CDD1D)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_S12, _S25, _S11 = np.uint64(12), np.uint64(25), np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0


@njit_cached(inline="always")
def _splitmix(x):
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit_cached
def seed_rows(rng, seed):
    """Row r gets the stream of `seed + r` (never the all-zero state xorshift cannot leave)."""
    for r in range(rng.shape[0]):
        z = _splitmix(np.uint64(seed + r))
        rng[r] = z if z != 0 else _GOLDEN


@njit_cached(inline="always")
def next_u64(rng, row):
    x = rng[row]
    x ^= x >> _S12
    x ^= x << _S25
    x ^= x >> _S27
    rng[row] = x
    return x * _STAR


@njit_cached(inline="always")
def uniform(rng, row):
    """A float in [0, 1) with 53 random bits."""
    return float(next_u64(rng, row) >> _S11) * _TWO_M53


@njit_cached(inline="always")
def randint(rng, row, n):
    """An int in [0, n) (n >= 1)."""
    return min(int(uniform(rng, row) * n), n - 1)


@njit_cached(inline="always")
def normal(rng, row):
    """A standard normal draw (Box-Muller; the second value is not kept)."""
    u = 1.0 - uniform(rng, row)  # (0, 1]: log stays finite
    v = uniform(rng, row)
    return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)


@njit_cached(inline="always")
def gamma(rng, row, alpha):
    """A Gamma(alpha, 1) draw (Marsaglia and Tsang; alpha < 1 through the boost U ** (1/alpha))."""
    boost = 1.0
    if alpha < 1.0:
        boost = (1.0 - uniform(rng, row)) ** (1.0 / alpha)
        alpha += 1.0
    d = alpha - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = normal(rng, row)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = 1.0 - uniform(rng, row)
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v * boost


@njit_cached(inline="always")
def gumbel(rng, row):
    """A standard Gumbel draw."""
    u = uniform(rng, row)
    u = min(max(u, 1e-300), 1.0 - 1e-16)
    return -math.log(-math.log(u))
