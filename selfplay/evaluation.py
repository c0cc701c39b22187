"""The evaluator: at intervals, the latest weights play fixed baselines through the arena.

Matches run in their own actor so that training never waits for them; results come back as
flat metrics (`<opponent>_win_rate`, `_draw_rate`, `_loss_rate`, `_score`, `_elo`, `_elo_low`,
`_elo_high`), plus, with `eval.exhaustive`, `exhaustive_optimal_rate`, `_mistakes` and
`_positions` from `ponder.arena.perfect` (every reachable position checked against the exact
solver), that the driver logs and that `run.stop_when` can name. Matches start from the
arena's opening sets (`eval.openings`), so they cover what a user's `ponder pit` covers.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

SOLVER_SPEC = "solver"
MATCH_METRICS = ("win_rate", "draw_rate", "loss_rate", "score", "elo", "elo_low", "elo_high")


def opponent_specs(cfg: Any, has_solver: bool) -> list[str]:
    """eval.opponents, plus the exact solver when eval.solver is on and the game has one."""
    specs = list(cfg.eval.opponents)
    if cfg.eval.solver and has_solver and SOLVER_SPEC not in specs:
        specs.append(SOLVER_SPEC)
    return specs


def metric_prefix(spec: str) -> str:
    """`uct:1000` -> `uct_1000`: a name TensorBoard and stop_when keys can carry."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", spec).strip("_")


def match_metrics(spec: str, result: Any) -> dict[str, float]:
    """W/D/L shares, score, and the Elo difference with its 95% interval where finite (a
    perfect score has an infinite Elo, which TensorBoard and JSON cannot carry)."""
    games = result.wins + result.draws + result.losses
    prefix = metric_prefix(spec)
    metrics = {
        f"{prefix}_win_rate": result.wins / games,
        f"{prefix}_draw_rate": result.draws / games,
        f"{prefix}_loss_rate": result.losses / games,
        f"{prefix}_score": float(result.score),
    }
    low, high = result.elo_ci
    for name, value in (("elo", result.elo), ("elo_low", low), ("elo_high", high)):
        if math.isfinite(value):
            metrics[f"{prefix}_{name}"] = float(value)
    return metrics


def metric_names(cfg: Any, has_solver: bool) -> list[str]:
    """Every metric an evaluation under `cfg` reports: what `run.stop_when` may name."""
    from ponder.arena.perfect import METRICS

    names = [
        f"{metric_prefix(spec)}_{name}"
        for spec in opponent_specs(cfg, has_solver)
        for name in MATCH_METRICS
    ]
    return names + (list(METRICS) if cfg.eval.exhaustive else [])


def check_stop_when(cfg: Any, has_solver: bool) -> None:
    """A stop_when key the evaluation never reports would never fire: refuse it up front."""
    from ponder.errors import PonderError, short

    known = metric_names(cfg, has_solver)
    for key in cfg.run.stop_when:
        if key not in known:
            raise PonderError(
                f"run.stop_when key {short(key)} is not a metric the evaluation reports; "
                f"known: {', '.join(known) or 'none (no opponents and no exhaustive check)'}"
            )


class MatchJudge:
    """The evaluation actor: plays the learner's latest weights against the run's evaluation
    opponents in arena matches and reports the metrics `run.stop_when` may name. (Not a
    leaf evaluator: those turn positions into priors and values for the search.)"""

    def __init__(self, config: dict[str, Any], threads: int = 1):
        import torch

        from ponder.agents.alphazero.config import AZConfig
        from ponder.envs.registry import get_game
        from ponder.envs.solvers import get_solver

        torch.set_num_threads(threads)
        self.cfg = AZConfig.model_validate(config)
        self.game = get_game(self.cfg.game)
        self.opponents = opponent_specs(self.cfg, get_solver(self.cfg.game) is not None)

    def evaluate(self, weights: dict[str, Any], step: int) -> dict[str, Any]:
        """Play every opponent; returns flat metrics plus the per-opponent W/D/L."""
        from ponder.agents.alphazero.player import network_player
        from ponder.arena.match import play_match

        start = time.perf_counter()
        player = network_player(
            weights,
            self.game,
            self.cfg.network,
            self.cfg.eval.simulations,
            0.0,
            f"alphazero@{step}:{self.cfg.eval.simulations}",
            search=self.cfg.selfplay.search,  # the player turns noise and tree reuse off
        )
        metrics: dict[str, float] = {}
        table: list[dict[str, Any]] = []
        exhaustive = None
        if self.cfg.eval.exhaustive:
            from ponder.arena.perfect import perfect_play_report

            report = perfect_play_report(
                self.game, player, repeats=self.cfg.eval.exhaustive_seeds, seed=step
            )
            metrics.update(report.metrics())
            exhaustive = report.describe(self.game)
        for spec in self.opponents:
            result = play_match(
                self.game,
                player,
                spec,
                self.cfg.eval.games,
                seed=step,
                workers=0,
                openings=self.cfg.eval.openings,
                progress=False,
            )
            metrics.update(match_metrics(spec, result))
            table.append(
                {
                    "opponent": spec,
                    "wins": result.wins,
                    "draws": result.draws,
                    "losses": result.losses,
                    "score": result.score,
                }
            )
        return {
            "step": step,
            "metrics": metrics,
            "table": table,
            "exhaustive": exhaustive,
            "seconds": time.perf_counter() - start,
        }
