"""Connect-four strength levers, one at a time, at equal wall clock.

    python benchmarks/ablations.py --variants baseline gumbel --minutes 30 [--cpu 0]
    python benchmarks/ablations.py --on adopted --variants adopted small_net ...

Each variant is `configs/connect_four.yaml` with one lever changed (`VARIANTS`), trained from
scratch through the real CLI for `--minutes` of training time (evaluation off, as in
benchmarks/alphazero.py), then its last checkpoint, searching `--sims` simulations, is scored by
that benchmark's evaluation: an arena match against uct:1000 over the two-ply openings (both
colours) and the share of optimal moves on solver-labelled positions. `--cpu N` pins the whole
run (its Ray actors included) to core N, so two variants can run side by side on a 2-core
machine without sharing a core; every variant of one table must run under the same pinning.

Per-variant results stay in the run directory (`ablation.json`); every call rewrites
benchmarks/results/alphazero_ablations.json (or `--result NAME`.json) from all finished variants
under `--root`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import LoadSampler, write_result
from alphazero import labelled_positions, optimal_share, train

# Every variant starts from configs/connect_four.yaml with the levers this table led it to
# adopt turned off again, so the table stays reproducible: that is the measured baseline.
BASE = ["selfplay.search.forced_playouts_k=0.0", "selfplay.value_target_q=0.0"]
# The levers the table led the config to adopt, put back by `--on adopted`.
ADOPTED = ["selfplay.search.forced_playouts_k=2.0", "selfplay.value_target_q=0.5"]
# Lever -> overrides on top of BASE (and of ADOPTED with `--on adopted`).
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "baseline": ("the config without the two adopted levers (PUCT 100 / PCR 25)", []),
    "adopted": (
        "forced playouts and the 0.5 q value mix together (configs/connect_four.yaml)",
        ADOPTED,
    ),
    "replica": (
        "the adopted config trained again from scratch (the run-to-run spread)",
        ADOPTED,
    ),
    "gumbel_32": (
        "Gumbel root, 32 full / 8 fast simulations, completed-Q policy targets",
        [
            "selfplay.search.gumbel=true",
            "selfplay.search.forced_playouts_k=0.0",  # a PUCT-root lever (off in BASE already)
            "selfplay.search.num_simulations=32",
            "selfplay.fast_simulations=8",
        ],
    ),
    "value_mix_q": ("value target 0.5 z + 0.5 root q", ["selfplay.value_target_q=0.5"]),
    "value_wdl": (
        "win/draw/loss value head and loss",
        ["network.value_head=wdl", "train.value_loss=wdl"],
    ),
    "forced_playouts": (
        "KataGo forced playouts k=2 with policy target pruning",
        ["selfplay.search.forced_playouts_k=2.0"],
    ),
    "one_cycle": (
        "one-cycle learning rate over 1,100 learner steps (about the run; peak 0.004)",
        ["train.lr=0.004", "train.lr_schedule=[]", "train.lr_cycle_steps=1100"],
    ),
    "window_growth": (
        "replay window growing from 20,000 positions (KataGo)",
        ["train.replay_window_start=20000"],
    ),
    "small_net": (
        "3 residual blocks instead of 5 (more positions per second)",
        ["network.blocks=3"],
    ),
    "sample_ratio_2": (
        "2 learner samples per new position instead of 4 (more self-play per learner step)",
        ["train.sample_ratio=2.0"],
    ),
    "sample_ratio_8": (
        "8 learner samples per new position instead of 4 (more learning per position)",
        ["train.sample_ratio=8.0"],
    ),
    "no_pcr": (
        "no playout cap randomization: every move a full 100-simulation search",
        ["selfplay.fast_simulations=0", "selfplay.full_search_prob=1.0"],
    ),
}
# Not an AlphaZero lever: model-free PPO league self-play (RLlib) with the same network and the
# same wall clock, scored the same way (its net guiding 200 simulations) and as a raw policy.
PPO = "ppo_selfplay"
PPO_LEVER = "RLlib PPO league self-play, same 5x64 network (not AlphaZero)"
RESULT_NAME = "alphazero_ablations"


def last_checkpoint(out: Path) -> Path:
    stems = sorted((out / "checkpoints").glob("ckpt_*.json"), key=lambda p: int(p.stem[5:]))
    if not stems:
        raise SystemExit(f"error: {out} holds no checkpoint")
    return stems[-1].with_suffix("")


def score(stem: Path, sims: int, games: int, positions: list[dict[str, Any]]) -> dict[str, Any]:
    from ponder.arena.match import play_match
    from ponder.checkpoint import read_metadata

    meta = read_metadata(stem)
    compute = meta["compute"]
    wall = compute["wall_seconds"]
    generated = compute.get("selfplay_positions", compute.get("env_steps", 0))
    match = play_match("connect_four", f"{stem}@{sims}", "uct:1000", games, seed=0)
    return {
        "checkpoint": stem.name,
        "learner_steps": meta["step"],
        "wall_minutes": round(wall / 60, 2),
        "positions_per_second": round(generated / wall, 1),
        "evaluations_per_second": round(compute.get("network_evaluations", generated) / wall, 1),
        "compute": compute,
        "uct_1000": {
            "wins": match.wins,
            "draws": match.draws,
            "losses": match.losses,
            "score": match.score,
        },
        "optimal_move_share": round(optimal_share(stem, sims, positions), 4),
    }


def score_interval(wins: int, draws: int, losses: int) -> tuple[float, float]:
    """Mean game score (win 1, draw 1/2) and the half-width of its normal 95% interval."""
    n = wins + draws + losses
    mean = (wins + 0.5 * draws) / n
    second = (wins + 0.25 * draws) / n
    return mean, 1.96 * math.sqrt(max(second - mean * mean, 0.0) / n)


def markdown_table(variants: list[dict[str, Any]]) -> str:
    """The README's ablation table, the reference row (baseline, or adopted for `--on
    adopted`) first."""
    reference = {v.get("on", "baseline") for v in variants}
    first = "adopted" if reference == {"adopted"} else "baseline"
    rows = sorted(variants, key=lambda v: (v["variant"] != first, v["variant"]))
    lines = [
        "| variant | lever | positions/s | learner steps | vs uct:1000 (W-D-L) | score"
        " | optimal moves |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for v in rows:
        m = v["uct_1000"]
        mean, half = score_interval(m["wins"], m["draws"], m["losses"])
        share = v["optimal_move_share"]
        lines.append(
            f"| {v['variant']} | {v['lever']} | {v['positions_per_second']:.1f} | "
            f"{v['learner_steps']:,} | {m['wins']}-{m['draws']}-{m['losses']} | "
            f"{100 * mean:.1f}% +- {100 * half:.1f} | {100 * share:.1f}% |"
        )
    return "\n".join(lines)


def train_ppo(out: Path, minutes: float) -> list[str]:
    """PPO league self-play through examples/rllib_ppo_selfplay.py (5x64 net, as the config)."""
    args = ["--game", "connect_four", "--minutes", str(minutes), "--out", str(out)]
    script = Path(__file__).resolve().parent.parent / "examples" / "rllib_ppo_selfplay.py"
    subprocess.run([sys.executable, str(script), *args], check=True, stdout=sys.stderr)
    return ["python", "examples/rllib_ppo_selfplay.py", *args]


def variant_overrides(name: str, on: str) -> list[str]:
    """The config overrides of a variant on a reference; a lever already in the reference is
    not repeated, and `baseline` has no meaning on the adopted reference."""
    if name == PPO:
        return []
    if on == "adopted" and name == "baseline":
        raise SystemExit("error: --on adopted has no baseline row; use --on baseline for it")
    reference = ADOPTED if on == "adopted" else []
    lever = [o for o in VARIANTS[name][1] if o not in reference]
    return [*BASE, *reference, *lever]


def run_variant(name: str, args: argparse.Namespace) -> dict[str, Any]:
    out = args.root / name
    done = out / "ablation.json"
    if done.is_file():
        return json.loads(done.read_text())
    description = VARIANTS[name][0] if name in VARIANTS else PPO_LEVER
    overrides = variant_overrides(name, args.on)
    with LoadSampler() as load:
        command = (
            train_ppo(out, args.minutes)
            if name == PPO
            else train(out, args.minutes, None, overrides)
        )
    positions = labelled_positions(args.root, args.positions)
    raw_policy = None
    if name == PPO:
        raw = score(last_checkpoint(out), 0, args.games, positions)
        raw_policy = {k: raw[k] for k in ("uct_1000", "optimal_move_share")}
    result = {
        "variant": name,
        "lever": description,
        "on": args.on,
        "overrides": overrides,
        "training_command": command,
        "minutes": args.minutes,
        "pinned_cpu": args.cpu,
        "load_average_training": load.summary(),
        **score(last_checkpoint(out), args.sims, args.games, positions),
    }
    if raw_policy is not None:
        result["raw_policy"] = raw_policy
    done.write_text(json.dumps(result, indent=1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants", nargs="+", choices=sorted([*VARIANTS, PPO]), default=["baseline"]
    )
    parser.add_argument("--root", type=Path, default=Path("runs/ablations"))
    parser.add_argument("--minutes", type=float, default=30.0, help="training time per variant")
    parser.add_argument("--games", type=int, default=200, help="games against uct:1000")
    parser.add_argument("--sims", type=int, default=200, help="simulations per move")
    parser.add_argument("--positions", type=int, default=500, help="solver-labelled positions")
    parser.add_argument("--cpu", type=int, default=None, help="pin the runs to this core")
    parser.add_argument(
        "--on",
        choices=["baseline", "adopted"],
        default="baseline",
        help="change each lever on the measured baseline or on the config as it is",
    )
    parser.add_argument("--table", action="store_true", help="print the finished table only")
    parser.add_argument(
        "--result",
        default=RESULT_NAME,
        help="write benchmarks/results/RESULT.json (a side study keeps the main table intact)",
    )
    args = parser.parse_args()
    if args.table:
        finished = [json.loads(p.read_text()) for p in sorted(args.root.glob("*/ablation.json"))]
        print(markdown_table(finished))
        return
    if args.cpu is not None:
        if args.cpu not in os.sched_getaffinity(0):
            raise SystemExit(f"error: core {args.cpu} is not available to this process")
        os.sched_setaffinity(0, {args.cpu})  # Ray's processes, started below, inherit it
    import torch

    torch.set_num_threads(1)
    args.root.mkdir(parents=True, exist_ok=True)
    for name in args.variants:
        variant_overrides(name, args.on)  # refuse a bad pair before hours of training
    started = time.time()
    for name in args.variants:
        print(f"[{(time.time() - started) / 60:6.1f} min] {name}", file=sys.stderr, flush=True)
        run_variant(name, args)
    finished = [json.loads(p.read_text()) for p in sorted(args.root.glob("*/ablation.json"))]
    write_result(args.result, {"root": str(args.root), "variants": finished}, packages=("ray",))


if __name__ == "__main__":
    main()
