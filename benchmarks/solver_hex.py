"""Hex solver on 5x5: time to solve positions by number of stones, the empty board, whole games,
and OpenSpiel's alpha-beta side by side on late positions.

- By stones: positions after uniformly random moves (live ones only), each solved from a
  cleared table with `HexSolver.solve` (value and every winning move) by search alone, never
  the opening table. Median, 90th percentile and maximum seconds, nodes, and how many were
  wins for the mover.
- Empty board: from the opening table (what a player gets) and, with `--empty-board`, by search
  alone from a cold table (the value of the game and every winning first move).
- Games: the `solver` player (opening table, table kept between moves) against `random` and
  `uct:200`, solver first in half the games; the solver's seconds per game.
- Peer: the same late positions valued by OpenSpiel's alpha-beta search
  (`open_spiel.python.algorithms.minimax`, no table, no move ordering) and by ponder's
  `HexSolver.value` from a cleared table; the values must agree.

    python benchmarks/solver_hex.py                   # results/solver_hex.json
    python benchmarks/solver_hex.py --empty-board     # adds the cold empty board (a minute)
    python benchmarks/solver_hex.py --quick           # smoke run, results/solver_hex_quick.json

The machine's load average is recorded at the start and the end; above one per core the
figures are noisy (other work shared the cores) and the JSON says so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from _common import write_result

from ponder.agents.players import RandomPlayer, SolverPlayer, UCTPlayer
from ponder.envs.board import hex as hex_game
from ponder.envs.solvers.hex import HexSolver

SIZE = 5
GAME = hex_game.make_game(SIZE)


def random_positions(stones: int, count: int, seed: int) -> list[list[int]]:
    """`count` live positions after `stones` uniformly random moves, as move lists."""
    rng = np.random.default_rng(seed)
    found: list[list[int]] = []
    while len(found) < count:
        state, history = GAME.new_states(1)[0], []
        while len(history) < stones and not GAME.is_terminal(state):
            history.append(int(rng.choice(GAME.legal_actions(state))))
            GAME.play(state, history[-1])
        if not GAME.is_terminal(state):
            found.append(history)
    return found


def state_of(history: list[int]) -> np.ndarray:
    state = GAME.new_states(1)[0]
    for action in history:
        GAME.play(state, action)
    return state


def by_stones(solver: HexSolver, stones: int, count: int, seed: int) -> dict:
    times, nodes, wins = [], [], 0
    slowest = ([], 0.0)
    for history in random_positions(stones, count, seed):
        solver.clear()
        state = state_of(history)
        start = time.perf_counter()
        value, _ = solver.move_values(state, use_openings=False)
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        nodes.append(solver.nodes)
        wins += value > 0
        if elapsed > slowest[1]:
            slowest = (history, elapsed)
    return {
        "stones": stones,
        "positions": count,
        "median_s": round(statistics.median(times), 4),
        "p90_s": round(float(np.percentile(times, 90)), 4),
        "max_s": round(max(times), 4),
        "mean_s": round(statistics.fmean(times), 4),
        "median_nodes": int(statistics.median(nodes)),
        "wins_for_mover": wins,
        "slowest_position": slowest[0],
    }


def empty_board(search: bool) -> dict:
    solver = HexSolver()
    start = time.perf_counter()
    value, values = solver.move_values(GAME.new_states(1)[0], use_openings=not search)
    return {
        "source": "search from a cold table" if search else "opening table",
        "seconds": round(time.perf_counter() - start, 3),
        "nodes": solver.nodes,
        "value_for_first_player": value,
        "winning_first_moves": [GAME.action_to_string(a) for a in np.flatnonzero(values == 1)],
    }


def games(opponent_spec: str, count: int, seed: int) -> dict:
    """The solver's own seconds per game (the opponent's thinking is not counted)."""
    solver = SolverPlayer()
    opponent = RandomPlayer() if opponent_spec == "random" else UCTPlayer(200)
    per_game, solver_wins_as_first = [], 0
    for k in range(count):
        solver.start(GAME, 1, seed + k)
        opponent.start(GAME, 1, seed + k)
        states, history = GAME.new_states(1), []
        solver_colour = k % 2
        spent = 0.0
        while not GAME.is_terminal(states[0]):
            mover = GAME.to_play(states[0])
            player = solver if mover == solver_colour else opponent
            start = time.perf_counter()
            actions, _ = player.act(states, [history], np.zeros(1, dtype=np.int64))
            if player is solver:
                spent += time.perf_counter() - start
            GAME.play(states[0], int(actions[0]))
            history.append(int(actions[0]))
        per_game.append(spent)
        if solver_colour == 0:
            solver_wins_as_first += GAME.outcome(states[0]) > 0
    return {
        "opponent": opponent_spec,
        "games": count,
        "solver_mean_s_per_game": round(statistics.fmean(per_game), 4),
        "solver_max_s_per_game": round(max(per_game), 4),
        "solver_wins_as_first_player": f"{solver_wins_as_first}/{(count + 1) // 2}",
    }


def peer(stones: int, count: int, seed: int) -> dict:
    import pyspiel
    from open_spiel.python.algorithms import minimax

    spiel_game = pyspiel.load_game(GAME.openspiel_name)
    solver = HexSolver()
    ours, theirs = 0.0, 0.0
    for history in random_positions(stones, count, seed):
        solver.clear()
        start = time.perf_counter()
        value = solver.value(state_of(history))
        ours += time.perf_counter() - start
        spiel_state = spiel_game.new_initial_state()
        for action in history:
            spiel_state.apply_action(action)
        start = time.perf_counter()
        spiel_value, _ = minimax.alpha_beta_search(
            spiel_game, spiel_state, maximizing_player_id=spiel_state.current_player()
        )
        theirs += time.perf_counter() - start
        if int(np.sign(spiel_value)) != value:
            raise SystemExit(f"disagreement on {history}: {value} vs {spiel_value}")
    return {
        "stones": stones,
        "positions": count,
        "ponder_mean_s": round(ours / count, 6),
        "openspiel_alpha_beta_mean_s": round(theirs / count, 4),
        "ratio": round(theirs / ours, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stones", type=int, nargs="+", default=[3, 4, 6, 8, 10, 12])
    parser.add_argument("--positions", type=int, default=20)
    parser.add_argument("--games", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--empty-board", action="store_true")
    parser.add_argument("--peer-stones", type=int, nargs="+", default=[16, 17, 18])
    parser.add_argument("--peer-positions", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="a few positions, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.positions, args.games, args.peer_positions = 3, 2, 2
        args.stones, args.peer_stones = [4, 8], [17]
    load_start = os.getloadavg()[0]
    warm = HexSolver(table_bits=12)  # compile before timing
    warm.solve(state_of([0, 24, 1]))
    warm.value(state_of([0, 24, 1]))
    solver = HexSolver()
    results: dict = {
        "solver": {"table_bits": int(np.log2(len(solver.table)))},
        "by_stones": [by_stones(solver, n, args.positions, args.seed + n) for n in args.stones],
        "empty_board": [empty_board(search=False)],
        "games": [games(spec, args.games, args.seed) for spec in ("random", "uct:200")],
        "peer": [peer(n, args.peer_positions, args.seed + n) for n in args.peer_stones],
    }
    if args.empty_board:
        results["empty_board"].append(empty_board(search=True))
    load_end = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    results["load_average_1m"] = {"start": round(load_start, 2), "end": round(load_end, 2)}
    results["noisy"] = max(load_start, load_end) > cores
    write_result("solver_hex", results, quick=args.quick)


if __name__ == "__main__":
    main()
