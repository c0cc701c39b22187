"""The study loop: build the roster, play the most informative games until every rating is
known to the target width (or the game or time budget is spent), then fit and write it all.

    <out>/study.json        what was asked (options, roster), rewritten at each start
    <out>/games.jsonl       every batch of games (the cache a resumed study starts from)
    <out>/positions.json    solver-labelled positions (games with a solver)
    <out>/optimal.json      each player's moves on them (cached by spec)
    <out>/results.json      every player's rating, compute and the fits
    <out>/report.md         the same for a reader, with the plots
    <out>/*.png, *.svg      Elo against test compute; iso-Elo contours; PUCT against Gumbel
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ponder.arena.ratings import RatingTable, fit_ratings
from ponder.arena.think.cache import GameCache
from ponder.arena.think.roster import (
    StudyPlayer,
    budget_ladder,
    build_roster,
    log_spaced,
    references,
    run_checkpoints,
)
from ponder.arena.think.schedule import half_widths, next_pairings, skeleton
from ponder.checkpoint import atomic_write_json
from ponder.errors import PonderError
from ponder.seeds import derive_seed

ANCHOR = "random"


@dataclass
class StudyOptions:
    run: Path
    out: Path
    checkpoints: int = 8
    max_budget: int = 512
    search: str = "puct"
    gumbel_max: int | None = None  # Gumbel players only up to this budget (None: all)
    adaptive: list[int] = field(default_factory=list)  # typical budgets of adaptive players
    adapt: float = 4.0  # an adaptive move may take up to adapt x its typical budget
    references: list[str] | None = None  # None: random, the UCT ladder, the solver
    ci: float = 50.0  # target 95% half-width of every rating, in Elo
    max_games: int = 20_000
    minutes: float = 0.0  # 0: no time limit
    games_per_batch: int = 32
    pairings_per_round: int = 4
    workers: int = 0
    positions: int = 300  # solver-labelled positions for optimal-move shares (0: none)
    seed: int = 0
    prior_draws: float = 1.0

    def check(self) -> None:
        if not math.isfinite(self.ci) or self.ci <= 0:
            raise PonderError(f"--ci must be a positive number of Elo (got {self.ci})")
        if self.games_per_batch < 2 or self.games_per_batch % 2:
            raise PonderError("--batch must be an even number of games, at least 2")
        if self.max_games < self.games_per_batch:
            raise PonderError(f"--max-games must be at least one batch ({self.games_per_batch})")
        if not math.isfinite(self.minutes) or self.minutes < 0:
            raise PonderError("--minutes must be >= 0 (0: no limit)")
        if self.workers < 0:
            raise PonderError("--workers must be >= 0")
        if not 1.0 < self.adapt <= 64.0:
            raise PonderError("--adapt must be above 1 and at most 64")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["run"], out["out"] = str(self.run), str(self.out)
        return out


@dataclass
class Study:
    options: StudyOptions
    game: Any
    roster: list[StudyPlayer]
    cache: GameCache
    book: list[tuple[int, ...]]
    stop_reason: str = ""
    table: RatingTable | None = None
    play_seconds: float = 0.0

    @property
    def specs(self) -> list[str]:
        return [p.spec for p in self.roster]


def prepare(options: StudyOptions) -> Study:
    """Validate everything and build the roster before any game is played."""
    from ponder.arena.openings import opening_book
    from ponder.arena.specs import check_player_for_game, make_player
    from ponder.checkpoint import read_metadata
    from ponder.envs.registry import get_game

    options.check()
    all_checkpoints = run_checkpoints(options.run)
    game = get_game(str(read_metadata(all_checkpoints[0].stem)["game"]))
    chosen = log_spaced(all_checkpoints, options.checkpoints)
    refs = references(game, options.references)
    roster = build_roster(
        chosen,
        budget_ladder(options.max_budget),
        options.search,
        refs,
        gumbel_max=options.gumbel_max,
        adaptive=options.adaptive,
        adapt=options.adapt,
    )
    checked: set[str] = set()
    for player in roster:  # one build per checkpoint and per reference catches every mistake
        key = str(player.checkpoint.stem) if player.checkpoint else player.spec
        if key in checked and player.adapt == 0 and player.root != "gumbel":
            continue
        checked.add(key)
        check_player_for_game(make_player(player.spec, game), game)
    if options.out.exists() and not options.out.is_dir():
        raise PonderError(f"--out {options.out} is a file, not a folder")
    options.out.mkdir(parents=True, exist_ok=True)
    cache = GameCache.open(options.out / "games.jsonl")
    book = opening_book(game, "auto", options.seed)
    return Study(options, game, roster, cache, book)


def _fit(study: Study) -> RatingTable | None:
    pairings = study.cache.pairings(set(study.specs))
    if not pairings:
        return None
    try:
        return fit_ratings(
            pairings,
            anchor=ANCHOR,
            prior_draws=study.options.prior_draws,
            players=study.specs,
            fisher=True,
        )
    except PonderError:
        return None  # not yet connected: the skeleton is still being played


def _missing_skeleton(study: Study) -> list[tuple[int, int]]:
    played = {frozenset((p.a, p.b)) for p in study.cache.pairings(set(study.specs))}
    specs = study.specs
    return [
        e for e in skeleton(study.roster) if frozenset((specs[e[0]], specs[e[1]])) not in played
    ]


def play_batch(study: Study, a: str, b: str) -> dict[str, Any]:
    """One batch of colour-swapped pairs between a and b, from openings not yet used by them."""
    from ponder.arena.match import play_match

    options = study.options
    done = study.cache.batches_between(a, b)
    pairs = options.games_per_batch // 2
    book = study.book
    offset = (done * pairs + derive_seed(a, b)) % len(book)
    openings = [book[(offset + q) % len(book)] for q in range(pairs)]
    per_worker = max(2, options.games_per_batch // max(options.workers, 1))
    start = time.perf_counter()
    result = play_match(
        study.game,
        a,
        b,
        options.games_per_batch,
        seed=derive_seed(options.seed, a, b, done),
        workers=options.workers,
        openings=openings,
        batch_games=per_worker + per_worker % 2,
    )
    seconds = time.perf_counter() - start
    study.play_seconds += seconds
    return study.cache.add(result, seconds)


def run(
    study: Study,
    on_batch: Callable[[Study, str], None] | None = None,
    play: Callable[[Study, str, str], Any] | None = None,
) -> Study:
    """Play until converged, out of games, or out of time; `on_batch` sees progress. `play`
    plays one batch (default `play_batch`; the tests pass a simulator of known Elo)."""
    play = play or play_batch
    options = study.options
    deadline = time.monotonic() + 60 * options.minutes if options.minutes > 0 else math.inf
    specs = study.specs
    fixed = [specs.index(ANCHOR)]
    while True:
        todo = _missing_skeleton(study)
        if not todo:
            study.table = _fit(study)
            if study.table is None:
                raise PonderError("the study's games do not connect every player to random")
            todo = next_pairings(
                study.table.rating,
                study.table.cov,
                options.ci,
                options.games_per_batch,
                options.pairings_per_round,
                fixed=fixed,
            )
            if not todo:
                study.stop_reason = f"every rating within +-{options.ci:g} Elo (95%)"
                break
        for i, j in todo:
            if study.cache.games + options.games_per_batch > options.max_games:
                study.stop_reason = f"game budget spent ({study.cache.games} games)"
                break
            if time.monotonic() > deadline:
                study.stop_reason = f"time budget spent ({options.minutes:g} min)"
                break
            play(study, specs[i], specs[j])
            if on_batch is not None:
                on_batch(study, f"{study.roster[i].name} vs {study.roster[j].name}")
        if study.stop_reason:
            break
    study.table = _fit(study)
    return study


def widest_interval(study: Study) -> float:
    table = _fit(study)
    if table is None or table.cov is None:
        return math.inf
    half = half_widths(table.cov)
    half[study.specs.index(ANCHOR)] = 0.0
    return float(half.max())


def write_study_file(study: Study) -> None:
    atomic_write_json(
        study.options.out / "study.json",
        {
            "game": study.game.name,
            "options": study.options.to_dict(),
            "players": [
                {
                    "name": p.name,
                    "spec": p.spec,
                    "step": p.step,
                    "budget": p.budget,
                    "root": p.root,
                    "adapt": p.adapt,
                }
                for p in study.roster
            ],
            "openings": [list(o) for o in study.book],
        },
    )


def optimal_shares(study: Study) -> dict[str, Any]:
    """Each network player's (and the references') optimal-move share on labelled positions,
    and, for adaptive players, what they spend against how hard each position is."""
    from ponder.arena.think.labels import (
        labelled_positions,
        optimal_hits,
        play_positions,
        spend_by_difficulty,
    )

    out_dir = study.options.out
    positions = labelled_positions(
        study.game, study.options.positions, study.options.seed, out_dir / "positions.json"
    )
    if not positions:
        return {}
    cache_path = out_dir / "optimal.json"
    cached = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    if cached.get("positions") != len(positions):
        cached = {"positions": len(positions), "players": {}}
    players = cached["players"]
    for p in study.roster:
        if p.spec in players or p.spec == ANCHOR or p.spec.startswith("solver"):
            continue
        if p.is_reference and not p.spec.startswith("uct"):
            continue
        actions, spent = play_positions(p.spec, study.game, positions)
        players[p.spec] = {
            "actions": [int(a) for a in actions],
            "evaluations": [int(s) for s in spent],
        }
        atomic_write_json(cache_path, cached)
    shares: dict[str, Any] = {"positions": len(positions), "players": {}, "adaptive": {}}
    for p in study.roster:
        if p.spec not in players:
            continue
        hits = optimal_hits(np.array(players[p.spec]["actions"]), positions)
        shares["players"][p.spec] = float(hits.mean())
        if p.adapt > 0 and p.checkpoint is not None:
            raw = players.get(f"{p.checkpoint.stem}@0")
            if raw is not None:
                raw_hits = optimal_hits(np.array(raw["actions"]), positions)
                shares["adaptive"][p.spec] = spend_by_difficulty(
                    np.array(players[p.spec]["evaluations"], dtype=np.float64),
                    raw_hits,
                    positions,
                )
    return shares
