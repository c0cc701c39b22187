"""Uniformly random playouts of a native game, as numba kernels.

`make_random_playout(game)` returns a jitted `playout(state, mask_scratch, rng, row) -> outcome
for player 0` that other jitted kernels can call (the UCT baseline and the rollout evaluator do);
it is built once per game as a closure over the game's jitted functions, so numba specialises it
per game. `random_playouts_batch` plays whole batches of games in lockstep for the throughput
benchmark and for checking outcome statistics.

Randomness comes from the caller's per-row streams (`ponder.envs.rng`): row `row` of `rng`, so
a playout inside tree b of a batched search draws from tree b's stream alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ponder.envs.board.base import BoardGame
from ponder.envs.jit_cache import njit_closure
from ponder.envs.rng import randint, seed_rows


@functools.cache
def make_random_playout(game: BoardGame) -> Callable:
    """Jitted `playout(state, mask_scratch, rng, row) -> float`: random legal moves to the end,
    in place, drawn from stream `row` of `rng` (a uint64 array seeded by `rng.seed_rows`).

    `state` is one state row (the caller copies it first if the position must survive);
    `mask_scratch` is a bool array of length `num_actions`. Returns the final outcome for player
    0 (+1, 0, -1); a position that is already over returns its outcome unchanged.
    """
    legal_mask, play, is_terminal, outcome = (
        game.legal_mask,
        game.play,
        game.is_terminal,
        game.outcome,
    )
    num_actions = game.num_actions

    def placement_playout(state, mask_scratch, rng, row):
        # One legal mask for the whole game, drawn from by rejection: uniform over the free
        # actions, and far cheaper than a full mask and two scans per move.
        if is_terminal(state):
            return outcome(state)
        legal_mask(state, mask_scratch)
        free = 0
        for a in range(num_actions):
            if mask_scratch[a]:
                free += 1
        while free > 0:
            action = randint(rng, row, num_actions)
            if not mask_scratch[action]:
                continue
            mask_scratch[action] = False
            free -= 1
            done, result = play(state, action)
            if done:
                return result
        raise ValueError("position is not terminal but has no legal action")

    if game.placement:
        return njit_closure(placement_playout)

    def playout(state, mask_scratch, rng, row):
        if is_terminal(state):
            return outcome(state)
        while True:
            legal_mask(state, mask_scratch)
            count = 0
            for a in range(num_actions):
                if mask_scratch[a]:
                    count += 1
            if count == 0:
                raise ValueError("position is not terminal but has no legal action")
            pick = randint(rng, row, count)
            action = -1
            for a in range(num_actions):
                if mask_scratch[a]:
                    if pick == 0:
                        action = a
                        break
                    pick -= 1
            done, result = play(state, action)
            if done:
                return result

    return njit_closure(playout)


@functools.cache
def _make_batch_runner(game: BoardGame) -> Callable:
    """Jitted `run(states, mask, rounds, rng) -> (moves, counts)`; see `random_playouts_batch`."""
    init, legal_mask, play = game.init, game.legal_mask, game.play
    num_actions = game.num_actions

    def run(states, mask, rounds, rng):
        batch = states.shape[0]
        done = np.zeros(batch, dtype=np.bool_)
        counts = np.zeros(3, dtype=np.int64)  # player 0 wins, draws, player 1 wins
        moves = 0
        for _ in range(rounds):
            for i in range(batch):
                init(states[i])
                done[i] = False
            remaining = batch
            # Lockstep: every unfinished game makes one move per sweep, as batched search does.
            while remaining > 0:
                for i in range(batch):
                    if done[i]:
                        continue
                    legal_mask(states[i], mask)
                    count = 0
                    for a in range(num_actions):
                        if mask[a]:
                            count += 1
                    if count == 0:
                        raise ValueError("position is not terminal but has no legal action")
                    pick = randint(rng, i, count)
                    action = -1
                    for a in range(num_actions):
                        if mask[a]:
                            if pick == 0:
                                action = a
                                break
                            pick -= 1
                    finished, result = play(states[i], action)
                    moves += 1
                    if finished:
                        done[i] = True
                        remaining -= 1
                        if result > 0:
                            counts[0] += 1
                        elif result < 0:
                            counts[2] += 1
                        else:
                            counts[1] += 1
        return moves, counts

    return njit_closure(run)


@dataclass(frozen=True)
class PlayoutCounts:
    games: int
    moves: int
    first_wins: int  # player 0
    draws: int
    second_wins: int  # player 1


def random_playouts_batch(
    game: BoardGame, batch: int, rounds: int = 1, seed: int = 0
) -> PlayoutCounts:
    """Play `rounds` x `batch` uniformly random games to the end, `batch` at a time in lockstep.

    The whole loop runs in one numba call on one thread, one random stream per slot of the
    batch, so the result is reproducible for a given seed and comparable with any
    single-threaded engine.
    """
    if batch < 1 or rounds < 1:
        raise ValueError(f"batch and rounds must be positive, got {batch} and {rounds}")
    states = np.zeros((batch, game.state_len), dtype=game.state_dtype)
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    rng = np.zeros(batch, dtype=np.uint64)
    seed_rows(rng, seed)  # game i of each round draws from stream i
    moves, counts = _make_batch_runner(game)(states, mask, rounds, rng)
    return PlayoutCounts(
        games=batch * rounds,
        moves=int(moves),
        first_wins=int(counts[0]),
        draws=int(counts[1]),
        second_wins=int(counts[2]),
    )
