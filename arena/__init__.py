"""The arena: which agent is stronger, and by how much.

Library API (stable; training's evaluation calls it):

    play_match(game, player_a, player_b, num_games, seed=0, workers=0, openings="auto",
               record=None, progress=False, sprt=None, batch_games=64) -> MatchResult
    run_tournament(game, players, num_games, mode="round-robin" | "gauntlet", seed=0,
                   workers=0, openings="auto", record=None, progress=False, anchor=None,
                   bootstrap=200, prior_draws=1.0, batch_games=64) -> TournamentResult

`game` is a registry name or a game object; players are spec strings (`random`, `uct:400`,
`solver`, `openspiel:mcts:1000`, `runs/x/checkpoints/ckpt_000100@64:t=0.5`, ... see
`ponder.arena.specs`) or `Player` objects. Games are played in colour-swapped pairs over an
opening set (`ponder.arena.openings`), in batches, in-process or on `workers` Ray actors.

`MatchResult` (A's view): `wins`, `draws`, `losses`, `score`, `elo`, `elo_ci` (lo, hi; 95%),
`los`, `pentanomial` (pairs scoring 0, 1/2, 1, 3/2, 2), `games` (per-game `GameResult` with
moves, opening, seeds and optional search statistics), `sprt` (the test's state, if any),
`to_dict()`. `TournamentResult`: `matches` (one MatchResult per pairing) and `ratings` (a joint
`RatingTable` with bootstrap intervals, anchored at `random` when present).
"""

from ponder.arena.match import GameResult, MatchResult, play_match
from ponder.arena.ratings import RatingTable, fit_ratings
from ponder.arena.sprt import SprtConfig, parse_sprt
from ponder.arena.tournament import TournamentResult, run_tournament

__all__ = [
    "GameResult",
    "MatchResult",
    "RatingTable",
    "SprtConfig",
    "TournamentResult",
    "fit_ratings",
    "parse_sprt",
    "play_match",
    "run_tournament",
]
