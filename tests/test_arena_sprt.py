"""GSPRT math against hand derivations, and its behaviour on simulated players of known Elo."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from ponder.arena.ratings import score_from_elo
from ponder.arena.sprt import (
    SprtConfig,
    constrained_mle,
    gsprt_llr,
    llr_normal_approximation,
    parse_sprt,
    sprt_state,
)
from ponder.errors import PonderError


def test_bounds_are_walds():
    config = SprtConfig(alpha=0.05, beta=0.1)
    assert config.lower == pytest.approx(math.log(0.1 / 0.95))
    assert config.upper == pytest.approx(math.log(0.9 / 0.05))


def test_two_outcome_llr_in_closed_form():
    # Only LL and WW pairs: the mean-s distribution on {0, 1} is forced to (1 - s, s).
    s0, s1 = score_from_elo(0), score_from_elo(20)
    counts = [40, 0, 0, 0, 60]
    expected = 60 * math.log(s1 / s0) + 40 * math.log((1 - s1) / (1 - s0))
    assert gsprt_llr(counts, 0, 20, epsilon=1e-12) == pytest.approx(expected, rel=1e-6)


def test_expected_llr_of_a_three_point_distribution_by_hand():
    """Pair scores 0, 1/2, 1 with probabilities q: solve the secular equation as a quadratic."""
    q = np.array([0.2, 0.45, 0.35])
    a = np.array([0.0, 0.5, 1.0])

    def mle(s):
        x = a - s
        # sum_i q_i x_i prod_{j != i} (1 + θ x_j) = 0 is a quadratic c2 θ² + c1 θ + c0.
        c0 = (q * x).sum()
        c1 = sum(q[i] * x[i] * (x[(i + 1) % 3] + x[(i + 2) % 3]) for i in range(3))
        c2 = sum(q[i] * x[i] * x[(i + 1) % 3] * x[(i + 2) % 3] for i in range(3))
        roots = np.roots([c2, c1, c0]).real
        theta = next(t for t in roots if (1 + t * x > 0).all())
        return q / (1 + theta * x)

    s0, s1 = score_from_elo(0), score_from_elo(10)
    expected_per_pair = float((q * np.log(mle(s1) / mle(s0))).sum())
    counts = [200, 0, 450, 0, 350]  # 1000 pairs drawn exactly from q
    assert gsprt_llr(counts, 0, 10, epsilon=1e-12) == pytest.approx(
        1000 * expected_per_pair, rel=1e-6
    )


def test_constrained_mle_is_the_constrained_optimum():
    freq = np.array([0.05, 0.2, 0.4, 0.25, 0.1])
    scores = np.linspace(0, 1, 5)
    target = 0.56
    ours = constrained_mle(freq, scores, target)
    assert ours.sum() == pytest.approx(1.0) and (ours * scores).sum() == pytest.approx(target)
    found = minimize(
        lambda p: -(freq * np.log(p)).sum(),
        freq,
        method="SLSQP",
        bounds=[(1e-9, 1)] * 5,
        constraints=[
            {"type": "eq", "fun": lambda p: p.sum() - 1},
            {"type": "eq", "fun": lambda p: (p * scores).sum() - target},
        ],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    np.testing.assert_allclose(ours, found.x, atol=1e-5)


def test_normal_approximation_agrees_for_small_gaps():
    counts = [485, 1923, 2942, 1937, 594]
    exact = gsprt_llr(counts, 0, 5)
    assert exact == pytest.approx(llr_normal_approximation(counts, 0, 5), rel=0.01)
    assert exact > math.log(0.95 / 0.05)  # this published test passed [0, 5]


def test_trinomial_model_uses_wins_draws_losses():
    config = SprtConfig(elo0=0, elo1=10, model="trinomial")
    state = sprt_state(config, pentanomial=[0] * 5, wdl=[300, 400, 200])
    assert state.llr == pytest.approx(gsprt_llr([200, 400, 300], 0, 10))
    assert state.llr > 0


def test_parse_sprt_and_its_errors():
    assert parse_sprt("elo0=0,elo1=5,alpha=0.05,beta=0.1") == SprtConfig(0, 5, 0.05, 0.1)
    assert parse_sprt("elo1=20, model=trinomial").model == "trinomial"
    for bad, match in [
        ("elo0=0,elo1=x", "not a number"),
        ("elo=3", "expected elo0="),
        ("elo0=5,elo1=0", "elo1 > elo0"),
        ("alpha=0.7", "between 0 and 0.5"),
        ("model=binomial", "model="),
    ]:
        with pytest.raises(PonderError, match=match):
            parse_sprt(bad)


def _sequential_test(rng, config, elo, draw_rate, max_pairs, step):
    """Run one SPRT on simulated pairs of independent games; return (verdict, pairs used)."""
    s = score_from_elo(elo)
    game = np.array([1 - s - draw_rate / 2, draw_rate, s - draw_rate / 2])
    pair = np.convolve(game, game)
    counts = np.zeros(5, dtype=np.int64)
    for used in range(step, max_pairs + 1, step):
        counts += rng.multinomial(step, pair)
        state = sprt_state(config, counts.tolist(), [0, 0, 0])
        if state.verdict:
            return state.verdict, used
    return None, max_pairs


def test_sprt_stops_early_on_a_clearly_stronger_player():
    config = SprtConfig(elo0=0, elo1=10)
    rng = np.random.default_rng(3)
    runs = [_sequential_test(rng, config, 80, 0.3, 20000, 10) for _ in range(10)]
    assert all(verdict == "H1" for verdict, _ in runs)
    assert max(used for _, used in runs) <= 400


def test_sprt_runs_long_and_accepts_h0_on_equal_players():
    config = SprtConfig(elo0=0, elo1=10)
    rng = np.random.default_rng(4)
    runs = [_sequential_test(rng, config, 0, 0.3, 20000, 50) for _ in range(10)]
    lengths = sorted(used for _, used in runs)
    assert lengths[len(lengths) // 2] >= 1000  # median: far longer than the clear case
    assert sum(verdict == "H0" for verdict, _ in runs) >= 8


def test_sprt_error_rates_match_alpha_and_beta():
    """At elo0 the test should accept H1 about alpha of the time; at elo1, H0 about beta."""
    config = SprtConfig(elo0=0, elo1=60, alpha=0.1, beta=0.1)
    rng = np.random.default_rng(5)
    at_h0 = [_sequential_test(rng, config, 0, 0.3, 5000, 5)[0] for _ in range(100)]
    at_h1 = [_sequential_test(rng, config, 60, 0.3, 5000, 5)[0] for _ in range(100)]
    false_positive = sum(v == "H1" for v in at_h0) / len(at_h0)
    false_negative = sum(v == "H0" for v in at_h1) / len(at_h1)
    # Wald's bounds are conservative; allow sampling noise (3 sigma of 100 runs is ~0.09).
    assert false_positive <= 0.18 and false_negative <= 0.18
    assert None not in at_h0 and None not in at_h1
