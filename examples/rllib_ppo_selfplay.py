"""PPO self-play on a ponder board game with RLlib, exported as ponder checkpoints.

    python examples/rllib_ppo_selfplay.py --game connect_four --minutes 30 --out runs/ppo-c4
    python examples/rllib_ppo_selfplay.py --resume runs/ppo-c4 --minutes 60   # 30 more
    ponder pit runs/ppo-c4/checkpoints/ckpt_000000100@0 uct:1000 --games 100

ponder's own policy/value network runs inside an RLlib RLModule (illegal moves masked), with
league-style opponents: every --snapshot-every iterations a frozen copy joins, and the learner
meets one in --league-share of its games (itself in the rest). Checkpoints are AlphaZero-format,
so `CKPT@0` is the raw PPO policy and `CKPT@N` the same network guiding N simulations of search.
Each checkpoint also holds the league, Adam's state and the counters: `--resume DIR` goes on
from the latest one with the run's own settings, until --minutes of wall clock in all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ponder.errors import PonderError

SETTINGS = ("game", "blocks", "channels", "batch_size", "snapshot_every", "league_share",
            "checkpoint_every", "env_runners", "seed")  # fmt: skip


def start(args: argparse.Namespace) -> dict:
    from ponder.envs.registry import get_game
    from ponder.rundir import RunDir
    from ponder.selfplay import rllib_ppo

    get_game(args.game)  # a one-line error for an unknown name
    if args.out.is_dir() and any(args.out.iterdir()):  # never mix two runs' checkpoints
        raise PonderError(f"--out {args.out} is not empty (use --resume {args.out} to go on)")
    RunDir.check_new(args.out, "ppo")
    return rllib_ppo.train(
        args.game,
        args.out,
        30.0 if args.minutes is None else args.minutes,
        network={"blocks": args.blocks, "channels": args.channels},
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        snapshot_every=args.snapshot_every,
        league_share=args.league_share,
        batch_size=args.batch_size,
        env_runners=args.env_runners,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="connect_four")
    parser.add_argument("--minutes", type=float, default=None, help="wall clock in all (30)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="a new run's folder")
    where.add_argument("--resume", type=Path, help="go on with the run in this folder")
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=4000, help="env steps per iteration")
    parser.add_argument("--snapshot-every", type=int, default=10)
    parser.add_argument("--league-share", type=float, default=0.5)
    parser.add_argument("--checkpoint-every", type=int, default=10)
    parser.add_argument("--env-runners", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from ponder.selfplay import rllib_ppo

    try:
        if args.resume is not None:
            given = [k for k in SETTINGS if getattr(args, k) != parser.get_default(k)]
            if given:
                flags = ", ".join("--" + k.replace("_", "-") for k in given)
                raise PonderError(f"--resume goes on with the run's own settings: drop {flags}")
            run = rllib_ppo.resume(args.resume, args.minutes)
        else:
            run = start(args)
    except PonderError as exc:
        sys.exit(f"error: {exc}")
    for stem in run["checkpoints"][-1:]:
        print(f"latest checkpoint: {stem}")


if __name__ == "__main__":
    main()
