"""Elo arithmetic: score <-> Elo, error bars from colour-swapped game pairs, LOS, joint ratings.

The model throughout is the logistic Elo curve, `E = 1 / (1 + 10^(-d / 400))`, with a draw
counted as half a win and half a loss (the model of Ordo and of cutechess' Elo line). Compared
with Davidson's explicit draw parameter it needs no extra fit, and its maximum-likelihood ratings
reproduce each player's total score exactly, which is what a reader of the table checks first.

Games are played in colour-swapped pairs from the same opening, so the two games of a pair are
correlated; error bars therefore come from the pentanomial distribution of pair scores (as in
fishtest), not from treating games as independent.

Joint ratings (`fit_ratings`) maximise the likelihood over every game of a tournament at once,
anchored to one player at 0. A perfect score has no finite maximum, so a small prior adds
`prior_draws` virtual drawn games to every pairing that was played (BayesElo's device); it pulls
every gap slightly toward 0 and keeps 100-0 results finite. Confidence intervals come from a
bootstrap that resamples game pairs within each pairing, or, where a tournament refits after
every batch of games (`ponder think`), from the inverse Fisher information (`covariance`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ponder.errors import PonderError

ELO_SCALE = 400.0 / math.log(10.0)  # Elo per natural-log unit of odds
Z95 = 1.959963984540054  # two-sided 95% normal quantile
PAIR_POINTS = np.array([0.0, 0.5, 1.0, 1.5, 2.0])  # points of a pair, pentanomial index k -> k/2


def score_from_elo(elo: float) -> float:
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


def elo_from_score(score: float) -> float:
    """Elo difference implied by an expected score; +-inf at a perfect score."""
    if score >= 1.0:
        return math.inf
    if score <= 0.0:
        return -math.inf
    return -400.0 * math.log10(1.0 / score - 1.0)


@dataclass(frozen=True)
class ScoreEstimate:
    """Mean score per game and its standard error, with the Elo view of both."""

    score: float
    stderr: float
    units: int  # independent units behind the estimate (pairs, or games for trinomial)

    @property
    def elo(self) -> float:
        return elo_from_score(self.score)

    def elo_interval(self, z: float = Z95) -> tuple[float, float]:
        """Elo at score -+ z standard errors (asymmetric in Elo, as it should be).

        When every unit scored the same (a 100-0 sweep, all draws) the sample variance is 0 and
        would claim certainty; the Wilson interval for `units` trials is used instead, which
        for a sweep of n pairs gives the familiar lower bound n / (n + z²)."""
        if self.units and self.stderr == 0.0:
            n, p = self.units, self.score
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
            return elo_from_score(centre - half), elo_from_score(centre + half)
        return (
            elo_from_score(self.score - z * self.stderr),
            elo_from_score(self.score + z * self.stderr),
        )

    @property
    def los(self) -> float:
        """Likelihood of superiority: P(true score > 1/2) under the normal approximation."""
        if self.units == 0:
            return 0.5
        if self.stderr == 0.0:
            return 1.0 if self.score > 0.5 else (0.0 if self.score < 0.5 else 0.5)
        return 0.5 * (1.0 + math.erf((self.score - 0.5) / (self.stderr * math.sqrt(2.0))))


def pentanomial_estimate(counts: Sequence[int]) -> ScoreEstimate:
    """Score per game from pair counts [0, 1/2, 1, 3/2, 2 points] and its pair-based error."""
    n = np.asarray(counts, dtype=np.float64)
    pairs = float(n.sum())
    if pairs == 0:
        return ScoreEstimate(0.5, math.inf, 0)
    per_game = PAIR_POINTS / 2.0
    mean = float((n * per_game).sum() / pairs)
    var = float((n * (per_game - mean) ** 2).sum() / pairs)
    return ScoreEstimate(mean, math.sqrt(var / pairs), int(pairs))


def trinomial_estimate(wins: int, draws: int, losses: int) -> ScoreEstimate:
    """Score from W/D/L counts treating games as independent (for unpaired games)."""
    games = wins + draws + losses
    if games == 0:
        return ScoreEstimate(0.5, math.inf, 0)
    mean = (wins + 0.5 * draws) / games
    var = (wins * (1 - mean) ** 2 + draws * (0.5 - mean) ** 2 + losses * mean**2) / games
    return ScoreEstimate(mean, math.sqrt(var / games), games)


@dataclass
class PairingCounts:
    """Every game between `a` and `b`, from a's view: pair counts and total W/D/L."""

    a: str
    b: str
    pentanomial: list[int]  # pairs scoring 0, 1/2, 1, 3/2, 2 points for a
    wdl: list[int]  # a's wins, draws, losses

    @property
    def games(self) -> int:
        return sum(self.wdl)

    @property
    def points(self) -> float:
        return self.wdl[0] + 0.5 * self.wdl[1]

    def flipped(self) -> PairingCounts:
        return PairingCounts(self.b, self.a, self.pentanomial[::-1], self.wdl[::-1])


@dataclass
class RatingTable:
    """Joint ratings on one scale: `rating[i]` for `players[i]`, anchor at 0."""

    players: list[str]
    rating: np.ndarray
    lower: np.ndarray  # bootstrap 2.5% quantile (equals rating when bootstrap is off)
    upper: np.ndarray  # bootstrap 97.5% quantile
    games: np.ndarray  # games played by each player
    points: np.ndarray  # points scored by each player
    anchor: str
    prior_draws: float
    bootstrap: int
    cov: np.ndarray | None = None  # Elo² covariance, when the intervals are Fisher intervals

    def order(self) -> list[int]:
        return sorted(range(len(self.players)), key=lambda i: -self.rating[i])

    def to_dict(self) -> dict:
        return {
            "anchor": self.anchor,
            "model": "logistic Elo, draw = half win + half loss, joint maximum likelihood",
            "prior_draws": self.prior_draws,
            "bootstrap": self.bootstrap,
            "intervals": "fisher" if self.cov is not None else "bootstrap",
            "players": [
                {
                    "player": self.players[i],
                    "rating": float(self.rating[i]),
                    "ci95": [float(self.lower[i]), float(self.upper[i])],
                    "games": int(self.games[i]),
                    "score": float(self.points[i] / self.games[i]) if self.games[i] else None,
                }
                for i in self.order()
            ],
        }


def _aggregate(
    players: list[str], pairings: Sequence[PairingCounts]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (m, 2) and, per pairing, games and points of the first player."""
    index = {p: i for i, p in enumerate(players)}
    ij = np.array([[index[p.a], index[p.b]] for p in pairings], dtype=np.int64).reshape(-1, 2)
    games = np.array([p.games for p in pairings], dtype=np.float64)
    points = np.array([p.points for p in pairings], dtype=np.float64)
    return ij, games, points


def _fisher(num_players: int, ij: np.ndarray, games: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The log-likelihood's negative Hessian at `r` (natural-log units)."""
    i, j = ij[:, 0], ij[:, 1]
    p = 1.0 / (1.0 + np.exp(-(r[i] - r[j])))
    w = games * p * (1.0 - p)
    hess = np.zeros((num_players, num_players))
    np.add.at(hess, (i, i), w)
    np.add.at(hess, (j, j), w)
    np.add.at(hess, (i, j), -w)
    np.add.at(hess, (j, i), -w)
    return hess


def _fit(
    num_players: int, ij: np.ndarray, games: np.ndarray, points: np.ndarray, anchor: int
) -> np.ndarray:
    """Newton's method on the concave log-likelihood, the anchor held at 0 (natural-log units)."""
    free = np.array([i for i in range(num_players) if i != anchor], dtype=np.int64)
    r = np.zeros(num_players)
    i, j = ij[:, 0], ij[:, 1]

    def loglik(r: np.ndarray) -> float:
        d = r[i] - r[j]
        return float(
            (points * -np.logaddexp(0.0, -d) + (games - points) * -np.logaddexp(0.0, d)).sum()
        )

    current = loglik(r)
    for _ in range(200):
        p = 1.0 / (1.0 + np.exp(-(r[i] - r[j])))
        resid = points - games * p
        grad = np.zeros(num_players)
        np.add.at(grad, i, resid)
        np.add.at(grad, j, -resid)
        h = _fisher(num_players, ij, games, r)[np.ix_(free, free)]
        g = grad[free]
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(h, g, rcond=None)[0]
        t = 1.0
        while True:  # backtracking keeps every step an ascent step
            trial = r.copy()
            trial[free] += t * step
            value = loglik(trial)
            if value >= current - 1e-12 or t < 1e-6:
                break
            t *= 0.5
        r, current = trial, value
        if np.max(np.abs(t * step)) < 1e-10:
            break
    return r


def covariance(
    num_players: int, ij: np.ndarray, games: np.ndarray, rating_elo: np.ndarray, anchor: int
) -> np.ndarray:
    """Covariance of the ratings (Elo²) from the inverse Fisher information, anchor fixed at 0.

    The normal approximation to the likelihood around its maximum: cheap enough to refit after
    every batch, and exact for linear combinations (an Elo difference, an interpolation between
    two budgets), whose variance is c' Σ c. Games are treated as independent, which for
    colour-swapped pairs overstates the variance slightly (the pair's two games are negatively
    correlated when the opening favours one side), so the intervals err wide."""
    free = np.array([k for k in range(num_players) if k != anchor], dtype=np.int64)
    hess = _fisher(num_players, ij, games, rating_elo / ELO_SCALE)[np.ix_(free, free)]
    cov = np.zeros((num_players, num_players))
    try:
        inner = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        inner = np.linalg.pinv(hess)
    cov[np.ix_(free, free)] = inner * ELO_SCALE**2
    return cov


def _check_connected(players: list[str], ij: np.ndarray, anchor: int) -> None:
    seen = {anchor}
    frontier = [anchor]
    while frontier:
        node = frontier.pop()
        for a, b in ij:
            for x, y in ((a, b), (b, a)):
                if x == node and y not in seen:
                    seen.add(int(y))
                    frontier.append(int(y))
    lost = [players[k] for k in range(len(players)) if k not in seen]
    if lost:
        raise PonderError(
            f"cannot rate {', '.join(lost)}: no chain of games links them to {players[anchor]}"
        )


MAX_BOOTSTRAP = 100_000


def fit_ratings(
    pairings: Sequence[PairingCounts],
    anchor: str | None = None,
    prior_draws: float = 1.0,
    bootstrap: int = 200,
    seed: int = 0,
    players: Sequence[str] | None = None,
    fisher: bool = False,
) -> RatingTable:
    """Joint maximum-likelihood Elo ratings of every player in `pairings`.

    `anchor` is held at 0 (default: `random` when present, else the first player). With
    `bootstrap` > 0 the 95% intervals come from refitting on resampled game pairs; with
    `fisher` they are rating -+ 1.96 sd from `covariance` instead (kept in `table.cov`).
    """
    if not 0 <= bootstrap <= MAX_BOOTSTRAP:
        raise PonderError(f"bootstrap {bootstrap} must be 0 to {MAX_BOOTSTRAP:,} resamples")
    names = _rated_names(pairings, players)
    anchor = _resolve_anchor(anchor, names)
    a = names.index(anchor)
    played = [p for p in pairings if p.games > 0]
    ij, games, points = _aggregate(names, played)
    _check_connected(names, ij, a)
    prior_games = np.full(len(played), float(prior_draws))
    rating = _fit(len(names), ij, games + prior_games, points + prior_games / 2, a) * ELO_SCALE

    lower, upper = rating.copy(), rating.copy()
    cov = None
    if fisher:
        cov = covariance(len(names), ij, games + prior_games, rating, a)
        half = Z95 * np.sqrt(np.maximum(np.diag(cov), 0.0))
        lower, upper = rating - half, rating + half
    elif bootstrap > 0 and played:
        samples = _bootstrap_samples(
            names, played, ij, games, points, prior_games, a, bootstrap, seed
        )
        lower, upper = np.quantile(samples, [0.025, 0.975], axis=0)

    per_games, per_points = _player_totals(len(names), ij, games, points)
    return RatingTable(
        players=names,
        rating=rating,
        lower=np.asarray(lower),
        upper=np.asarray(upper),
        games=per_games,
        points=per_points,
        anchor=anchor,
        prior_draws=float(prior_draws),
        bootstrap=0 if fisher else int(bootstrap),
        cov=cov,
    )


def _rated_names(pairings: Sequence[PairingCounts], players: Sequence[str] | None) -> list[str]:
    """`players` first, in their order, then anyone else in `pairings` as first met."""
    names = list(players or [])
    for p in pairings:
        for name in (p.a, p.b):
            if name not in names:
                names.append(name)
    if not names:
        raise PonderError("no games to rate")
    return names


def _resolve_anchor(anchor: str | None, names: list[str]) -> str:
    """The player held at 0: the one asked for, else `random` when rated, else the first."""
    if anchor is None:
        anchor = "random" if "random" in names else names[0]
    if anchor not in names:
        raise PonderError(f"anchor {anchor!r} is not among the rated players: {', '.join(names)}")
    return anchor


def _bootstrap_samples(
    names: list[str],
    played: list[PairingCounts],
    ij: np.ndarray,
    games: np.ndarray,
    points: np.ndarray,
    prior_games: np.ndarray,
    anchor: int,
    bootstrap: int,
    seed: int,
) -> np.ndarray:
    """Ratings (bootstrap, players) refitted on game pairs resampled within each pairing."""
    rng = np.random.default_rng(seed)
    samples = np.empty((bootstrap, len(names)))
    penta = np.array([p.pentanomial for p in played], dtype=np.float64)
    pairs = penta.sum(axis=1)
    # Games outside pairs (if any) enter every resample unchanged.
    extra_games = games - 2 * pairs
    extra_points = points - (penta * PAIR_POINTS).sum(axis=1)
    probs = penta / np.maximum(pairs, 1)[:, None]
    for s in range(bootstrap):
        draw = np.stack(
            [
                rng.multinomial(int(n), pr) if n else np.zeros(5)
                for n, pr in zip(pairs, probs, strict=True)
            ]
        )
        g = 2 * pairs + extra_games + prior_games
        pts = (draw * PAIR_POINTS).sum(axis=1) + extra_points + prior_games / 2
        samples[s] = _fit(len(names), ij, g, pts, anchor) * ELO_SCALE
    return samples


def _player_totals(
    num_players: int, ij: np.ndarray, games: np.ndarray, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Games played and points scored by each player, summed over its pairings (no prior)."""
    per_games = np.zeros(num_players)
    per_points = np.zeros(num_players)
    for (x, y), n, pts in zip(ij, games, points, strict=True):
        per_games[x] += n
        per_games[y] += n
        per_points[x] += pts
        per_points[y] += n - pts
    return per_games, per_points
