"""Values follow the player to move, not an assumed alternation: a game with extra turns."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pytest

from ponder.search import BatchedMCTS, RolloutEvaluator, SearchConfig, UCTRollout


@dataclass
class NimState:
    stones: int
    player: int = 0
    moves: list[int] = field(default_factory=list)

    def history(self) -> list[int]:
        return list(self.moves)


class ExtraTurnNim:
    """Take 1, 2 or 3 stones (actions 0-2); leaving a pile of 4k + 1 stones earns another turn;
    whoever takes the last stone wins. Behind the Python-state game interface of the OpenSpiel
    backend, so the shared tree code meets a game where turns do not alternate."""

    kind = "openspiel"
    num_actions = 3
    obs_shape = (1, 1, 1)

    def __init__(self, stones: int):
        self.stones = stones

    def init(self) -> NimState:
        return NimState(self.stones)

    def clone(self, state: NimState) -> NimState:
        return NimState(state.stones, state.player, list(state.moves))

    def legal_mask(self, state: NimState, out: np.ndarray) -> None:
        out[:] = False
        out[: min(3, state.stones)] = True

    def to_play(self, state: NimState) -> int:
        return state.player

    def is_terminal(self, state: NimState) -> bool:
        return state.stones == 0

    def play(self, state: NimState, action: int) -> tuple[bool, float]:
        taken = action + 1
        state.stones -= taken
        state.moves.append(action)
        if state.stones == 0:
            return True, 1.0 if state.player == 0 else -1.0
        if state.stones % 4 != 1:
            state.player = 1 - state.player
        return False, 0.0

    def encode(self, state: NimState, planes: np.ndarray) -> None:
        planes[...] = state.stones


def action_value(stones: int, take: int) -> int:
    """Exact value of taking `take` stones, for the player taking them."""
    rest = stones - take
    if rest == 0:
        return 1
    return mover_value(rest) if rest % 4 == 1 else -mover_value(rest)


@functools.cache
def mover_value(stones: int) -> int:
    """Exact value for the player to move."""
    return max(action_value(stones, take) for take in (1, 2, 3) if take <= stones)


def best_actions(stones: int) -> set[int]:
    legal = [take for take in (1, 2, 3) if take <= stones]
    return {take - 1 for take in legal if action_value(stones, take) == mover_value(stones)}


def test_the_game_has_wins_and_losses():
    values = [mover_value(n) for n in range(1, 15)]
    assert values.count(-1) >= 3 and values.count(1) >= 3


@pytest.mark.parametrize("stones", [5, 6, 7, 8, 10, 13, 14])
def test_search_values_follow_the_player_to_move(stones):
    game = ExtraTurnNim(stones)
    states = [game.init(), game.init()]
    game.play(states[1], 0)  # the other player to move
    cfg = SearchConfig(num_simulations=800)
    result = BatchedMCTS(game, 2, cfg, RolloutEvaluator(game, seed=3)).search(states)
    uct = UCTRollout(game, 2, 400, seed=1).search(states)
    for i, state in enumerate(states):
        exact = mover_value(state.stones)
        assert result.action[i] in best_actions(state.stones)
        assert uct.action[i] in best_actions(state.stones)
        assert result.root_value[i] * exact > 0.2
