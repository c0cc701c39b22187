"""What the ratings say, fitted with their uncertainty.

Every quantity here is a linear combination c'r of the joint ratings r (a difference, an
interpolation, a least-squares slope), so its variance is exactly c'Σc under the fit's normal
approximation (Σ: `RatingTable.cov`); the one non-linear number, the exchange rate (a ratio of
two slopes), gets a parametric bootstrap: ratings drawn from N(r, Σ), the fit redone.

Compute axes are logs: test compute is the measured network evaluations per move (1 for the raw
policy), training compute the checkpoint's MACs. The exchange rate is unit-free: rescaling
either axis only moves the intercept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ponder.arena.ratings import Z95

# Players this close to the best rating (perfect play, or the strongest player where there is
# no solver) are left out of the exchange-rate plane: there strength saturates, and the plane
# would read the ceiling as "search stops paying".
CEILING_MARGIN = 150.0


@dataclass(frozen=True)
class Estimate:
    value: float
    lower: float
    upper: float

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value, "ci95": [self.lower, self.upper]}


def linear(c: np.ndarray, rating: np.ndarray, cov: np.ndarray) -> Estimate:
    """c'r with its normal 95% interval."""
    value = float(c @ rating)
    half = Z95 * math.sqrt(max(float(c @ cov @ c), 0.0))
    return Estimate(value, value - half, value + half)


def slope_weights(x: np.ndarray) -> np.ndarray:
    """Row vector c with c'y = the least-squares slope of y on x."""
    centred = x - x.mean()
    return centred / float((centred**2).sum())


@dataclass(frozen=True)
class Curve:
    """One checkpoint's fixed-budget players of one root rule, by increasing budget."""

    label: str
    indices: list[int]  # into the rating table
    budgets: list[int]
    test_evals: np.ndarray  # measured evaluations per move
    training_macs: float


def doubling_gains(curve: Curve, rating: np.ndarray, cov: np.ndarray) -> list[dict[str, Any]]:
    """Elo gained by each step up the budget ladder, per doubling of measured test compute."""
    out = []
    for k in range(len(curve.indices) - 1):
        i, j = curve.indices[k], curve.indices[k + 1]
        c = np.zeros(len(rating))
        c[j], c[i] = 1.0, -1.0
        doublings = math.log2(curve.test_evals[k + 1] / max(curve.test_evals[k], 1e-9))
        gain = linear(c, rating, cov)
        out.append(
            {
                "from": curve.budgets[k],
                "to": curve.budgets[k + 1],
                "elo": gain.to_dict(),
                "doublings": doublings,
                "elo_per_doubling": gain.value / doublings if doublings > 0 else None,
            }
        )
    return out


def elo_per_doubling(
    curve: Curve, rating: np.ndarray, cov: np.ndarray, ceiling: float, low: int = 1
) -> Estimate | None:
    """Least-squares slope of Elo on log2(test evaluations) over budgets >= `low` that are
    below the ceiling band; None with fewer than two such points."""
    keep = [
        k
        for k, b in enumerate(curve.budgets)
        if b >= low and rating[curve.indices[k]] < ceiling - CEILING_MARGIN
    ]
    if len(keep) < 2:
        return None
    x = np.log2(curve.test_evals[keep])
    c = np.zeros(len(rating))
    c[[curve.indices[k] for k in keep]] = slope_weights(x)
    return linear(c, rating, cov)


@dataclass(frozen=True)
class ExchangeFit:
    """Elo = a + b log10(training MACs) + c log10(test evaluations per move), on the unsaturated
    players; at equal Elo, d log(test) / d log(train) = -b / c."""

    intercept: float
    per_decade_train: float  # b: Elo per 10x training compute at fixed test compute
    per_decade_test: float  # c: Elo per 10x test compute at fixed training compute
    exchange: Estimate  # -b / c, with its bootstrap interval
    points: int
    rms_residual: float
    players: list[int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": "elo = a + b*log10(training MACs) + c*log10(test evaluations per move)",
            "a": self.intercept,
            "b_elo_per_10x_training": self.per_decade_train,
            "c_elo_per_10x_test": self.per_decade_test,
            "exchange_rate": self.exchange.to_dict(),
            "meaning": "slope of log10(test compute) against log10(training compute) at equal "
            "Elo: 10x training compute does the work of 10^(-rate) x test compute",
            "points": self.points,
            "rms_residual_elo": self.rms_residual,
        }


def _plane(x_train: np.ndarray, x_test: np.ndarray, y: np.ndarray) -> np.ndarray:
    design = np.column_stack([np.ones_like(x_train), x_train, x_test])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef


def exchange_rate(
    indices: Sequence[int],
    training_macs: np.ndarray,
    test_evals: np.ndarray,
    rating: np.ndarray,
    cov: np.ndarray,
    ceiling: float,
    samples: int = 2000,
    seed: int = 0,
) -> ExchangeFit | None:
    """Fit the plane on the players below the ceiling band; None when there are too few points
    or the fit cannot tell the axes apart (every point at one training compute, say)."""
    idx = np.asarray(indices, dtype=np.int64)
    keep = rating[idx] < ceiling - CEILING_MARGIN
    idx, x_train, x_test = idx[keep], np.log10(training_macs[keep]), np.log10(test_evals[keep])
    if len(idx) < 4 or np.ptp(x_train) == 0 or np.ptp(x_test) == 0:
        return None
    coef = _plane(x_train, x_test, rating[idx])
    if coef[2] <= 0:
        return None  # search does not help on these points: no exchange to speak of
    residual = rating[idx] - np.column_stack([np.ones_like(x_train), x_train, x_test]) @ coef
    rng = np.random.default_rng(seed)
    sub = cov[np.ix_(idx, idx)]
    draws = rng.multivariate_normal(rating[idx], sub, size=samples, method="eigh")
    rates = []
    for y in draws:
        b = _plane(x_train, x_test, y)
        if b[2] > 0:
            rates.append(-b[1] / b[2])
    lo, hi = np.quantile(rates, [0.025, 0.975]) if rates else (math.nan, math.nan)
    return ExchangeFit(
        intercept=float(coef[0]),
        per_decade_train=float(coef[1]),
        per_decade_test=float(coef[2]),
        exchange=Estimate(float(-coef[1] / coef[2]), float(lo), float(hi)),
        points=len(idx),
        rms_residual=float(np.sqrt(np.mean(residual**2))),
        players=[int(k) for k in idx],
    )


def interpolation_weights(curve: Curve, evals: float, size: int) -> np.ndarray | None:
    """c with c'r = the curve's Elo at `evals` test evaluations (linear in log compute between
    the two budgets around it); None outside the curve."""
    x = np.log(curve.test_evals)
    t = math.log(max(evals, 1e-9))
    for k in range(len(x) - 1):
        if x[k] <= t <= x[k + 1] and x[k + 1] > x[k]:
            w = (t - x[k]) / (x[k + 1] - x[k])
            c = np.zeros(size)
            c[curve.indices[k]] = 1.0 - w
            c[curve.indices[k + 1]] = w
            return c
    return None


def gain_at_equal_compute(
    player: int, evals: float, curve: Curve, rating: np.ndarray, cov: np.ndarray
) -> Estimate | None:
    """Elo of `player` minus the fixed-budget curve's Elo at the same measured test compute."""
    c = interpolation_weights(curve, evals, len(rating))
    if c is None:
        return None
    c = -c
    c[player] += 1.0
    return linear(c, rating, cov)


def difference(i: int, j: int, rating: np.ndarray, cov: np.ndarray) -> Estimate:
    c = np.zeros(len(rating))
    c[i], c[j] = 1.0, -1.0
    return linear(c, rating, cov)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Rank correlation (average ranks for ties); nan when either side is constant."""

    def ranks(v: np.ndarray) -> np.ndarray:
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=np.float64)
        for value in np.unique(v):  # ties share their mean rank
            same = v == value
            r[same] = r[same].mean()
        return r

    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])
