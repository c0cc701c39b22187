"""Elo arithmetic and joint ratings against hand-computed values and simulated players."""

import math

import numpy as np
import pytest

from ponder.arena.ratings import (
    PairingCounts,
    elo_from_score,
    fit_ratings,
    pentanomial_estimate,
    score_from_elo,
    trinomial_estimate,
)
from ponder.errors import PonderError


def test_elo_score_round_trip_and_known_points():
    assert elo_from_score(0.75) == pytest.approx(400 * math.log10(3))
    assert elo_from_score(0.5) == 0.0
    assert elo_from_score(1.0) == math.inf and elo_from_score(0.0) == -math.inf
    for elo in (-600.0, -35.0, 0.0, 12.5, 400.0):
        assert elo_from_score(score_from_elo(elo)) == pytest.approx(elo)


@pytest.mark.parametrize(
    "counts, expected",
    [
        # Published pentanomial logistic-Elo intervals (lower, mean, upper) of real engine tests.
        ((485, 1923, 2942, 1937, 594), (1.21, 5.11, 9.02)),
        ((261, 739, 2683, 737, 253), (-5.00, -0.67, 3.66)),
        ((63, 252, 385, 250, 74), (-7.38, 3.39, 14.17)),
        ((527, 1007, 1932, 933, 511), (-9.16, -3.75, 1.66)),
        ((175, 305, 694, 291, 157), (-14.57, -5.36, 3.85)),
    ],
)
def test_pentanomial_elo_interval_matches_reference(counts, expected):
    est = pentanomial_estimate(counts)
    lo, hi = est.elo_interval()
    assert (round(lo, 2), round(est.elo, 2), round(hi, 2)) == expected


def test_pentanomial_error_by_hand():
    # 10 pairs: 2 x 0 points, 3 x 1 point, 5 x 2 points -> per-game scores 0, .5, 1.
    est = pentanomial_estimate([2, 0, 3, 0, 5])
    mean = (2 * 0 + 3 * 0.5 + 5 * 1) / 10
    var = (2 * mean**2 + 3 * (0.5 - mean) ** 2 + 5 * (1 - mean) ** 2) / 10
    assert est.score == pytest.approx(mean)
    assert est.stderr == pytest.approx(math.sqrt(var / 10))
    z = (mean - 0.5) / math.sqrt(var / 10)
    assert est.los == pytest.approx(0.5 * (1 + math.erf(z / math.sqrt(2))))


def test_trinomial_and_degenerate_estimates():
    est = trinomial_estimate(6, 2, 2)
    assert est.score == pytest.approx(0.7)
    assert est.los > 0.9
    perfect = pentanomial_estimate([0, 0, 0, 0, 50])
    assert perfect.elo == math.inf and perfect.los == 1.0
    lo, hi = perfect.elo_interval()
    z2 = 1.959963984540054**2
    assert lo == pytest.approx(elo_from_score(50 / (50 + z2))) and hi == math.inf
    draws = pentanomial_estimate([0, 0, 30, 0, 0])
    lo, hi = draws.elo_interval()
    assert lo == pytest.approx(-hi) and 50 < hi < 200
    assert pentanomial_estimate([0, 0, 0, 0, 0]).units == 0


def _pairing(a, b, wins, draws, losses):
    """Totals only: the point estimate uses W/D/L; pair counts matter only to the bootstrap."""
    return PairingCounts(a, b, [0, 0, 0, 0, 0], [wins, draws, losses])


def test_two_players_hand_computed():
    table = fit_ratings([_pairing("a", "b", 60, 30, 10)], anchor="b", prior_draws=0, bootstrap=0)
    # a scores 75/100 -> a - b = 400 log10(0.75 / 0.25).
    assert table.rating[table.players.index("a")] == pytest.approx(400 * math.log10(3), abs=1e-6)
    assert table.rating[table.players.index("b")] == 0.0


def test_chain_and_triangle_hand_computed():
    chain = [_pairing("a", "b", 75, 0, 25), _pairing("b", "c", 30, 90, 0)]
    # b vs c: 30 W, 90 D, 0 L -> 75/120 = 0.625.
    table = fit_ratings(chain, anchor="c", prior_draws=0, bootstrap=0)
    r = dict(zip(table.players, table.rating, strict=True))
    assert r["b"] == pytest.approx(elo_from_score(0.625), abs=1e-6)
    assert r["a"] - r["b"] == pytest.approx(400 * math.log10(3), abs=1e-6)
    # A consistent triangle: 75%, 75% and 90% are exactly 190.8 + 190.8 = 381.7 Elo.
    tri = [
        _pairing("a", "b", 75, 0, 25),
        _pairing("b", "c", 75, 0, 25),
        _pairing("a", "c", 9, 0, 1),
    ]
    table = fit_ratings(tri, anchor="c", prior_draws=0, bootstrap=0)
    r = dict(zip(table.players, table.rating, strict=True))
    assert r["a"] == pytest.approx(400 * math.log10(9), abs=1e-6)
    assert r["b"] == pytest.approx(400 * math.log10(3), abs=1e-6)


def test_maximum_likelihood_reproduces_each_players_score():
    pairings = [
        _pairing("x", "y", 13, 4, 9),
        _pairing("y", "z", 7, 10, 3),
        _pairing("x", "z", 20, 1, 2),
        _pairing("z", "w", 5, 5, 5),
    ]
    table = fit_ratings(pairings, prior_draws=0, bootstrap=0)
    r = dict(zip(table.players, table.rating, strict=True))
    expected = dict.fromkeys(r, 0.0)
    for p in pairings:
        e = score_from_elo(r[p.a] - r[p.b]) * p.games
        expected[p.a] += e
        expected[p.b] += p.games - e
    for i, name in enumerate(table.players):
        assert expected[name] == pytest.approx(table.points[i], abs=1e-6)


def _simulate_pairs(rng, elo, draw_rate, pairs):
    s = score_from_elo(elo)
    game = np.array([1 - s - draw_rate / 2, draw_rate, s - draw_rate / 2])  # L, D, W
    pair = np.convolve(game, game)  # pentanomial for two independent games
    return rng.multinomial(pairs, pair).tolist()


def _counts(a, b, penta):
    """W/D/L consistent with pair counts; a 1-point pair is booked as W+L (same score as D+D)."""
    wins = 2 * penta[4] + penta[3] + penta[2]
    losses = 2 * penta[0] + penta[1] + penta[2]
    draws = 2 * sum(penta) - wins - losses
    return PairingCounts(a, b, list(penta), [wins, draws, losses])


def test_simulated_players_of_known_strength_are_recovered():
    rng = np.random.default_rng(7)
    truth = {"random": 0.0, "mid": 150.0, "strong": 400.0}
    names = list(truth)
    pairings = []
    for i in range(3):
        for j in range(i + 1, 3):
            a, b = names[i], names[j]
            penta = _simulate_pairs(rng, truth[a] - truth[b], 0.1, 1500)
            pairings.append(_counts(a, b, penta))
    table = fit_ratings(pairings, bootstrap=100, seed=1, prior_draws=0)
    assert table.anchor == "random"
    for i, name in enumerate(table.players):
        assert table.lower[i] <= truth[name] <= table.upper[i], name
        assert abs(table.rating[i] - truth[name]) < 25
    assert [table.players[i] for i in table.order()] == ["strong", "mid", "random"]
    # The intervals are real intervals (non-zero width) except the anchor's.
    width = table.upper - table.lower
    assert width[table.players.index("random")] == 0.0
    assert (width[[table.players.index("mid"), table.players.index("strong")]] > 5).all()


def test_prior_keeps_a_perfect_score_finite():
    table = fit_ratings(
        [PairingCounts("strong", "random", [0, 0, 0, 0, 50], [100, 0, 0])], bootstrap=20
    )
    r = table.rating[table.players.index("strong")]
    # One virtual draw: 100.5 / 101 points.
    assert r == pytest.approx(elo_from_score(100.5 / 101), abs=1e-4)
    assert np.isfinite(table.lower).all() and np.isfinite(table.upper).all()


def test_bad_anchor_and_disconnected_players():
    pairings = [_pairing("a", "b", 3, 0, 1), _pairing("c", "d", 2, 1, 1)]
    with pytest.raises(PonderError, match="no chain of games"):
        fit_ratings(pairings, anchor="a", bootstrap=0)
    with pytest.raises(PonderError, match="anchor 'zed'"):
        fit_ratings(pairings[:1], anchor="zed", bootstrap=0)
