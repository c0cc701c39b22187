"""`ponder think`'s statistics against cases of known answer: Fisher intervals, the greedy
scheduler's variance formula, the scheduler loop on simulated players of known Elo, and the
exchange-rate fit on a synthetic plane."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ponder.arena.ratings import ELO_SCALE, PairingCounts, covariance, fit_ratings
from ponder.arena.think.cache import GameCache
from ponder.arena.think.fits import (
    Curve,
    exchange_rate,
    gain_at_equal_compute,
    spearman,
)
from ponder.arena.think.roster import StudyPlayer, budget_ladder, parse_budgets
from ponder.arena.think.schedule import half_widths, next_pairings, variance_drop
from ponder.arena.think.study import Study, StudyOptions, run
from ponder.errors import PonderError


def simulated_pairing(a: str, b: str, gap: float, pairs: int, rng) -> PairingCounts:
    """Colour-swapped pairs between players `gap` Elo apart (no draws, no colour advantage)."""
    p = 1.0 / (1.0 + 10 ** (-gap / 400))
    wins = rng.binomial(1, p, size=(pairs, 2)).sum(axis=1)  # a's points per pair: 0, 1, 2
    penta = [int((wins == 0).sum()), 0, int((wins == 1).sum()), 0, int((wins == 2).sum())]
    w = int(wins.sum())
    return PairingCounts(a, b, penta, [w, 0, 2 * pairs - w])


def test_fisher_intervals_cover_the_truth_and_match_the_bootstrap():
    rng = np.random.default_rng(1)
    truth = {"random": 0.0, "a": 150.0, "b": 320.0, "c": 420.0}
    names = list(truth)
    pairings = [
        simulated_pairing(x, y, truth[x] - truth[y], 400, rng)
        for k, x in enumerate(names)
        for y in names[k + 1 :]
    ]
    fisher = fit_ratings(pairings, anchor="random", fisher=True, prior_draws=0.5)
    boot = fit_ratings(pairings, anchor="random", bootstrap=300, prior_draws=0.5)
    for k, name in enumerate(fisher.players):
        assert fisher.lower[k] - 1e-9 <= truth[name] <= fisher.upper[k] + 1e-9, name
        if name != "random":
            wf = fisher.upper[k] - fisher.lower[k]
            wb = boot.upper[k] - boot.lower[k]
            assert 0.7 < wf / wb < 1.4, (name, wf, wb)
    assert fisher.cov is not None and fisher.cov[0, 0] == 0.0


def test_variance_drop_matches_refitting_the_information():
    rng = np.random.default_rng(2)
    n = 6
    ij = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [0, 3]])
    games = np.full(len(ij), 40.0)
    rating = np.array([0.0, 100.0, 180.0, 260.0, 380.0, 400.0]) + rng.normal(0, 5, n)
    rating[0] = 0.0
    cov = covariance(n, ij, games, rating, 0)
    for target in (2, 5):
        drop = variance_drop(target, rating, cov, 16)
        for j in range(n):
            if j == target:
                continue
            after = covariance(n, np.vstack([ij, [target, j]]), np.append(games, 16.0), rating, 0)
            assert drop[j] == pytest.approx(cov[target, target] - after[target, target], rel=1e-6)


def _toy_study(tmp_path, truth: dict[str, float], ci: float, max_games: int) -> Study:
    roster = [StudyPlayer(name, name) for name in truth]  # references only: a chain skeleton
    options = StudyOptions(
        run=tmp_path, out=tmp_path, ci=ci, max_games=max_games, games_per_batch=16
    )
    return Study(options, game=None, roster=roster, cache=GameCache(tmp_path / "g.jsonl"), book=[])


def test_scheduler_stops_with_every_interval_within_target_and_covering_the_truth(tmp_path):
    truth = {"random": 0.0, "p1": 80.0, "p2": 230.0, "p3": 300.0, "p4": 520.0, "p5": 610.0}
    study = _toy_study(tmp_path, truth, ci=80.0, max_games=40_000)
    rng = np.random.default_rng(3)
    played = []

    def simulate(study: Study, a: str, b: str) -> None:
        counts = simulated_pairing(a, b, truth[a] - truth[b], 8, rng)
        played.append((a, b))
        study.cache.batches.append(
            {"a": a, "b": b, "games": 16, "wdl": counts.wdl, "pentanomial": counts.pentanomial}
        )

    run(study, play=simulate)
    assert study.stop_reason.startswith("every rating within")
    table = study.table
    half = half_widths(table.cov)
    assert half.max() <= 80.0 + 1e-9
    inside = [
        abs(table.rating[k] - truth[p]) <= half[k] + 1e-9 for k, p in enumerate(table.players)
    ]
    assert sum(inside) >= len(inside) - 1  # 95% intervals: at most one miss among six
    # The skeleton came first: the reference chain, neighbour to neighbour.
    assert played[:5] == [("random", "p1"), ("p1", "p2"), ("p2", "p3"), ("p3", "p4"), ("p4", "p5")]


def test_scheduler_respects_the_game_budget(tmp_path):
    truth = {"random": 0.0, "p1": 100.0, "p2": 200.0}
    study = _toy_study(tmp_path, truth, ci=5.0, max_games=160)
    rng = np.random.default_rng(4)

    def simulate(study: Study, a: str, b: str) -> None:
        c = simulated_pairing(a, b, truth[a] - truth[b], 8, rng)
        study.cache.batches.append(
            {"a": a, "b": b, "games": 16, "wdl": c.wdl, "pentanomial": c.pentanomial}
        )

    run(study, play=simulate)
    assert study.stop_reason.startswith("game budget spent")
    assert study.cache.games <= 160


def test_next_pairings_is_empty_once_within_target():
    cov = np.diag([0.0, 100.0, 400.0])  # half-widths 0, 19.6, 39.2
    rating = np.array([0.0, 50.0, 100.0])
    assert next_pairings(rating, cov, 40.0, 16, 4, fixed=[0]) == []
    assert next_pairings(rating, cov, 30.0, 16, 4, fixed=[0]) == [(2, 1)] or next_pairings(
        rating, cov, 30.0, 16, 4, fixed=[0]
    ) == [(2, 0)]


def test_exchange_rate_recovers_a_synthetic_plane():
    rng = np.random.default_rng(5)
    b_true, c_true = 500.0, 300.0  # Elo per 10x training, per 10x test: rate -5/3
    macs, tests, ratings = [], [], []
    for log_t in np.linspace(11, 13, 5):
        for budget in (1, 2, 4, 8, 16, 32, 64):
            macs.append(10**log_t)
            tests.append(float(budget))
            ratings.append(-5000 + b_true * log_t + c_true * math.log10(budget))
    rating = np.array(ratings)
    n = len(rating)
    cov = np.eye(n) * 20.0**2
    noisy = rating + rng.normal(0, 20.0, n)
    ceiling = noisy.max() + 1000  # no saturation in this case
    fit = exchange_rate(range(n), np.array(macs), np.array(tests), noisy, cov, ceiling)
    assert fit is not None and fit.points == n
    assert fit.exchange.lower < -b_true / c_true < fit.exchange.upper
    assert fit.exchange.upper - fit.exchange.lower < 0.5
    # Points in the ceiling band are left out of the plane.
    capped = exchange_rate(range(n), np.array(macs), np.array(tests), noisy, cov, noisy.max())
    assert capped is not None and capped.points < n


def test_gain_at_equal_compute_interpolates_in_log_compute():
    rating = np.array([0.0, 100.0, 200.0, 180.0])  # curve 0-1-2 at 1, 4, 16 evaluations
    cov = np.diag([0.0, 25.0, 25.0, 25.0])
    curve = Curve("s1", [0, 1, 2], [0, 4, 16], np.array([1.0, 4.0, 16.0]), 1e12)
    gain = gain_at_equal_compute(3, 8.0, curve, rating, cov)  # 8 is halfway 4..16 in log
    assert gain.value == pytest.approx(180.0 - 150.0)
    assert gain.upper - gain.lower == pytest.approx(2 * 1.959963984540054 * math.sqrt(25 * 1.5))
    assert gain_at_equal_compute(3, 64.0, curve, rating, cov) is None


def test_spearman_and_budget_parsing():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))
    assert budget_ladder(512) == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert budget_ladder(24) == [0, 1, 2, 4, 8, 16, 24]
    assert parse_budgets("64, 16,", "--adaptive") == [16, 64]
    with pytest.raises(PonderError, match="not a positive number"):
        parse_budgets("16,٣", "--adaptive")
    assert ELO_SCALE > 0
