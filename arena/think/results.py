"""From the study's games to its numbers: each player's rating and compute, and the fits."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ponder.arena.think.fits import (
    Curve,
    difference,
    doubling_gains,
    elo_per_doubling,
    exchange_rate,
    gain_at_equal_compute,
)
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
    spend = study.cache.spend()
    players = []
    for k, p in enumerate(study.roster):
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
            t = p.checkpoint.training
            row.update(
                {
                    "step": t.step,
                    "budget": p.budget,
                    "root": p.root,
                    "adapt": p.adapt,
                    "training": t.to_dict(),
                    "test_evaluations_per_move": evals[p.spec],
                    "test_macs_per_move": evals[p.spec] * t.macs_per_evaluation,
                    "moves_measured": spend[p.spec].moves if p.spec in spend else 0,
                }
            )
        if p.spec in shares:
            row["optimal_move_share"] = shares[p.spec]
        players.append(row)

    solver = [k for k, p in enumerate(study.roster) if p.spec.startswith(("solver", "minimax"))]
    ceiling = float(rating[solver[0]]) if solver else float(rating.max())
    puct = curves(study, evals, "puct")
    gumbel = curves(study, evals, "gumbel")
    per_checkpoint = []
    for curve in puct:
        slope = elo_per_doubling(curve, rating, cov, ceiling)
        top = curve.indices[-1]
        lift = difference(top, curve.indices[0], rating, cov)
        best = max(curve.indices, key=lambda k: rating[k])
        per_checkpoint.append(
            {
                "checkpoint": curve.label,
                "training_macs": curve.training_macs,
                "training_wall_minutes": study.roster[
                    curve.indices[0]
                ].checkpoint.training.wall_seconds
                / 60,
                "system1_elo": float(rating[curve.indices[0]]),
                "top_budget_elo": float(rating[top]),
                "best_player": study.roster[best].name,
                "search_lift_at_top_budget": lift.to_dict(),
                "elo_per_doubling": slope.to_dict() if slope else None,
                "doubling_gains": doubling_gains(curve, rating, cov),
            }
        )
    indices = sorted({k for c in puct for k in c.indices})
    macs = np.array([study.roster[k].checkpoint.training.macs for k in indices])
    tests = np.array([evals[specs[k]] for k in indices])
    fit = exchange_rate(indices, macs, tests, rating, cov, ceiling, seed=study.options.seed)

    gumbel_vs_puct = []
    index = {p.spec: k for k, p in enumerate(study.roster)}
    for k, p in enumerate(study.roster):
        if p.checkpoint is None or p.root != "gumbel" or p.adapt > 0:
            continue
        twin = index.get(f"{p.checkpoint.stem}@{p.budget}:root=puct")
        if twin is not None:
            gumbel_vs_puct.append(
                {
                    "checkpoint": p.name.split("@")[0],
                    "budget": p.budget,
                    "gumbel_minus_puct": difference(k, twin, rating, cov).to_dict(),
                }
            )
    adaptive = []
    by_label = {c.label: c for c in puct}
    for k, p in enumerate(study.roster):
        if p.adapt <= 0 or p.checkpoint is None:
            continue
        curve = by_label.get(p.name.split("@")[0])
        gain = gain_at_equal_compute(k, evals[p.spec], curve, rating, cov) if curve else None
        adaptive.append(
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
    widest = float(half.max())
    return {
        "game": study.game.name,
        "run": str(study.options.run),
        "stop_reason": study.stop_reason,
        "games": study.cache.games,
        "play_seconds": round(study.cache.seconds, 1),
        "widest_ci95_half_width": widest if math.isfinite(widest) else None,
        "ceiling": {"elo": ceiling, "player": specs[solver[0]] if solver else None},
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


def _curve_dict(curve: Curve, rating: np.ndarray, half: np.ndarray) -> dict[str, Any]:
    return {
        "checkpoint": curve.label,
        "training_macs": curve.training_macs,
        "budgets": curve.budgets,
        "test_evaluations_per_move": [float(x) for x in curve.test_evals],
        "elo": [float(rating[k]) for k in curve.indices],
        "ci95_half": [float(half[k]) for k in curve.indices],
    }
