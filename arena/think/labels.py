"""Optimal-move shares on solver-labelled positions, and what an adaptive budget spends where.

Positions come from uniformly random play to a random depth; each is labelled by the game's
exact solver with every optimal move, and only positions where some legal move is not optimal
are kept (elsewhere every move is right and the position measures nothing). Slow solvers
(connect four before move 8) start deeper and get a node budget; a position over it is skipped.
The labels are cached in the study folder.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np

from ponder.arena.think.fits import spearman
from ponder.checkpoint import atomic_write_json

SLOW_SOLVER_MIN_PLY = 8
SLOW_SOLVER_NODES = 5_000_000


def labelled_positions(game: Any, count: int, seed: int, cache: Path) -> list[dict[str, Any]]:
    """`count` labelled positions ({moves, best, value}); [] where the game has no solver."""
    from ponder.envs.solvers import SLOW_FROM_OPENINGS, get_solver

    solve = get_solver(game.name)
    if solve is None or count <= 0:
        return []
    if cache.is_file():
        cached = json.loads(cache.read_text())
        if cached.get("game") == game.name and len(cached.get("positions", [])) >= count:
            return cached["positions"][:count]
    slow = game.name in SLOW_FROM_OPENINGS
    kwargs = {}
    if "max_nodes" in inspect.signature(solve).parameters:
        kwargs["max_nodes"] = SLOW_SOLVER_NODES
    cells = game.board_shape[0] * game.board_shape[1]
    low = SLOW_SOLVER_MIN_PLY if slow else 0
    high = max(low + 1, int(0.6 * cells))
    rng = np.random.default_rng(seed)
    positions: list[dict[str, Any]] = []
    seen: set[tuple[int, ...]] = set()
    attempts = 0
    while len(positions) < count and attempts < 50 * count:
        attempts += 1
        state = game.new_states(1)[0]
        moves: list[int] = []
        target = int(rng.integers(low, high + 1))
        while len(moves) < target and not game.is_terminal(state):
            action = int(rng.choice(game.legal_actions(state)))
            game.play(state, action)
            moves.append(action)
        if game.is_terminal(state) or tuple(moves) in seen:
            continue
        try:
            result = solve(state, **kwargs)
        except RuntimeError:  # over the node budget: skip rather than wait
            continue
        best = [int(a) for a in result.best_actions]
        if len(best) < len(game.legal_actions(state)):
            seen.add(tuple(moves))
            positions.append(
                {
                    "moves": moves,
                    "best": best,
                    "value": int(result.value),
                    "legal": len(game.legal_actions(state)),
                }
            )
    atomic_write_json(cache, {"game": game.name, "positions": positions})
    return positions


def play_positions(
    spec: str, game: Any, positions: list[dict[str, Any]]
) -> tuple[np.ndarray, np.ndarray]:
    """The player's move on every position (one batch) and the evaluations each cost."""
    from ponder.arena.specs import make_player

    states = game.new_states(len(positions))
    for row, position in zip(states, positions, strict=True):
        for action in position["moves"]:
            game.play(row, action)
    player = make_player(spec, game)
    player.start(game, len(positions), 0)
    actions, info = player.act(
        states, [p["moves"] for p in positions], np.arange(len(positions), dtype=np.int64)
    )
    spent = (
        np.asarray(info.evaluations)
        if info is not None and info.evaluations is not None
        else np.zeros(len(positions), dtype=np.int64)
    )
    return np.asarray(actions, dtype=np.int64), spent


def optimal_hits(actions: np.ndarray, positions: list[dict[str, Any]]) -> np.ndarray:
    return np.array([int(a) in p["best"] for a, p in zip(actions, positions, strict=True)])


def spend_by_difficulty(
    spent: np.ndarray, raw_hits: np.ndarray, positions: list[dict[str, Any]]
) -> dict[str, Any]:
    """How an adaptive player's spend follows difficulty: rank correlation with the share of
    losing moves and with the raw policy's mistakes, and mean spend on each kind of position."""
    wrong_share = [1.0 - len(p["best"]) / p["legal"] for p in positions]
    raw_wrong = (~raw_hits).astype(np.float64)
    return {
        "spearman_spend_vs_wrong_move_share": spearman(spent, wrong_share),
        "spearman_spend_vs_raw_policy_error": spearman(spent, raw_wrong),
        "mean_spend_where_raw_policy_errs": float(spent[~raw_hits].mean())
        if (~raw_hits).any()
        else None,
        "mean_spend_where_raw_policy_is_right": float(spent[raw_hits].mean())
        if raw_hits.any()
        else None,
        "positions": len(positions),
    }
