"""Gymnasium envs for native games: Gymnasium's own checker, registration of every native game,
seeding, both seats, custom opponents, and both illegal-action modes."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from ponder.envs.gym_env import BoardGameEnv, env_id
from ponder.envs.registry import get_game, native_game_names
from ponder.errors import PonderError


def _first_legal(info):
    return int(np.flatnonzero(info["action_mask"])[0])


def test_env_ids():
    assert env_id("connect_four") == "ponder/ConnectFour-v0"
    assert env_id("hex_7") == "ponder/Hex7-v0"
    assert env_id("othello_6x6") == "ponder/Othello6x6-v0"


@pytest.mark.parametrize("agent_player", [0, 1])
def test_gymnasium_checker_passes(agent_player):
    env = gymnasium.make("ponder/ConnectFour-v0", agent_player=agent_player, render_mode="ansi")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker reports most problems as warnings
        check_env(env.unwrapped)


@pytest.mark.parametrize("name", native_game_names())
def test_every_native_game_is_registered_and_plays_to_the_end(name):
    env = gymnasium.make(env_id(name))
    game = get_game(name)
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    steps, done, reward = 0, False, 0.0
    while not done:
        assert env.observation_space.contains(obs)  # planes lie in the declared [0, 1] box
        assert info["action_mask"].dtype == np.int8 and info["action_mask"].any()
        action = int(rng.choice(np.flatnonzero(info["action_mask"])))
        obs, reward, done, truncated, info = env.step(action)
        assert not truncated
        steps += 1
        assert steps <= game.max_moves
    assert reward in (-1.0, 0.0, 1.0)
    assert not info["action_mask"].any()
    with pytest.raises(RuntimeError, match="after the game ended"):
        env.step(0)


def test_reset_seed_makes_episodes_repeat():
    env = BoardGameEnv("tic_tac_toe", agent_player=1)

    def episode(seed):
        obs, info = env.reset(seed=seed)
        trace = [obs.tobytes()]
        done = False
        while not done:
            obs, reward, done, _, info = env.step(_first_legal(info))
            trace.append(obs.tobytes())
        return trace, reward

    assert episode(3) == episode(3)
    assert len({str(episode(seed)) for seed in range(8)}) > 1


def test_outcome_reward_is_from_the_agents_seat():
    # The agent takes the lowest free cell; the opponent the highest. As player 0 the agent
    # completes 0-1-2 first (x: 0, 1, 2 vs o: 8, 7): a win.
    highest = lambda state: int(max(a for a in range(9) if state[a] == 0))  # noqa: E731
    env = BoardGameEnv("tic_tac_toe", agent_player=0, opponent=highest)
    obs, info = env.reset(seed=0)
    done = False
    while not done:
        obs, reward, done, _, info = env.step(_first_legal(info))
    assert reward == 1.0
    # As player 1 the opponent opens on 8 and completes 8-7-6 (o: 0, 1 in between): a loss.
    env = BoardGameEnv("tic_tac_toe", agent_player=1, opponent=highest)
    obs, info = env.reset(seed=0)
    assert obs[1, 2, 2] == 1.0  # the opponent's mark on cell 8, seen from the agent's side
    done = False
    while not done:
        obs, reward, done, _, info = env.step(_first_legal(info))
    assert reward == -1.0


def test_illegal_actions_raise_or_lose():
    env = BoardGameEnv("tic_tac_toe")
    env.reset(seed=0)
    env.step(4)
    with pytest.raises(ValueError, match="illegal action 4"):
        env.step(4)
    env = BoardGameEnv("tic_tac_toe", illegal_action="loss")
    env.reset(seed=0)
    env.step(4)
    _, reward, done, _, info = env.step(4)
    assert (reward, done, info["illegal_action"]) == (-1.0, True, True)
    cheat = BoardGameEnv("tic_tac_toe", agent_player=1, opponent=lambda state: 99)
    with pytest.raises(ValueError, match="opponent chose an illegal action 99"):
        cheat.reset(seed=0)


def test_bad_configuration_is_a_user_error():
    with pytest.raises(PonderError, match="agent_player"):
        BoardGameEnv("tic_tac_toe", agent_player=2)
    with pytest.raises(PonderError, match="illegal_action"):
        BoardGameEnv("tic_tac_toe", illegal_action="ignore")
    with pytest.raises(PonderError, match="numba-native"):
        BoardGameEnv("openspiel:breakthrough")
    assert BoardGameEnv("tic_tac_toe", render_mode="ansi").render().count("\n") == 2
