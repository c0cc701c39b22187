"""Sequential probability ratio test on match results: stop as soon as the answer is clear.

This is the generalized SPRT (GSPRT) that fishtest runs. H0: the Elo difference is `elo0`;
H1: it is `elo1` (logistic Elo). The data are i.i.d. units with scores in [0, 1]:
- pentanomial (default): a colour-swapped game pair is one unit scoring 0, 1/4, 1/2, 3/4 or 1
  per game. Pairs absorb the opening's bias, so this model is both valid and more sensitive.
- trinomial: each game is a unit scoring 0, 1/2 or 1 (cheaper bookkeeping, ignores pairing).

For each hypothesis the log-likelihood is maximised over every distribution of the unit score
whose mean equals that hypothesis' expected score; the LLR is the difference. The constrained
maximum has the closed form p_i = p̂_i / (1 + θ (a_i - s)) with θ the root of a monotone
equation (Van den Bergh's derivation), found by safeguarded Newton steps. Empty cells get a
tiny count (`EPSILON`) so that the constraint stays feasible early in a test, as fishtest does.
Wald's bounds: accept H1 when LLR >= log((1-β)/α), accept H0 when LLR <= log(β/(1-α)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ponder.arena.ratings import score_from_elo
from ponder.errors import PonderError

EPSILON = 1e-3
MODELS = ("pentanomial", "trinomial")


@dataclass(frozen=True)
class SprtConfig:
    elo0: float = 0.0
    elo1: float = 5.0
    alpha: float = 0.05
    beta: float = 0.05
    model: str = "pentanomial"

    @property
    def lower(self) -> float:
        return math.log(self.beta / (1.0 - self.alpha))

    @property
    def upper(self) -> float:
        return math.log((1.0 - self.beta) / self.alpha)

    def describe(self) -> str:
        return (
            f"elo0={self.elo0:g}, elo1={self.elo1:g}, alpha={self.alpha:g}, "
            f"beta={self.beta:g}, {self.model}"
        )


def parse_sprt(text: str) -> SprtConfig:
    """`elo0=0,elo1=5,alpha=0.05,beta=0.05[,model=trinomial]`; missing keys take defaults."""
    values: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in ("elo0", "elo1", "alpha", "beta", "model"):
            raise PonderError(
                f"--sprt item {item!r}: expected elo0=, elo1=, alpha=, beta= or model="
            )
        if key == "model":
            values[key] = raw.strip()
            continue
        try:
            values[key] = float(raw)
        except ValueError:
            raise PonderError(f"--sprt {key}={raw!r} is not a number") from None
    config = SprtConfig(**values)  # type: ignore[arg-type]
    check_sprt(config)
    return config


def check_sprt(config: SprtConfig) -> None:
    if config.model not in MODELS:
        raise PonderError(f"--sprt model={config.model!r}: use one of {', '.join(MODELS)}")
    if not (0 < config.alpha < 0.5 and 0 < config.beta < 0.5):
        raise PonderError("--sprt alpha and beta must lie strictly between 0 and 0.5")
    if not all(math.isfinite(v) for v in (config.elo0, config.elo1, config.alpha, config.beta)):
        raise PonderError("--sprt elo0, elo1, alpha and beta must be finite numbers")
    if config.elo1 <= config.elo0:
        raise PonderError(f"--sprt needs elo1 > elo0 (got {config.elo0:g}, {config.elo1:g})")


def _constrained_theta(freq: np.ndarray, x: np.ndarray) -> float:
    """θ with f(θ) = sum(freq * x / (1 + θ x)) = 0, where x = a - s takes both signs.

    f decreases on the interval where every 1 + θ x > 0, so Newton steps that stay inside the
    current bracket converge in a few iterations, and a bisection step covers any that do not.
    """
    p = [float(v) for v in freq]
    xs = [float(v) for v in x]
    lo = -1.0 / max(xs)  # 1 + θ x > 0 for every outcome strictly inside (lo, hi)
    hi = -1.0 / min(xs)
    theta = 0.0
    for _ in range(100):
        f = df = 0.0
        for pi, xi in zip(p, xs, strict=True):
            t = xi / (1.0 + theta * xi)
            f += pi * t
            df -= pi * t * t
        if f > 0:
            lo = theta
        else:
            hi = theta
        step = theta - f / df if df < 0 else 0.5 * (lo + hi)
        new = step if lo < step < hi else 0.5 * (lo + hi)
        if abs(new - theta) < 1e-14 * max(1.0, abs(theta)):
            return new
        theta = new
    return theta


def constrained_mle(freq: np.ndarray, scores: np.ndarray, mean: float) -> np.ndarray:
    """The distribution nearest to `freq` (max likelihood) whose mean score equals `mean`."""
    x = scores - mean
    theta = _constrained_theta(freq, x)
    return freq / (1.0 + theta * x)


def gsprt_llr(counts: Sequence[float], elo0: float, elo1: float, epsilon: float = EPSILON) -> float:
    """LLR of H1 (elo1) against H0 (elo0) for counts over equally spaced scores 0..1."""
    n = np.maximum(np.asarray(counts, dtype=np.float64), epsilon)
    scores = np.linspace(0.0, 1.0, len(n))
    freq = n / n.sum()
    p0 = constrained_mle(freq, scores, score_from_elo(elo0))
    p1 = constrained_mle(freq, scores, score_from_elo(elo1))
    return float((np.asarray(counts, dtype=np.float64) * np.log(p1 / p0)).sum())


def llr_normal_approximation(counts: Sequence[float], elo0: float, elo1: float) -> float:
    """The quadratic approximation N (s1 - s0)(2 μ - s0 - s1) / (2 σ²); close for small gaps."""
    n = np.asarray(counts, dtype=np.float64)
    scores = np.linspace(0.0, 1.0, len(n))
    total = n.sum()
    mu = float((n * scores).sum() / total)
    var = float((n * (scores - mu) ** 2).sum() / total)
    s0, s1 = score_from_elo(elo0), score_from_elo(elo1)
    return total * (s1 - s0) * (2 * mu - s0 - s1) / (2 * var)


@dataclass
class SprtState:
    config: SprtConfig
    llr: float
    verdict: str | None  # "H1" (accept elo1: stronger), "H0" (accept elo0), None: keep going

    def to_dict(self) -> dict:
        return {
            "elo0": self.config.elo0,
            "elo1": self.config.elo1,
            "alpha": self.config.alpha,
            "beta": self.config.beta,
            "model": self.config.model,
            "llr": self.llr,
            "lower_bound": self.config.lower,
            "upper_bound": self.config.upper,
            "verdict": self.verdict,
        }


def sprt_state(config: SprtConfig, pentanomial: Sequence[int], wdl: Sequence[int]) -> SprtState:
    """Where the test stands given pair counts (pentanomial) and A's wins/draws/losses."""
    if config.model == "pentanomial":
        counts: Sequence[float] = pentanomial
    else:
        counts = [wdl[2], wdl[1], wdl[0]]  # losses, draws, wins: scores 0, 1/2, 1
    llr = gsprt_llr(counts, config.elo0, config.elo1) if sum(counts) else 0.0
    verdict = None
    if llr >= config.upper:
        verdict = "H1"
    elif llr <= config.lower:
        verdict = "H0"
    return SprtState(config, llr, verdict)
