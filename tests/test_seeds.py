"""`derive_seed`, the one way components get their own seeds."""

from __future__ import annotations

import pytest

from ponder.seeds import derive_seed


def test_seeds_are_fixed_functions_of_their_keys() -> None:
    # Pinned: a change here changes every run's streams, so it must be deliberate.
    assert derive_seed(0) == 1484405855
    assert derive_seed(7, 1, 2) == 867361342
    assert derive_seed("uct:1000", 3) == 1610647055  # strings hash alike in every process


def test_neighbouring_keys_give_unrelated_seeds_in_31_bits() -> None:
    seeds = {
        derive_seed(1, worker, incarnation) for worker in range(50) for incarnation in range(4)
    }
    assert len(seeds) == 200
    assert all(0 <= s < 2**31 for s in seeds)
    # Key order matters: (worker 1, restart 2) is not (worker 2, restart 1).
    assert derive_seed(5, 1, 2) != derive_seed(5, 2, 1)
    assert derive_seed(5, "a", "b") != derive_seed(5, "b", "a")


def test_negative_keys_are_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        derive_seed(-1)
