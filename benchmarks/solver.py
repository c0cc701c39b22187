"""Connect-four solver: time to solve positions by move number, the empty board, and a peer.

- By ply: positions reached by uniformly random moves from the empty board (unfinished ones
  only), each solved from a cleared table with `ConnectFourSolver.solve` (win/draw/loss value
  and every optimal column). Reports median, 90th percentile and maximum seconds, the share
  under one second, nodes, and how many positions were wins, draws and losses for the mover.
- `--empty-board`: the weak solve of the empty board, i.e. the value of the game and the set of
  winning first moves (the known result: the first player wins, by the centre column only).
- Peer: OpenSpiel's alpha-beta search (`open_spiel.python.algorithms.minimax`) and ponder's
  value-only search on the same late positions; OpenSpiel cannot reach the early ones.

    python benchmarks/solver.py                      # plies 8/10/12, peer; results/solver.json
    python benchmarks/solver.py --empty-board        # adds the empty board (minutes)
    python benchmarks/solver.py --plies 4 6 --positions 10 --peer-positions 0 --tag early
                                                     # earlier plies: results/solver_early.json
    python benchmarks/solver.py --quick              # smoke run, results/solver_quick.json
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import write_result

from ponder.envs.board import connect_four as c4
from ponder.envs.solvers.connect_four import ConnectFourSolver

COLUMNS = "abcdefg"


def random_positions(ply: int, count: int, seed: int) -> list[list[int]]:
    """`count` unfinished positions after `ply` uniformly random moves, as move lists."""
    rng = np.random.default_rng(seed)
    found: list[list[int]] = []
    while len(found) < count:
        state, history = c4.GAME.new_states(1)[0], []
        while len(history) < ply and not c4.is_terminal(state):
            history.append(int(rng.choice(c4.GAME.legal_actions(state))))
            c4.play(state, history[-1])
        if not c4.is_terminal(state):
            found.append(history)
    return found


def state_of(history: list[int]) -> np.ndarray:
    state = c4.GAME.new_states(1)[0]
    for action in history:
        c4.play(state, action)
    return state


def notation(history: list[int]) -> str:
    return "".join(COLUMNS[a] for a in history)


def by_ply(solver: ConnectFourSolver, ply: int, count: int, seed: int) -> dict:
    times, nodes, values = [], [], {"win": 0, "draw": 0, "loss": 0}
    slowest = ("", 0.0)
    for history in random_positions(ply, count, seed):
        solver.clear()
        start = time.perf_counter()
        result = solver.solve(state_of(history))
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        nodes.append(solver.nodes)
        values[{1: "win", 0: "draw", -1: "loss"}[result.value]] += 1
        if elapsed > slowest[1]:
            slowest = (notation(history), elapsed)
    return {
        "ply": ply,
        "positions": count,
        "median_s": round(statistics.median(times), 3),
        "p90_s": round(float(np.percentile(times, 90)), 3),
        "max_s": round(max(times), 3),
        "mean_s": round(statistics.fmean(times), 3),
        "share_under_1s": round(sum(t < 1.0 for t in times) / count, 3),
        "median_nodes": int(statistics.median(nodes)),
        "values_for_mover": values,
        "slowest_position": slowest[0],
    }


def empty_board(table_bits: int, threads: int) -> dict:
    solver = ConnectFourSolver(table_bits=table_bits, threads=threads)
    start = time.perf_counter()
    result = solver.solve(c4.GAME.new_states(1)[0])
    return {
        "table_bits": table_bits,
        "threads": solver.threads,
        "seconds": round(time.perf_counter() - start, 1),
        "nodes": solver.nodes,
        "value_for_first_player": result.value,
        "winning_first_moves": [COLUMNS[a] for a in result.best_actions.tolist()],
    }


def peer(ply: int, count: int, seed: int) -> dict:
    """Value only, both sides: ponder's null-window bisection over [-1, 1] vs OpenSpiel's
    alpha-beta to the end of the game (its Python search has no table or move ordering)."""
    import pyspiel
    from open_spiel.python.algorithms import minimax

    game = pyspiel.load_game("connect_four")
    solver = ConnectFourSolver(threads=1)
    ours, theirs = 0.0, 0.0
    for history in random_positions(ply, count, seed):
        solver.clear()
        start = time.perf_counter()
        value = solver.score(state_of(history), low=-1, high=1)
        ours += time.perf_counter() - start
        spiel_state = game.new_initial_state()
        for action in history:
            spiel_state.apply_action(action)
        start = time.perf_counter()
        spiel_value, _ = minimax.alpha_beta_search(
            game, spiel_state, maximizing_player_id=spiel_state.current_player()
        )
        theirs += time.perf_counter() - start
        if int(np.sign(value)) != int(spiel_value):
            raise SystemExit(f"disagreement on {notation(history)}: {value} vs {spiel_value}")
    return {
        "ply": ply,
        "positions": count,
        "ponder_mean_s": round(ours / count, 5),
        "openspiel_alpha_beta_mean_s": round(theirs / count, 4),
        "ratio": round(theirs / ours, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plies", type=int, nargs="+", default=[8, 10, 12])
    parser.add_argument("--positions", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="default: min(2, cores)")
    parser.add_argument("--table-bits", type=int, default=None)
    parser.add_argument("--empty-board", action="store_true")
    parser.add_argument("--empty-table-bits", type=int, default=24)
    parser.add_argument("--peer-ply", type=int, default=28)
    parser.add_argument("--peer-positions", type=int, default=10)
    parser.add_argument("--tag", default=None, help="write results/solver_TAG.json")
    parser.add_argument("--quick", action="store_true", help="a few positions, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.positions, args.peer_positions, args.plies = 3, 2, [12]
    kwargs = {} if args.table_bits is None else {"table_bits": args.table_bits}
    solver = ConnectFourSolver(threads=args.threads, **kwargs)
    solver.solve(state_of([3, 3, 3, 3, 3, 3, 2, 2, 2, 2]))  # compile before timing
    results: dict = {
        "solver": {"table_bits": int(np.log2(solver.table.size)), "threads": solver.threads},
        "by_ply": [by_ply(solver, ply, args.positions, args.seed + ply) for ply in args.plies],
    }
    if args.peer_positions > 0:
        results["peer"] = peer(args.peer_ply, args.peer_positions, args.seed)
    if args.empty_board:
        results["empty_board"] = empty_board(args.empty_table_bits, solver.threads)
    write_result("solver" if args.tag is None else f"solver_{args.tag}", results, quick=args.quick)


if __name__ == "__main__":
    main()
