"""The ratings file: a JSON ledger that accumulates games across tournaments on one scale.

Each `ponder pit --ratings-file PATH` adds its games (pair counts and W/D/L per pairing, keyed by
the two spec strings) to the ledger, and the ratings are refitted over everything the ledger
holds. So a run's checkpoints, pitted a few at a time over days, land on one Elo scale, and
`ponder ratings PATH` prints that scale. The scale's zero (the anchor) is fixed by the first
games added: `random` if it played in them, else their first player. The file is rewritten
atomically; one game per ledger.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ponder.arena.match import MatchResult
from ponder.arena.ratings import PairingCounts, RatingTable, fit_ratings
from ponder.checkpoint import atomic_write_json
from ponder.errors import PonderError

FORMAT = "ponder-ratings"
VERSION = 1


class RatingsLedger:
    def __init__(self, game: str, pairings: dict[tuple[str, str], PairingCounts] | None = None):
        self.game = game
        self.pairings = pairings or {}
        self.matches_added = 0
        # The scale's zero, fixed when the first games arrive so later additions never move it:
        # `random` if it played then, else the first match's player A.
        self.anchor: str | None = None

    @classmethod
    def load(cls, path: str | Path, game: str | None = None) -> RatingsLedger:
        """Read a ledger; with `game`, a missing file starts an empty ledger for that game."""
        path = Path(path)
        if not path.exists():
            if game is None:
                raise PonderError(f"ratings file not found: {path}")
            return cls(game)
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PonderError(f"ratings file {path} is not valid JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise PonderError(f"{path} is not a ponder ratings file")
        if data.get("version") != VERSION:
            raise PonderError(f"ratings file {path}: unknown version {data.get('version')!r}")
        if game is not None and data.get("game") != game:
            raise PonderError(f"ratings file {path} holds {data.get('game')} games, not {game}")
        ledger = cls(str(data["game"]))
        try:
            for item in data["pairings"]:
                p = PairingCounts(
                    str(item["a"]),
                    str(item["b"]),
                    [int(x) for x in item["pentanomial"]],
                    [int(x) for x in item["wdl"]],
                )
                if len(p.pentanomial) != 5 or len(p.wdl) != 3:
                    raise ValueError("wrong count length")
                ledger._add(p)
            ledger.matches_added = int(data.get("matches", 0))
            anchor = data.get("anchor")
            ledger.anchor = str(anchor) if anchor is not None else None
        except (KeyError, TypeError, ValueError) as exc:
            raise PonderError(f"ratings file {path} is damaged ({exc})") from None
        return ledger

    def _add(self, p: PairingCounts) -> None:
        if p.a == p.b:
            return
        key = (p.a, p.b) if p.a < p.b else (p.b, p.a)
        p = p if key == (p.a, p.b) else p.flipped()
        old = self.pairings.get(key)
        if old is None:
            self.pairings[key] = PairingCounts(p.a, p.b, list(p.pentanomial), list(p.wdl))
        else:
            old.pentanomial = [x + y for x, y in zip(old.pentanomial, p.pentanomial, strict=True)]
            old.wdl = [x + y for x, y in zip(old.wdl, p.wdl, strict=True)]

    def add_matches(self, matches: Iterable[MatchResult]) -> None:
        matches = list(matches)
        if self.anchor is None and matches:
            names = [n for m in matches for n in (m.player_a, m.player_b)]
            self.anchor = "random" if "random" in names else names[0]
        for m in matches:
            if m.game != self.game:
                raise PonderError(f"cannot add {m.game} games to a ledger of {self.game} games")
            self._add(
                PairingCounts(m.player_a, m.player_b, m.pentanomial, [m.wins, m.draws, m.losses])
            )
            self.matches_added += 1

    def players(self) -> list[str]:
        names: list[str] = []
        for p in self.pairings.values():
            for n in (p.a, p.b):
                if n not in names:
                    names.append(n)
        return names

    def ratings(
        self,
        anchor: str | None = None,
        bootstrap: int = 200,
        prior_draws: float = 1.0,
        seed: int = 0,
    ) -> RatingTable:
        if not self.pairings:
            raise PonderError("the ratings file holds no games yet")
        return fit_ratings(
            list(self.pairings.values()),
            anchor=anchor or self.anchor,
            prior_draws=prior_draws,
            bootstrap=bootstrap,
            seed=seed,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "game": self.game,
            "matches": self.matches_added,
            "anchor": self.anchor,
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "pairings": [
                {"a": p.a, "b": p.b, "pentanomial": p.pentanomial, "wdl": p.wdl}
                for p in sorted(self.pairings.values(), key=lambda p: (p.a, p.b))
            ],
        }

    def save(self, path: str | Path) -> None:
        atomic_write_json(path, self.to_dict())
