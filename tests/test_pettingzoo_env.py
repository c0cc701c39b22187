"""PettingZoo AEC envs for native and OpenSpiel games: PettingZoo's api_test, full random games
with rewards that match the native outcome, turn order, and the illegal-move wrapper."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pettingzoo.test import api_test

from ponder.envs.pettingzoo_env import BoardGameAEC, env, raw_env
from ponder.envs.registry import get_game, native_game_names
from ponder.errors import PonderError


@pytest.mark.parametrize("name", ["tic_tac_toe", "connect_four", "openspiel:breakthrough"])
def test_pettingzoo_api_test_passes(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # api_test reports most problems as warnings
        # These two flag the classic dict observation itself; api_test exempts PettingZoo's own
        # classic games (same observation layout) from them by name.
        warnings.filterwarnings("ignore", "Observation space for each agent probably should be")
        warnings.filterwarnings("ignore", "Observation is not a NumPy array")
        api_test(env(name, render_mode="ansi"), num_cycles=300)


@pytest.mark.parametrize("name", native_game_names())
def test_random_games_reward_the_native_outcome(name):
    game = get_game(name)
    aec = env(name)
    rng = np.random.default_rng(0)
    aec.reset(seed=0)
    row = game.new_states(1)[0]  # the same moves on a native row
    planes = np.zeros(game.obs_shape, dtype=np.float32)
    totals = {"player_0": 0.0, "player_1": 0.0}
    for agent in aec.agent_iter(max_iter=4 * game.max_moves):
        observation, reward, termination, truncation, _ = aec.last()
        totals[agent] += reward
        assert not truncation
        if termination:
            aec.step(None)
            continue
        assert agent == f"player_{game.to_play(row)}"
        game.encode(row, planes)
        assert np.array_equal(observation["observation"], planes)
        other = "player_1" if agent == "player_0" else "player_0"
        assert not aec.observe(other)["action_mask"].any()
        action = int(rng.choice(np.flatnonzero(observation["action_mask"])))
        aec.step(action)
        game.play(row, action)
    assert game.is_terminal(row) and not aec.agents
    assert totals == {"player_0": game.outcome(row), "player_1": -game.outcome(row)}


def test_tic_tac_toe_win_rewards_and_turn_order():
    aec = env("tic_tac_toe")
    aec.reset()
    for action, agent in zip([0, 3, 1, 4, 2], ["player_0", "player_1"] * 3, strict=False):
        assert aec.agent_selection == agent
        aec.step(action)
    assert aec.terminations == {"player_0": True, "player_1": True}
    assert aec._cumulative_rewards == {"player_0": 1.0, "player_1": -1.0}


def test_illegal_move_loses_through_the_wrapper_and_raises_on_the_raw_env(caplog):
    aec = env("tic_tac_toe")
    aec.reset()
    aec.step(4)
    aec.step(4)
    assert "Illegal move" in caplog.text
    assert aec._cumulative_rewards["player_1"] == -1.0
    assert all(aec.terminations.values())
    raw = raw_env("tic_tac_toe")
    raw.reset()
    raw.step(4)
    with pytest.raises(ValueError, match="illegal action 4 by player_1"):
        raw.step(4)


def test_bad_configuration_is_a_user_error():
    with pytest.raises(PonderError, match="render_mode"):
        BoardGameAEC("tic_tac_toe", render_mode="rgb_array")
    assert raw_env("connect_four").metadata["name"] == "ponder_connect_four_v0"
