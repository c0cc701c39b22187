"""Tic-tac-toe and connect four against OpenSpiel, move for move, over random games."""

from __future__ import annotations

import pytest

from ponder.envs.conformance import compare_with_openspiel
from ponder.envs.registry import get_game


@pytest.mark.parametrize("name", ["tic_tac_toe", "connect_four"])
def test_random_games_match_openspiel(name):
    report = compare_with_openspiel(get_game(name), 10_000)
    assert report.mismatch is None, report.mismatch
    assert report.games == 10_000
