"""The study's memory: every batch of games played, one JSON line each, appended as it ends.

A batch is keyed by the two players' spec strings; the line holds its seed, its pair counts
(pentanomial) and W/D/L from the first player's view, the moves each side made and the network
evaluations it spent on them. Reading the file back gives the pairing totals, so an interrupted
study (or one extended with more players or a tighter target) resumes without replaying a game.
Lines are flushed whole and a torn last line (a kill mid-write) is ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ponder.arena.match import MatchResult
from ponder.arena.ratings import PairingCounts


@dataclass
class PlayerSpend:
    moves: int = 0
    evaluations: int = 0

    @property
    def per_move(self) -> float:
        return self.evaluations / self.moves if self.moves else 0.0


@dataclass
class GameCache:
    path: Path
    batches: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def open(cls, path: Path) -> GameCache:
        cache = cls(Path(path))
        if cache.path.is_file():
            for line in cache.path.read_text().splitlines():
                try:
                    batch = json.loads(line)
                except json.JSONDecodeError:
                    continue  # torn by a kill; the batch is simply played again
                if isinstance(batch, dict) and {"a", "b", "wdl", "pentanomial"} <= batch.keys():
                    cache.batches.append(batch)
        return cache

    def add(self, result: MatchResult, seconds: float) -> dict[str, Any]:
        batch = {
            "a": result.player_a,
            "b": result.player_b,
            "seed": result.seed,
            "games": result.num_games,
            "wdl": [result.wins, result.draws, result.losses],
            "pentanomial": result.pentanomial,
            "moves_a": sum(g.moves_a for g in result.games),
            "moves_b": sum(g.moves_b for g in result.games),
            "evaluations_a": sum(g.evaluations_a for g in result.games),
            "evaluations_b": sum(g.evaluations_b for g in result.games),
            "plies": sum(len(g.moves) for g in result.games),
            "seconds": round(seconds, 3),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as handle:
            handle.write(json.dumps(batch) + "\n")
            handle.flush()
        self.batches.append(batch)
        return batch

    def batches_between(self, a: str, b: str) -> int:
        return sum(1 for x in self.batches if {x["a"], x["b"]} == {a, b})

    @property
    def games(self) -> int:
        return sum(int(x["games"]) for x in self.batches)

    @property
    def seconds(self) -> float:
        return sum(float(x.get("seconds", 0.0)) for x in self.batches)

    def pairings(self, keep: set[str]) -> list[PairingCounts]:
        """Totals per pairing among the players in `keep` (others' games are left aside)."""
        totals: dict[tuple[str, str], PairingCounts] = {}
        for x in self.batches:
            if x["a"] not in keep or x["b"] not in keep:
                continue
            counts = PairingCounts(x["a"], x["b"], list(x["pentanomial"]), list(x["wdl"]))
            key = tuple(sorted((x["a"], x["b"])))
            if key[0] != x["a"]:
                counts = counts.flipped()
            if key in totals:
                old = totals[key]
                old.pentanomial = [
                    p + q for p, q in zip(old.pentanomial, counts.pentanomial, strict=True)
                ]
                old.wdl = [p + q for p, q in zip(old.wdl, counts.wdl, strict=True)]
            else:
                totals[key] = counts
        return list(totals.values())

    def spend(self) -> dict[str, PlayerSpend]:
        """Moves and evaluations per player over every game it played."""
        out: dict[str, PlayerSpend] = {}
        for x in self.batches:
            for side in ("a", "b"):
                entry = out.setdefault(x[side], PlayerSpend())
                entry.moves += int(x.get(f"moves_{side}", 0))
                entry.evaluations += int(x.get(f"evaluations_{side}", 0))
        return out
