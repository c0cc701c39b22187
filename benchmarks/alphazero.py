"""AlphaZero on connect four: strength against wall clock and training compute.

    python benchmarks/alphazero.py --out runs/bench-c4 --minutes 120 [--quick]

1. Trains through the real CLI (`ponder train az --config configs/connect_four.yaml`), or
   continues the run with `--resume` when `--out` already holds one, until the run's total
   training time reaches `--minutes`. Evaluation inside the run is switched off so that the
   measured minutes are training minutes; every checkpoint is kept.
2. Evaluates up to `--points` checkpoints spread over the run (results are cached in the run
   directory, so a re-run only evaluates new ones): the checkpoint searching `--sims`
   simulations per move against UCT with random rollouts at 1,000 and 10,000 simulations
   (arena matches over the 49 two-ply openings, both colours), and the share of optimal moves
   on positions labelled by the exact solver (`ponder.envs.solvers.connect_four`).
3. Writes benchmarks/results/alphazero.json and a curve, benchmarks/results/alphazero.png
   (`_quick` names with --quick).

Goal on 2 cores within 2 hours: a score (win 1, draw 1/2) of >= 95% against uct:1000 and
>= 90% against uct:10000, and >= 96% optimal moves.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS_DIR, LoadSampler, cpu_model, write_result

ROOT = Path(__file__).resolve().parent.parent
GAME = "connect_four"
OPPONENTS = ("uct:1000", "uct:10000")
GOALS = {"uct_1000_score": 0.95, "uct_10000_score": 0.90, "optimal_move_share": 0.96}
QUICK_OVERRIDES = [
    "network.blocks=1",
    "network.channels=16",
    "network.value_hidden=16",
    "selfplay.concurrent_games=16",
    "selfplay.search.num_simulations=16",
    "selfplay.fast_simulations=0",
    "selfplay.full_search_prob=1.0",
    "train.batch_size=64",
    "train.min_replay=300",
    "checkpoint.every=20",
]


def ponder_cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from ponder.cli import main; main()", *args]


def train(out: Path, minutes: float, workers: int | None, extra: list[str]) -> list[str]:
    """Run (or continue) the training; returns the exact command used."""
    overrides = [f"run.minutes={minutes}", *extra]
    if (out / "config.yaml").is_file():
        args = ["train", "az", "--resume", str(out)]
    else:
        overrides = [
            "eval.every=1000000000",  # evaluation happens afterwards, off the clock
            "checkpoint.keep=100000",
            "run.stop_when={}",
            "run.steps=100000000",  # the time budget decides
            *overrides,
        ]
        args = ["train", "az", "--config", str(ROOT / "configs" / f"{GAME}.yaml")]
        args += ["--out", str(out)]
    if workers:
        args += ["--workers", str(workers)]
    for item in overrides:
        args += ["--set", item]
    command = ponder_cli(*args)
    # Training's progress lines go to stderr so that stdout stays the JSON result.
    with LoadSampler() as load:
        subprocess.run(command, check=True, stdout=sys.stderr)
    # The recorded command names the config as the repository does, not as this machine does.
    shown = [a.replace(str(ROOT) + "/", "") for a in args]
    record_training(out, ["ponder", *shown], load.summary())
    return ["ponder", *shown]


def record_training(out: Path, command: list[str], load: dict[str, float | None]) -> None:
    """Append one training call (command, CPU, load average while it ran) to the run's record,
    so that an evaluation-only call (`--skip-training`) still reports how the run was made."""
    path = out / "benchmark_training.json"
    calls = json.loads(path.read_text()) if path.is_file() else []
    calls.append({"command": command, "cpu": cpu_model(), "load_average_training": load})
    path.write_text(json.dumps(calls, indent=1))


def training_record(out: Path) -> list[dict[str, Any]]:
    path = out / "benchmark_training.json"
    return json.loads(path.read_text()) if path.is_file() else []


def checkpoint_points(out: Path, points: int) -> list[tuple[int, Path]]:
    """Up to `points` checkpoints evenly spread over the run, always including the last."""
    stems = sorted((out / "checkpoints").glob("ckpt_*.json"))
    found = [(int(p.stem.split("_")[1]), p.with_suffix("")) for p in stems]
    if len(found) <= points:
        return found
    picks = np.unique(np.linspace(0, len(found) - 1, points).round().astype(int))
    return [found[i] for i in picks]


def labelled_positions(out: Path, count: int, seed: int = 0) -> list[dict[str, Any]]:
    """Positions from random play, 6-30 plies in, each with the solver's optimal moves; only
    positions where some legal move is not optimal count (elsewhere every move is right)."""
    cache = out / "benchmark_positions.json"
    if cache.is_file():
        cached = json.loads(cache.read_text())
        if len(cached) >= count:
            return cached[:count]
    from ponder.envs.registry import get_game
    from ponder.envs.solvers.connect_four import solve

    game = get_game(GAME)
    rng = np.random.default_rng(seed)
    positions: list[dict[str, Any]] = []
    while len(positions) < count:
        state = game.new_states(1)[0]
        moves: list[int] = []
        target = int(rng.integers(6, 31))
        while len(moves) < target and not game.is_terminal(state):
            action = int(rng.choice(game.legal_actions(state)))
            game.play(state, action)
            moves.append(action)
        if game.is_terminal(state):
            continue
        try:
            result = solve(state, max_nodes=5_000_000)
        except RuntimeError:  # too deep for the node budget: skip rather than wait
            continue
        best = [int(a) for a in result.best_actions]
        if len(best) < len(game.legal_actions(state)):
            positions.append({"moves": moves, "best": best, "value": int(result.value)})
    cache.write_text(json.dumps(positions))
    return positions


def optimal_share(stem: Path, sims: int, positions: list[dict[str, Any]]) -> float:
    from ponder.agents.alphazero.player import load_checkpoint_player
    from ponder.envs.registry import get_game

    game = get_game(GAME)
    states = game.new_states(len(positions))
    for row, position in zip(states, positions, strict=True):
        for action in position["moves"]:
            game.play(row, action)
    player = load_checkpoint_player(str(stem), sims, 0.0, game)
    player.start(game, len(positions), 0)
    actions, _ = player.act(
        states, [p["moves"] for p in positions], np.arange(len(positions), dtype=np.int64)
    )
    hits = [int(a) in p["best"] for a, p in zip(actions, positions, strict=True)]
    return float(np.mean(hits))


def evaluate(stem: Path, sims: int, games: int, positions: list[dict[str, Any]]) -> dict[str, Any]:
    from ponder.arena.match import play_match
    from ponder.checkpoint import read_metadata

    meta = read_metadata(stem)
    point: dict[str, Any] = {
        "checkpoint": stem.name,
        "step": meta["step"],
        "wall_minutes": meta["compute"]["wall_seconds"] / 60,
        "compute": meta["compute"],
    }
    for opponent in OPPONENTS:
        start = time.perf_counter()
        result = play_match(GAME, f"{stem}@{sims}", opponent, games, seed=0)
        key = opponent.replace(":", "_")
        point[key] = {
            "wins": result.wins,
            "draws": result.draws,
            "losses": result.losses,
            "win_rate": result.wins / result.num_games,
            "score": result.score,
            "seconds": round(time.perf_counter() - start, 1),
        }
        point[f"{key}_win_rate"] = result.wins / result.num_games
        point[f"{key}_score"] = result.score
    point["optimal_move_share"] = optimal_share(stem, sims, positions)
    return point


def plot(points: list[dict[str, Any]], path: Path, title: str) -> None:
    """Score against both UCT opponents and the optimal-move share, against wall clock and
    against training compute (self-play positions, network evaluations)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharey=True)
    xs = {
        "training wall clock (minutes)": [p["wall_minutes"] for p in points],
        "self-play positions": [p["compute"]["selfplay_positions"] for p in points],
        "network evaluations": [p["compute"].get("network_evaluations", 0) for p in points],
    }
    for ax, (label, x) in zip(axes, xs.items(), strict=True):
        ax.plot(
            x, [point_value(p, "uct_1000_score") for p in points], "o-", label="score vs uct:1000"
        )
        ax.plot(
            x, [point_value(p, "uct_10000_score") for p in points], "s-", label="score vs uct:10000"
        )
        ax.plot(x, [p["optimal_move_share"] for p in points], "^-", label="optimal moves")
        for goal in GOALS.values():
            ax.axhline(goal, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel(label)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("score / share (dashed: goals)")
    axes[0].legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def point_value(point: dict[str, Any], key: str) -> float | None:
    """A point's figure; points cached before the `*_score` fields keep it one level down."""
    value = point.get(key)
    if value is None and key.endswith("_score"):
        value = point.get(key.removesuffix("_score"), {}).get("score")
    return value


def first_reaching(points: list[dict[str, Any]], key: str, goal: float) -> dict | None:
    for p in points:
        value = point_value(p, key)
        if value is not None and value >= goal:
            return {"step": p["step"], "wall_minutes": round(p["wall_minutes"], 2)}
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-connect-four"))
    parser.add_argument("--minutes", type=float, default=120.0, help="total training time")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--points", type=int, default=10, help="checkpoints to evaluate")
    parser.add_argument("--games", type=int, default=100, help="games per opponent")
    parser.add_argument("--sims", type=int, default=200, help="simulations per move")
    parser.add_argument("--positions", type=int, default=500, help="solver-labelled positions")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--skip-training", action="store_true", help="only (re)evaluate")
    parser.add_argument(
        "--cached-only",
        action="store_true",
        help="report the checkpoints already evaluated (in the run's benchmark_eval.json) "
        "and evaluate nothing new",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    args = parser.parse_args()
    extra = list(args.overrides)
    if args.quick:
        args.minutes, args.points, args.games = min(args.minutes, 1.0), 2, 2
        args.sims, args.positions = 16, 20
        if not (args.out / "config.yaml").is_file():
            extra = QUICK_OVERRIDES + extra

    import torch

    torch.set_num_threads(1)  # small batches: extra threads only contend on a busy machine
    if not args.skip_training:
        train(args.out, args.minutes, args.workers, extra)
    calls = training_record(args.out)
    cache_path = args.out / "benchmark_eval.json"
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    positions = labelled_positions(args.out, args.positions)
    points = []
    chosen = checkpoint_points(args.out, args.points)
    if args.cached_only:
        suffix = f"@{args.sims}x{args.games}x{len(positions)}"
        stems = sorted((args.out / "checkpoints").glob("ckpt_*.json"))
        chosen = [
            (int(p.stem.split("_")[1]), p.with_suffix(""))
            for p in stems
            if f"{p.stem}{suffix}" in cache
        ]
    for _, stem in chosen:
        key = f"{stem.name}@{args.sims}x{args.games}x{len(positions)}"
        if key not in cache:
            cache[key] = evaluate(stem, args.sims, args.games, positions)
            cache_path.write_text(json.dumps(cache, indent=1))
        points.append(cache[key])

    name = "alphazero"
    png = RESULTS_DIR / f"{name}{'_quick' if args.quick else ''}.png"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    plot(points, png, f"AlphaZero on connect four ({args.sims} simulations per move)")
    last = points[-1] if points else {}
    results = {
        "game": GAME,
        "run": str(args.out),
        "training_command": calls[0]["command"] if calls else None,
        "training_calls": calls,
        # The figures' context: the load while training ran (machine.load_average_1m is the
        # load when this report was written; the evaluation's fixed budgets do not depend on it).
        "load_average_training": [c["load_average_training"] for c in calls],
        "player_simulations": args.sims,
        "games_per_opponent": args.games,
        "labelled_positions": len(positions),
        "points": points,
        "final": {
            k: last.get(k)
            for k in ("step", "wall_minutes", *GOALS, "uct_1000_win_rate", "uct_10000_win_rate")
        },
        "goals": {
            key: {"target": goal, "first_reached": first_reaching(points, key, goal)}
            for key, goal in GOALS.items()
        },
        "curve": str(png.relative_to(ROOT)),
    }
    write_result(name, results, quick=args.quick, packages=("ray",))


if __name__ == "__main__":
    main()
