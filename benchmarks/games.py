"""Random-playout throughput: ponder's numba games next to OpenSpiel's, same game, same run.

For every native game in the registry (games added later are picked up automatically):
- ponder, batch 1: one game at a time, the whole loop inside one numba call;
- ponder, batch 1024: 1024 games stepped in lockstep, as batched search steps its trees;
- OpenSpiel, Python API: `state.legal_actions()` + `random.choice` + `state.apply_action()` per
  move, the way Python code drives OpenSpiel (the C++ engine does the game logic);
- OpenSpiel, `pyspiel.random_sim_test`: the only whole-game C++ loop pyspiel exposes. It also
  runs OpenSpiel's per-step consistency checks (strings, tensors, clones), so it is reported for
  information, labelled, and never used for a ratio.
Ratios are ponder games/s over OpenSpiel Python API games/s. Mean game lengths of both engines
are reported side by side as a check that they play the same game.

Everything runs on one thread (numba kernels here are not parallel; NUMBA_NUM_THREADS=1).

    python benchmarks/games.py            # full run, writes benchmarks/results/games.json
    python benchmarks/games.py --quick    # smoke run, writes benchmarks/results/games_quick.json
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable

os.environ["NUMBA_NUM_THREADS"] = "1"  # before numba is imported: single-threaded for fairness

from _common import write_result

from ponder.envs.playout import random_playouts_batch
from ponder.envs.registry import get_game, native_game_names

BIG_BATCH = 1024


def _measure(run: Callable[[int], int], min_time: float) -> tuple[int, int, float]:
    """Grow the number of units until a run lasts `min_time`; returns (units, moves, seconds)."""
    units = 1
    while True:
        start = time.perf_counter()
        moves = run(units)
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return units, moves, elapsed
        units *= min(100, max(2, int(1.2 * min_time / max(elapsed, 1e-4))))


def _rates(games: int, moves: int, seconds: float) -> dict[str, float]:
    return {
        "games": games,
        "seconds": round(seconds, 4),
        "games_per_s": round(games / seconds, 1),
        "moves_per_s": round(moves / seconds, 1),
        "mean_moves": round(moves / games, 2),
    }


def ponder_rates(game, batch: int, min_time: float) -> dict[str, float]:
    random_playouts_batch(game, batch, rounds=1, seed=0)  # compile (or load) the kernel first
    rounds, moves, seconds = _measure(
        lambda r: random_playouts_batch(game, batch, rounds=r, seed=1).moves, min_time
    )
    return _rates(rounds * batch, moves, seconds)


def openspiel_python_rates(spiel_game, min_time: float) -> dict[str, float]:
    rng = random.Random(0)

    def run(games: int) -> int:
        moves = 0
        for _ in range(games):
            state = spiel_game.new_initial_state()
            while not state.is_terminal():
                state.apply_action(rng.choice(state.legal_actions()))
                moves += 1
        return moves

    games, moves, seconds = _measure(run, min_time)
    return _rates(games, moves, seconds)


def openspiel_sim_test_rates(spiel_game, min_time: float) -> dict[str, float]:
    import pyspiel

    def run(games: int) -> int:
        pyspiel.random_sim_test(
            spiel_game, num_sims=games, serialize=False, verbose=False, mask_test=False
        )
        return 0

    games, _, seconds = _measure(run, min_time)
    return {"games": games, "seconds": round(seconds, 4), "games_per_s": round(games / seconds, 1)}


def benchmark_game(name: str, min_time: float, with_sim_test: bool) -> dict:
    import pyspiel

    game = get_game(name)
    row: dict = {"game": name, "openspiel_name": game.openspiel_name}
    row["ponder_batch_1"] = ponder_rates(game, 1, min_time)
    row[f"ponder_batch_{BIG_BATCH}"] = ponder_rates(game, BIG_BATCH, min_time)
    if game.openspiel_name is None:
        return row
    spiel_game = pyspiel.load_game(game.openspiel_name)
    python_api = openspiel_python_rates(spiel_game, min_time)
    row["openspiel_python_api"] = python_api
    row["ratio_games_per_s"] = {
        "batch_1_vs_openspiel_python": round(
            row["ponder_batch_1"]["games_per_s"] / python_api["games_per_s"], 2
        ),
        f"batch_{BIG_BATCH}_vs_openspiel_python": round(
            row[f"ponder_batch_{BIG_BATCH}"]["games_per_s"] / python_api["games_per_s"], 2
        ),
    }
    if with_sim_test:
        row["openspiel_random_sim_test_not_comparable"] = openspiel_sim_test_rates(
            spiel_game, min_time
        )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--games", nargs="*", help="native game names (default: all)")
    parser.add_argument("--min-time", type=float, help="seconds per measurement (default 1.0)")
    parser.add_argument(
        "--no-sim-test", action="store_true", help="skip OpenSpiel's random_sim_test"
    )
    args = parser.parse_args()
    min_time = args.min_time or (0.02 if args.quick else 1.0)
    names = args.games or native_game_names()
    unknown = sorted(set(names) - set(native_game_names()))
    if unknown:
        sys.exit(f"error: not native games: {', '.join(unknown)}")
    rows = []
    for name in names:
        print(f"{name} ...", file=sys.stderr, flush=True)
        rows.append(benchmark_game(name, min_time, with_sim_test=not args.no_sim_test))
    write_result(
        "games",
        {
            "what": "uniformly random playouts to the end of the game, throughput",
            "threads": 1,
            "min_seconds_per_measurement": min_time,
            "notes": [
                "ponder: the whole loop runs in one numba call; batch 1024 steps 1024 games in "
                "lockstep; numba's RNG",
                "openspiel_python_api: pyspiel state API from Python with random.choice per move",
                "openspiel_random_sim_test_not_comparable: OpenSpiel's C++ random_sim_test, "
                "which also runs its per-step consistency checks; information only, no ratio",
                "ratio: ponder games/s divided by openspiel_python_api games/s",
            ],
            "results": rows,
        },
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
