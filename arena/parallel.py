"""Running a match's chunks in this process or on Ray workers, yielding them in chunk order.

Results are handed back strictly in chunk order (a finished later chunk waits for the earlier
ones), so an SPRT that stops after chunk c stops at the same game whatever the number of
workers, and the games beyond it are discarded. Each worker is an actor that builds its own
players once (from the spec strings, or from the Player objects shipped through Ray's object
store) and then plays chunk after chunk. Ray is started only through `ensure_ray`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ponder.agents.player import Player
from ponder.arena.match import GameResult, GameSetup, play_games
from ponder.errors import PonderError
from ponder.seeds import derive_seed


def chunk_seed(match_seed: int, chunk: int) -> int:
    return derive_seed(match_seed, chunk, 0x5EED)


class ArenaWorker:
    """One process' share of a match: its own copies of both players."""

    def __init__(self, game_name: str, player_a: str | Player, player_b: str | Player):
        from ponder.arena.specs import make_player
        from ponder.envs.registry import get_game

        self.game = get_game(game_name)
        self.player_a = make_player(player_a, self.game)
        self.player_b = make_player(player_b, self.game)

    def play(
        self, setups: list[GameSetup], seed: int, chunk: int, record: bool
    ) -> list[GameResult]:
        return play_games(
            self.game, self.player_a, self.player_b, setups, seed, chunk=chunk, record=record
        )


def _cluster_cpus(wait_s: float = 10.0) -> int:
    """The cluster's CPU count; right after start-up Ray may not have reported it yet."""
    import ray

    deadline = time.monotonic() + wait_s
    while True:
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus or time.monotonic() > deadline:
            return cpus
        time.sleep(0.1)


def run_chunks(
    game: Any,
    a: Player,
    b: Player,
    source_a: str | Player,
    source_b: str | Player,
    chunks: Sequence[list[GameSetup]],
    match_seed: int,
    workers: int,
    record: bool,
    advance: Callable[[int], None],
) -> Iterator[list[GameResult]]:
    """Yield each chunk's games in chunk order; stop early when the caller stops iterating."""
    if workers < 0:
        raise PonderError(f"--workers must be 0 (in-process) or more (got {workers})")
    if workers == 0 or len(chunks) == 0:
        for c, setups in enumerate(chunks):
            yield play_games(
                game,
                a,
                b,
                setups,
                chunk_seed(match_seed, c),
                chunk=c,
                record=record,
                on_game_end=lambda _: advance(1),
            )
        return
    yield from _run_on_ray(game, source_a, source_b, chunks, match_seed, workers, record, advance)


def _run_on_ray(
    game: Any,
    source_a: str | Player,
    source_b: str | Player,
    chunks: Sequence[list[GameSetup]],
    match_seed: int,
    workers: int,
    record: bool,
    advance: Callable[[int], None],
) -> Iterator[list[GameResult]]:
    import ray

    from ponder.selfplay.cluster import ensure_ray

    ensure_ray()
    cpus = _cluster_cpus()
    if cpus and workers > cpus:  # actors asking for a CPU each would wait forever
        raise PonderError(f"--workers {workers} exceeds the {cpus} CPUs Ray can use")
    actor_class = ray.remote(num_cpus=1)(ArenaWorker)
    count = min(workers, len(chunks))
    actors = [actor_class.remote(game.name, source_a, source_b) for _ in range(count)]
    pending: dict[Any, tuple[int, Any]] = {}
    next_chunk = 0

    def submit(actor: Any) -> None:
        nonlocal next_chunk
        c = next_chunk
        ref = actor.play.remote(list(chunks[c]), chunk_seed(match_seed, c), c, record)
        pending[ref] = (c, actor)
        next_chunk += 1

    try:
        for actor in actors:
            if next_chunk < len(chunks):
                submit(actor)
        finished: dict[int, list[GameResult]] = {}
        emit = 0
        while emit < len(chunks):
            ready, _ = ray.wait(list(pending), num_returns=1)
            c, actor = pending.pop(ready[0])
            try:
                finished[c] = ray.get(ready[0])
            except ray.exceptions.RayTaskError as exc:
                cause = exc.cause if isinstance(exc.cause, PonderError) else None
                if cause is not None:
                    raise cause from None
                raise
            advance(len(finished[c]))
            if next_chunk < len(chunks):
                submit(actor)
            while emit in finished:
                yield finished.pop(emit)
                emit += 1
    finally:
        for actor in actors:
            ray.kill(actor)
