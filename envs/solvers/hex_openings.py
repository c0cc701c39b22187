"""The 5x5 hex opening table: every winning move of every position with at most two stones,
computed by the exact solver itself (`ponder.envs.solvers.hex`).

Those positions are the only slow ones for the search (seconds each; three stones and more take
a fraction of a second), so the solver reads them from `hex_5_openings.json`, shipped with the
package. An entry maps the stones, as action ids ("" for the empty board, "a" for x at a, "a,b"
for x at a and o at b), to the sorted winning moves of the player to move; an empty list means
every move loses. Only the two-stone entries need a search: a one-stone position's winning moves
are those after which the opponent's entry is empty, and likewise for the empty board. The
180-degree rotation maps each two-stone position onto another, so half of them are searched and
the other half rotated.

    python -m ponder.envs.solvers.hex_openings            # (re)compute; resumes a partial run
    python -m ponder.envs.solvers.hex_openings --check 20 # re-solve 20 random entries
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

SIZE = 5
CELLS = SIZE * SIZE
TABLE_PATH = Path(__file__).resolve().parent / "hex_5_openings.json"


def entry_key(black: list[int], white: list[int]) -> str:
    return ",".join(str(a) for a in [*black, *white])


def moves_of(key: str) -> list[int]:
    """The move order of a table key: x's stone first, then o's."""
    return [int(a) for a in key.split(",")] if key else []


def search_winning_moves(moves: list[int], solver) -> list[int]:
    """Winning moves after `moves`, by search alone (never the table)."""
    from ponder.envs.board import hex as hex_game

    game = hex_game.make_game(SIZE)
    state = game.new_states(1)[0]
    for action in moves:
        game.play(state, action)
    value, values = solver.move_values(state, use_openings=False)
    return [int(a) for a in np.flatnonzero(values == 1)] if value > 0 else []


def compute(path: Path = TABLE_PATH, progress: bool = True) -> dict[str, list[int]]:
    """Build the table, resuming from `path` (entries are saved as they come)."""
    from ponder.envs.solvers.hex import HexSolver

    partial = path.with_suffix(".partial.json")
    entries: dict[str, list[int]] = {}
    if partial.is_file():
        entries = json.loads(partial.read_text())["entries"]
    solver = HexSolver()
    start = time.perf_counter()
    for a in range(CELLS):
        for b in range(CELLS):
            key = entry_key([a], [b])
            if b == a or key in entries:
                continue
            entries[key] = search_winning_moves([a, b], solver)
            # The rotated position's winning moves are the rotated ones.
            rotated = entry_key([CELLS - 1 - a], [CELLS - 1 - b])
            entries[rotated] = sorted(CELLS - 1 - m for m in entries[key])
            _write(partial, entries)
            if progress:
                print(f"{len(entries)}/600 {time.perf_counter() - start:.0f}s", flush=True)
    for a in range(CELLS):
        entries[entry_key([a], [])] = [
            b for b in range(CELLS) if b != a and not entries[f"{a},{b}"]
        ]
    entries[""] = [a for a in range(CELLS) if not entries[str(a)]]
    _write(path, entries)
    partial.unlink(missing_ok=True)
    return entries


def _write(path: Path, entries: dict[str, list[int]]) -> None:
    ordered = dict(
        sorted(entries.items(), key=lambda item: (len(moves_of(item[0])), moves_of(item[0])))
    )
    record = {"size": SIZE, "max_stones": 2, "entries": ordered}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, separators=(",", ":")) + "\n")
    os.replace(tmp, path)


def load(path: Path = TABLE_PATH) -> dict[str, list[int]]:
    record = json.loads(path.read_text())
    if record.get("size") != SIZE or record.get("max_stones") != 2:
        raise ValueError(f"{path} is not a 5x5 hex opening table")
    return record["entries"]


def check(count: int, seed: int = 0) -> list[str]:
    """Re-solve `count` random two-stone entries by search; the keys that disagree."""
    from ponder.envs.solvers.hex import HexSolver

    entries = load()
    keys = sorted(k for k in entries if len(moves_of(k)) == 2)
    picks = np.random.default_rng(seed).choice(len(keys), size=count, replace=False)
    solver = HexSolver()
    return [
        keys[i]
        for i in picks
        if search_winning_moves(moves_of(keys[i]), solver) != entries[keys[i]]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", type=int, metavar="N", help="re-solve N random entries")
    args = parser.parse_args()
    if args.check:
        wrong = check(args.check)
        print(
            f"{args.check - len(wrong)}/{args.check} entries agree"
            + (f": {wrong}" if wrong else "")
        )
        raise SystemExit(1 if wrong else 0)
    entries = compute()
    print(f"{len(entries)} entries; winning first moves: {entries['']}")


if __name__ == "__main__":
    main()
