"""The evaluator: at intervals, the latest weights play fixed baselines through the arena.

Matches run in their own actor so that training never waits for them; results come back as
flat metrics (`<opponent>_win_rate`, `_draw_rate`, `_loss_rate`, `_score`, `_elo`, `_elo_low`,
`_elo_high`)
that the driver logs and that `pipeline.stop_when` can name.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

SOLVER_SPEC = "solver"


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


def stop_reached(stop_when: dict[str, float], metrics: dict[str, float]) -> str | None:
    """The first satisfied `pipeline.stop_when` condition, as text, or None.

    Keys ending in `loss_rate` are upper bounds (stop once at or below); every other key is a
    lower bound (stop once at or above). Each needs the metric to have been measured.
    """
    for key, bound in stop_when.items():
        if key not in metrics:
            continue
        value = metrics[key]
        if key.endswith("loss_rate") and value <= bound:
            return f"{key}={value:.3f} <= {bound}"
        if not key.endswith("loss_rate") and value >= bound:
            return f"{key}={value:.3f} >= {bound}"
    return None


class Evaluator:
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
        table = []
        for spec in self.opponents:
            result = play_match(
                self.game, player, spec, self.cfg.eval.games, seed=step, workers=0, progress=False
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
            "seconds": time.perf_counter() - start,
        }
