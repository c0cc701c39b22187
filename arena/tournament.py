"""Tournaments: round-robin (every pair) or gauntlet (the first player against each other), then
joint ratings over all games on one scale (see `ponder.arena.ratings`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ponder.agents.player import Player
from ponder.arena.match import MatchResult, play_match, resolve_game
from ponder.arena.ratings import PairingCounts, RatingTable, fit_ratings
from ponder.errors import PonderError
from ponder.seeds import derive_seed

MODES = ("round-robin", "gauntlet")


@dataclass
class TournamentResult:
    game: str
    mode: str
    players: list[str]
    matches: list[MatchResult]
    ratings: RatingTable

    def to_dict(self) -> dict[str, Any]:
        return {
            "game": self.game,
            "mode": self.mode,
            "players": self.players,
            "ratings": self.ratings.to_dict(),
            "matches": [m.to_dict() for m in self.matches],
        }


def pairing_counts(match: MatchResult) -> PairingCounts:
    return PairingCounts(
        match.player_a, match.player_b, match.pentanomial, [match.wins, match.draws, match.losses]
    )


def schedule(num_players: int, mode: str) -> list[tuple[int, int]]:
    if mode == "round-robin":
        return [(i, j) for i in range(num_players) for j in range(i + 1, num_players)]
    if mode == "gauntlet":
        return [(0, j) for j in range(1, num_players)]
    raise PonderError(f"unknown tournament mode {mode!r}: use {' or '.join(MODES)}")


def run_tournament(
    game: Any,
    players: Sequence[str | Player],
    num_games: int,
    mode: str = "round-robin",
    seed: int = 0,
    workers: int = 0,
    openings: Any = "auto",
    record: Any = None,
    progress: bool = False,
    anchor: str | None = None,
    bootstrap: int = 200,
    prior_draws: float = 1.0,
    batch_games: int = 64,
) -> TournamentResult:
    """Play every scheduled pairing for `num_games` games and rate everyone jointly.

    Players are spec strings or Player objects (a spec string is built afresh for each of its
    pairings). `record` as in `play_match`; with a path, all games go to that one file.
    """
    from ponder.arena.specs import make_player

    game = resolve_game(game)
    if len(players) < 2:
        raise PonderError("a tournament needs at least two players")
    names = [p if isinstance(p, str) else p.spec for p in players]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PonderError(f"player {duplicates[0]!r} is listed twice; each player needs one name")
    for p in players:  # every spec is checked before the first game
        make_player(p, game)
    keep = record is not None and record is not False
    matches = []
    for i, j in schedule(len(players), mode):
        matches.append(
            play_match(
                game,
                players[i],
                players[j],
                num_games,
                seed=derive_seed(seed, i, j),
                workers=workers,
                openings=openings,
                record=keep or None,
                progress=progress,
                batch_games=batch_games,
            )
        )
    if keep and not isinstance(record, bool):
        from ponder.arena.records import write_records

        write_records(record, matches, game)
    table = fit_ratings(
        [pairing_counts(m) for m in matches],
        anchor=anchor,
        prior_draws=prior_draws,
        bootstrap=bootstrap,
        seed=seed,
        players=names,
    )
    return TournamentResult(game.name, mode, names, matches, table)
