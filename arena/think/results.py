"""From the study's games to its numbers: each player's rating and compute, and the fits."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ponder.arena.ratings import RatingTable
from ponder.arena.think.cache import PlayerSpend
from ponder.arena.think.fits import (
    Curve,
    ExchangeFit,
    difference,
    doubling_gains,
    elo_per_doubling,
    exchange_rate,
    gain_at_equal_compute,
)
from ponder.arena.think.roster import StudyPlayer
from ponder.arena.think.schedule import half_widths
from ponder.arena.think.study import ANCHOR, Study


def _test_evals(study: Study) -> dict[str, float]:
    """Measured evaluations per move; the raw policy is one by construction."""
    spend = study.cache.spend()
    out = {}
    for p in study.roster:
        if p.checkpoint is None:
            continue
        measured = spend.get(p.spec)
        out[p.spec] = measured.per_move if measured and measured.moves else float(max(p.budget, 1))
        if p.budget == 0:
            out[p.spec] = 1.0
    return out


def curves(study: Study, evals: dict[str, float], root: str) -> list[Curve]:
    """Per checkpoint, its fixed-budget players of `root` from budget 0 up."""
    index = {p.spec: k for k, p in enumerate(study.roster)}
    by_ckpt: dict[str, list[int]] = {}
    for k, p in enumerate(study.roster):
        if p.checkpoint is None or p.adapt > 0 or (p.budget and p.root != root):
            continue
        by_ckpt.setdefault(str(p.checkpoint.stem), []).append(k)
    out = []
    for rows in by_ckpt.values():
        rows.sort(key=lambda k: study.roster[k].budget)
        if len(rows) < 2:
            continue
        first = study.roster[rows[0]]
        out.append(
            Curve(
                label=first.name.split("@")[0],
                indices=rows,
                budgets=[study.roster[k].budget for k in rows],
                test_evals=np.array([evals[study.roster[k].spec] for k in rows]),
                training_macs=first.checkpoint.training.macs,
            )
        )
    del index
    return sorted(out, key=lambda c: c.training_macs)


def summarize(study: Study, optimal: dict[str, Any] | None = None) -> dict[str, Any]:
    """The study's numbers as one JSON-ready dict: players, per-checkpoint curves and fits."""
    table = study.table
    if table is None or table.cov is None:
        return {"players": [], "stop_reason": study.stop_reason}
    optimal = optimal or {}
    shares = optimal.get("players", {})
    rating, cov = table.rating, table.cov
    half = half_widths(cov)
    specs = study.specs
    half[specs.index(ANCHOR)] = 0.0
    evals = _test_evals(study)
    players = _player_rows(study, table, half, evals, shares)
    ceiling = _ceiling(study, rating)
    puct = curves(study, evals, "puct")
    gumbel = curves(study, evals, "gumbel")
    per_checkpoint = [_checkpoint_row(study, c, rating, cov, ceiling["elo"]) for c in puct]
    fit = _exchange_fit(study, puct, evals, rating, cov, ceiling["elo"])
    gumbel_vs_puct = _gumbel_vs_puct(study, rating, cov)
    adaptive = _adaptive_rows(study, puct, evals, rating, cov, optimal)
    widest = float(half.max())
    return {
        "game": study.game.name,
        "run": str(study.options.run),
        "stop_reason": study.stop_reason,
        "games": study.cache.games,
        "play_seconds": round(study.cache.seconds, 1),
        "widest_ci95_half_width": widest if math.isfinite(widest) else None,
        "ceiling": ceiling,
        "ratings": {
            "model": "logistic Elo (Bradley-Terry), draws as half points, joint maximum "
            "likelihood; 95% intervals from the inverse Fisher information",
            "anchor": ANCHOR,
            "prior_draws": table.prior_draws,
        },
        "players": players,
        "per_checkpoint": per_checkpoint,
        "exchange": fit.to_dict() if fit else None,
        "gumbel_vs_puct": gumbel_vs_puct,
        "adaptive": adaptive,
        "optimal_positions": optimal.get("positions", 0),
        "curves": {
            "puct": [_curve_dict(c, rating, half) for c in puct],
            "gumbel": [_curve_dict(c, rating, half) for c in gumbel],
        },
    }


def _player_rows(
    study: Study,
    table: RatingTable,
    half: np.ndarray,
    evals: dict[str, float],
    shares: dict[str, Any],
) -> list[dict[str, Any]]:
    """One row per roster entry, in roster order, with the spend measured over every game."""
    spend = study.cache.spend()
    return [
        _player_row(k, p, table, half, evals, spend, shares) for k, p in enumerate(study.roster)
    ]


def _player_row(
    k: int,
    p: StudyPlayer,
    table: RatingTable,
    half: np.ndarray,
    evals: dict[str, float],
    spend: dict[str, PlayerSpend],
    shares: dict[str, Any],
) -> dict[str, Any]:
    """Rating, interval and score; checkpoints add their compute, solved games the share."""
    rating = table.rating
    row: dict[str, Any] = {
        "name": p.name,
        "spec": p.spec,
        "reference": p.is_reference,
        "elo": float(rating[k]),
        "ci95": [float(rating[k] - half[k]), float(rating[k] + half[k])],
        "games": int(table.games[k]),
        "score": float(table.points[k] / table.games[k]) if table.games[k] else None,
    }
    if p.checkpoint is not None:
        row.update(_compute_fields(p, evals, spend))
    if p.spec in shares:
        row["optimal_move_share"] = shares[p.spec]
    return row


def _compute_fields(
    p: StudyPlayer, evals: dict[str, float], spend: dict[str, PlayerSpend]
) -> dict[str, Any]:
    """A checkpoint player's search settings, training compute and measured test compute."""
    t = p.checkpoint.training
    return {
        "step": t.step,
        "budget": p.budget,
        "root": p.root,
        "adapt": p.adapt,
        "training": t.to_dict(),
        "test_evaluations_per_move": evals[p.spec],
        "test_macs_per_move": evals[p.spec] * t.macs_per_evaluation,
        "moves_measured": spend[p.spec].moves if p.spec in spend else 0,
    }


def _ceiling(study: Study, rating: np.ndarray) -> dict[str, Any]:
    """The top of the scale the fits saturate at: a solver's rating, else the best player's."""
    solver = [k for k, p in enumerate(study.roster) if p.spec.startswith(("solver", "minimax"))]
    elo = float(rating[solver[0]]) if solver else float(rating.max())
    return {"elo": elo, "player": study.specs[solver[0]] if solver else None}


def _checkpoint_row(
    study: Study, curve: Curve, rating: np.ndarray, cov: np.ndarray, ceiling: float
) -> dict[str, Any]:
    """One checkpoint's System 1 against System 2: its raw policy, top budget and slope."""
    slope = elo_per_doubling(curve, rating, cov, ceiling)
    top = curve.indices[-1]
    lift = difference(top, curve.indices[0], rating, cov)
    best = max(curve.indices, key=lambda k: rating[k])
    return {
        "checkpoint": curve.label,
        "training_macs": curve.training_macs,
        "training_wall_minutes": study.roster[curve.indices[0]].checkpoint.training.wall_seconds
        / 60,
        "system1_elo": float(rating[curve.indices[0]]),
        "top_budget_elo": float(rating[top]),
        "best_player": study.roster[best].name,
        "search_lift_at_top_budget": lift.to_dict(),
        "elo_per_doubling": slope.to_dict() if slope else None,
        "doubling_gains": doubling_gains(curve, rating, cov),
    }


def _exchange_fit(
    study: Study,
    puct: list[Curve],
    evals: dict[str, float],
    rating: np.ndarray,
    cov: np.ndarray,
    ceiling: float,
) -> ExchangeFit | None:
    """The train/test exchange rate over every player on a PUCT curve."""
    indices = sorted({k for c in puct for k in c.indices})
    specs = study.specs
    macs = np.array([study.roster[k].checkpoint.training.macs for k in indices])
    tests = np.array([evals[specs[k]] for k in indices])
    return exchange_rate(indices, macs, tests, rating, cov, ceiling, seed=study.options.seed)


def _gumbel_vs_puct(study: Study, rating: np.ndarray, cov: np.ndarray) -> list[dict[str, Any]]:
    """Each fixed-budget Gumbel-root player against its PUCT twin (same checkpoint, budget)."""
    out = []
    index = {p.spec: k for k, p in enumerate(study.roster)}
    for k, p in enumerate(study.roster):
        if p.checkpoint is None or p.root != "gumbel" or p.adapt > 0:
            continue
        twin = index.get(f"{p.checkpoint.stem}@{p.budget}:root=puct")
        if twin is not None:
            out.append(
                {
                    "checkpoint": p.name.split("@")[0],
                    "budget": p.budget,
                    "gumbel_minus_puct": difference(k, twin, rating, cov).to_dict(),
                }
            )
    return out


def _adaptive_rows(
    study: Study,
    puct: list[Curve],
    evals: dict[str, float],
    rating: np.ndarray,
    cov: np.ndarray,
    optimal: dict[str, Any],
) -> list[dict[str, Any]]:
    """Each adaptive player against its checkpoint's fixed-budget curve at equal compute."""
    out = []
    by_label = {c.label: c for c in puct}
    for k, p in enumerate(study.roster):
        if p.adapt <= 0 or p.checkpoint is None:
            continue
        curve = by_label.get(p.name.split("@")[0])
        gain = gain_at_equal_compute(k, evals[p.spec], curve, rating, cov) if curve else None
        out.append(
            {
                "player": p.name,
                "typical_budget": p.budget,
                "max_budget": round(p.adapt * p.budget),
                "evaluations_per_move": evals[p.spec],
                "elo": float(rating[k]),
                "gain_over_fixed_at_equal_compute": gain.to_dict() if gain else None,
                "spend_by_difficulty": optimal.get("adaptive", {}).get(p.spec),
            }
        )
    return out


def _curve_dict(curve: Curve, rating: np.ndarray, half: np.ndarray) -> dict[str, Any]:
    return {
        "checkpoint": curve.label,
        "training_macs": curve.training_macs,
        "budgets": curve.budgets,
        "test_evaluations_per_move": [float(x) for x in curve.test_evals],
        "elo": [float(rating[k]) for k in curve.indices],
        "ci95_half": [float(half[k]) for k in curve.indices],
    }
