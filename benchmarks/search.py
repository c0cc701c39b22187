"""Search throughput and strength: ponder's numba search next to OpenSpiel's C++ MCTS.

1. Tree only: BatchedMCTS (PUCT, UniformEvaluator) on connect four at B = 1, 64, 256, 1024,
   simulations per second on one thread. OpenSpiel has no tree-only peer: its C++ MCTSBot needs
   an evaluator, RandomRolloutEvaluator(0 rollouts) crashes, and pyspiel.Evaluator cannot be
   subclassed from Python; the figure is compared with the goal (500k/s at B=256) instead.
2. UCT with random rollouts on connect four and hex 7x7 against pyspiel.MCTSBot with
   pyspiel.RandomRolloutEvaluator, the same simulations per move from the same positions:
   simulations per second and the ratio (ponder one tree at a time, and 64 trees at once).
3. A real network on CPU (PolicyValueNet, 6 blocks x 64 channels, one torch thread) driving
   BatchedMCTS on connect four: the share of wall time spent outside the network.
4. Strength: UCTRollout(N) against OpenSpiel's MCTSBot(N) in colour-swapped games of connect
   four from random two-ply openings: classic UCT, and UCT with OpenSpiel's rule for children
   that end the game (no exploration term on them), which should be about even.

Settings matched with OpenSpiel's MCTSBot: uct_c = 2, one random rollout per new leaf, untried
children first, the most visited move played, and `solve=False` (OpenSpiel's default MCTS-solver
would make its bot a different algorithm). Everything runs on one thread.

    python benchmarks/search.py            # full run, writes benchmarks/results/search.json
    python benchmarks/search.py --quick    # smoke run, writes benchmarks/results/search_quick.json
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import Any

# One thread everywhere, set before numpy, numba and torch load.
os.environ["NUMBA_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import numpy as np
from _common import write_result

from ponder.envs.registry import get_game
from ponder.search import BatchedMCTS, SearchConfig, UCTRollout, UniformEvaluator


def spiel_state(spiel_game: Any, history: list[int]) -> Any:
    state = spiel_game.new_initial_state()
    for action in history:
        state.apply_action(int(action))
    return state


def opening_histories(game: Any, count: int, plies: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    out: list[list[int]] = []
    while len(out) < count:
        state = game.new_states(1)[0]
        history: list[int] = []
        over = False
        for _ in range(plies):
            action = int(rng.choice(game.legal_actions(state)))
            history.append(action)
            if game.play(state, action)[0]:
                over = True
                break
        if not over:
            out.append(history)
    return out


def rows_from(game: Any, histories: list[list[int]]) -> np.ndarray:
    rows = game.new_states(len(histories))
    for row, history in zip(rows, histories, strict=True):
        for action in history:
            game.play(row, action)
    return rows


class Clock:
    """Wall and CPU seconds of a block. Rates use CPU seconds: on a shared machine they measure
    the work itself, not the wait for a core; with a quiet machine the two agree."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


# ---------------------------------------------------------------- 1. tree only
def tree_only(batches: list[int], simulations: int, min_time: float) -> dict:
    game = get_game("connect_four")
    config = SearchConfig(num_simulations=simulations, leaves_per_step=8, tree_reuse=False)
    out: dict[str, Any] = {
        "game": "connect_four",
        "evaluator": "UniformEvaluator",
        "simulations_per_search": simulations,
        "leaves_per_step": 8,
        "by_batch": [],
    }
    for batch in batches:
        mcts = BatchedMCTS(game, batch, config, UniformEvaluator(game))
        states = rows_from(game, opening_histories(game, batch, 2, seed=batch))
        mcts.search(states)  # compile or load the kernels
        searches, wall, cpu = 0, 0.0, 0.0
        while cpu < min_time:
            with Clock() as clock:
                mcts.search(states)
            wall, cpu, searches = wall + clock.wall, cpu + clock.cpu, searches + 1
        simulations_done = batch * simulations * searches
        out["by_batch"].append(
            {
                "batch": batch,
                "searches": searches,
                "cpu_seconds": round(cpu, 3),
                "wall_seconds": round(wall, 3),
                "simulations_per_s": round(simulations_done / cpu),
            }
        )
    at_256 = [r for r in out["by_batch"] if r["batch"] == 256]
    if at_256:
        out["goal_simulations_per_s_at_256"] = 500_000
        out["ratio_to_goal_at_256"] = round(at_256[0]["simulations_per_s"] / 500_000, 2)
    return out


# ---------------------------------------------------------------- 2. UCT vs OpenSpiel
def uct_speed(name: str, simulations: int, positions: int) -> dict:
    import pyspiel

    game = get_game(name)
    spiel_game = pyspiel.load_game(game.openspiel_name)
    histories = opening_histories(game, positions, 4, seed=7)
    rows = rows_from(game, histories)

    single = UCTRollout(game, 1, simulations, uct_c=2.0, rollouts=1, seed=0)
    single.search(rows[:1])  # compile or load
    with Clock() as ours_single:
        for i in range(positions):
            single.search(rows[i : i + 1])

    batched = UCTRollout(game, positions, simulations, uct_c=2.0, rollouts=1, seed=0)
    batched.search(rows)
    with Clock() as ours_batched:
        batched.search(rows)

    evaluator = pyspiel.RandomRolloutEvaluator(1, 0)
    bot = pyspiel.MCTSBot(spiel_game, evaluator, 2.0, simulations, 10_000, False, 0, False)
    states = [spiel_state(spiel_game, history) for history in histories]
    bot.step(states[0].clone())
    with Clock() as theirs:
        for state in states:
            bot.step(state)
    total = positions * simulations
    rates = {
        "one_tree": total / ours_single.cpu,
        "batched": total / ours_batched.cpu,
        "openspiel": total / theirs.cpu,
    }
    return {
        "game": name,
        "openspiel_name": game.openspiel_name,
        "simulations_per_move": simulations,
        "positions": positions,
        "ponder_uct_one_tree_sims_per_s": round(rates["one_tree"]),
        f"ponder_uct_{positions}_trees_sims_per_s": round(rates["batched"]),
        "openspiel_mctsbot_sims_per_s": round(rates["openspiel"]),
        "ratio_one_tree_vs_openspiel": round(rates["one_tree"] / rates["openspiel"], 2),
        f"ratio_{positions}_trees_vs_openspiel": round(rates["batched"] / rates["openspiel"], 2),
        "wall_seconds": {
            "ponder_one_tree": round(ours_single.wall, 3),
            f"ponder_{positions}_trees": round(ours_batched.wall, 3),
            "openspiel": round(theirs.wall, 3),
        },
    }


# ---------------------------------------------------------------- 3. network share
class _TimedModule:
    """Wraps a torch module (or an evaluator's forward) and adds up the seconds spent in it."""

    def __init__(self, module: Any):
        self.module = module
        self.seconds = 0.0

    def __call__(self, x: Any) -> Any:
        start = time.perf_counter()
        out = self.module(x)
        self.seconds += time.perf_counter() - start
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)


def network_share(batch: int, simulations: int, searches: int) -> dict:
    try:
        import torch

        from ponder.agents.alphazero.config import NetworkConfig
        from ponder.agents.alphazero.evaluator import TorchEvaluator
        from ponder.agents.alphazero.network import PolicyValueNet
    except ImportError as exc:
        return {"available": False, "why": f"not available: {exc}"}
    torch.set_num_threads(1)
    game = get_game("connect_four")
    net = PolicyValueNet(game, NetworkConfig(blocks=6, channels=64))
    evaluator = TorchEvaluator(net, device="cpu", mixed_precision=False)
    timed = _TimedModule(evaluator.forward)  # the forward pass alone, without the masking
    evaluator.forward = timed  # type: ignore[assignment]
    call_seconds = [0.0]

    def counted(planes: np.ndarray, legal: np.ndarray) -> Any:
        start = time.perf_counter()
        out = evaluator(planes, legal)
        call_seconds[0] += time.perf_counter() - start
        return out

    config = SearchConfig(num_simulations=simulations, leaves_per_step=8)
    mcts = BatchedMCTS(game, batch, config, counted)
    states = rows_from(game, opening_histories(game, batch, 2, seed=3))
    mcts.search(states, num_simulations=2)  # compile or load, warm torch up
    mcts.reset()
    timed.seconds, call_seconds[0] = 0.0, 0.0
    positions_before = evaluator.evaluations
    with Clock() as clock:
        for _ in range(searches):
            result = mcts.search(states)
            mcts.advance(result.action)
            for row, action in zip(states, result.action, strict=True):
                if game.play(row, int(action))[0]:
                    game.init(row)
    wall = clock.wall
    return {
        "available": True,
        "network": "PolicyValueNet 6 blocks x 64 channels, float32, 1 torch thread",
        "game": "connect_four",
        "batch": batch,
        "simulations_per_search": simulations,
        "searches": searches,
        "positions_evaluated": evaluator.evaluations - positions_before,
        "wall_seconds": round(wall, 3),
        "network_forward_seconds": round(timed.seconds, 3),
        "evaluator_call_seconds": round(call_seconds[0], 3),
        "share_outside_network": round(1 - timed.seconds / wall, 4),
        "share_outside_evaluator_call": round(1 - call_seconds[0] / wall, 4),
        "goal_share_outside_network": 0.10,
    }


# ---------------------------------------------------------------- 4. strength
def wilson(wins: float, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(centre - half, 4), round(centre + half, 4))


def strength(simulations: int, pairs: int, terminal_exploration: bool) -> dict:
    import pyspiel

    game = get_game("connect_four")
    spiel_game = pyspiel.load_game(game.openspiel_name)
    histories = opening_histories(game, pairs, 2, seed=11)
    games = 2 * pairs  # each opening twice, colours swapped
    ours_as = np.array([g % 2 for g in range(games)])  # player ponder moves as
    rows = rows_from(game, [histories[g // 2] for g in range(games)])
    spiel_states = [spiel_state(spiel_game, histories[g // 2]) for g in range(games)]
    uct = UCTRollout(
        game,
        games,
        simulations,
        uct_c=2.0,
        rollouts=1,
        seed=5,
        terminal_exploration=terminal_exploration,
    )
    bots = [
        pyspiel.MCTSBot(
            spiel_game,
            pyspiel.RandomRolloutEvaluator(1, 100 + g),
            2.0,
            simulations,
            10_000,
            False,
            1000 + g,
            False,
        )
        for g in range(games)
    ]
    score = np.zeros(games)  # ponder's result: 1 win, 0.5 draw, 0 loss
    done = np.zeros(games, dtype=bool)
    while not done.all():
        to_move = np.array([game.to_play(row) for row in rows])
        ours = ~done & (to_move == ours_as)
        actions = uct.search(rows, active=ours).action if ours.any() else None
        for g in np.flatnonzero(~done):
            action = int(actions[g]) if ours[g] else int(bots[g].step(spiel_states[g]))
            finished, outcome = game.play(rows[g], action)
            spiel_states[g].apply_action(action)
            if finished:
                done[g] = True
                mine = outcome if ours_as[g] == 0 else -outcome
                score[g] = 0.5 + 0.5 * mine
    total = float(score.sum())
    return {
        "game": "connect_four",
        "simulations_per_move": simulations,
        "games": games,
        "openings": "random two-ply openings, each played twice with colours swapped",
        "ponder_wins": int((score == 1).sum()),
        "draws": int((score == 0.5).sum()),
        "openspiel_wins": int((score == 0).sum()),
        "ponder_score": round(total / games, 4),
        "ponder_score_95ci": wilson(total, games),
        "ponder_score_as_first_player": round(float(score[ours_as == 0].mean()), 4),
        "ponder_score_as_second_player": round(float(score[ours_as == 1].mean()), 4),
        "ponder_terminal_exploration": terminal_exploration,
        "settings": "both: uct_c=2, 1 random rollout per leaf, untried moves first in random "
        "order, most visited move; OpenSpiel MCTSBot solve=False, max_memory 10 GB (never "
        "reached)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument(
        "--sections",
        nargs="*",
        default=["tree", "uct", "network", "strength"],
        help="which parts to run (tree uct network strength)",
    )
    args = parser.parse_args()
    quick = args.quick
    results: dict[str, Any] = {
        "threads": 1,
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "timing": "rates use the process's CPU seconds (wall seconds are reported too); the "
        "network share uses wall seconds",
    }
    log = sys.stderr
    if "tree" in args.sections:
        print("tree-only throughput ...", file=log, flush=True)
        results["tree_only"] = tree_only(
            [1, 64, 256, 1024] if not quick else [1, 64],
            simulations=200 if not quick else 16,
            min_time=2.0 if not quick else 0.05,
        )
    if "uct" in args.sections:
        print("UCT vs OpenSpiel MCTSBot ...", file=log, flush=True)
        sims, positions = (1000, 64) if not quick else (50, 4)
        results["uct_vs_openspiel"] = [
            uct_speed(name, sims, positions) for name in ("connect_four", "hex_7")
        ]
    if "network" in args.sections:
        print("network share ...", file=log, flush=True)
        results["network_share"] = (
            network_share(batch=64, simulations=100, searches=5)
            if not quick
            else network_share(batch=4, simulations=8, searches=1)
        )
    if "strength" in args.sections:
        print("strength ...", file=log, flush=True)
        sims, pairs = (400, 100) if not quick else (20, 2)
        results["strength"] = {
            "classic_uct": strength(sims, pairs, terminal_exploration=True),
            "openspiel_terminal_rule": strength(sims, pairs, terminal_exploration=False),
            "note": "OpenSpiel's MCTSBot scores a child that ends the game by its outcome "
            "without UCB1's exploration term; classic UCT keeps the term. "
            "openspiel_terminal_rule runs ponder with OpenSpiel's rule (terminal_exploration="
            "False): that is the like-for-like match and should be about even.",
        }
    write_result("search", results, quick=quick)


if __name__ == "__main__":
    main()
