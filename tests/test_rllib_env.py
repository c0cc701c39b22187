"""The native board games as RLlib multi-agent environments: RLlib's own environment check,
whole games with the right results, illegal moves, and PPO iterations with RLlib's
action-masking module in self-play."""

from __future__ import annotations

import numpy as np
import pytest
from ray.rllib.utils.pre_checks.env import check_multiagent_environments

from ponder.envs.registry import get_game, native_game_names
from ponder.selfplay.rllib_env import BoardGameMultiAgentEnv


@pytest.mark.parametrize("name", [*native_game_names(), "openspiel:breakthrough"])
def test_passes_rllibs_environment_check(name: str) -> None:
    check_multiagent_environments(BoardGameMultiAgentEnv({"game": name}))


def play_random_game(env: BoardGameMultiAgentEnv, rng: np.random.Generator):
    """Random legal moves to the end; returns the moves and the final step's results."""
    observations, _ = env.reset(seed=0)
    moves = []
    while True:
        (agent, obs), *rest = observations.items()
        assert not rest, "one agent moves at a time"
        assert env.observation_spaces[agent].contains(obs)
        action = int(rng.choice(np.flatnonzero(obs["action_mask"])))
        moves.append(action)
        observations, rewards, terminateds, truncateds, _ = env.step({agent: action})
        if terminateds["__all__"] or truncateds["__all__"]:
            return moves, rewards, terminateds


@pytest.mark.parametrize("name", ["tic_tac_toe", "connect_four", "openspiel:tic_tac_toe"])
def test_random_games_end_with_the_games_result(name: str) -> None:
    env = BoardGameMultiAgentEnv({"game": name})
    game = get_game(name)
    rng = np.random.default_rng(3)
    for _ in range(20):
        moves, rewards, terminateds = play_random_game(env, rng)
        state = game.new_states(1)[0]
        for move in moves:
            done, outcome = game.play(state, move)
        assert done
        assert rewards == {"player_0": float(outcome), "player_1": -float(outcome)}
        assert terminateds["player_0"] and terminateds["player_1"]


def test_illegal_move_loses() -> None:
    env = BoardGameMultiAgentEnv({"game": "tic_tac_toe"})
    env.reset()
    env.step({"player_0": 4})
    _, rewards, terminateds, _, _ = env.step({"player_1": 4})  # cell 4 is taken
    assert terminateds["__all__"]
    assert rewards["player_1"] == -1.0


@pytest.mark.slow
def test_ppo_league_self_play_exports_a_ponder_player(tmp_path) -> None:
    """A few PPO iterations with ponder's network (one league snapshot on the way); the
    exported checkpoint loads as a player and plays legal games in the arena."""
    from ponder.arena.match import play_match
    from ponder.selfplay import rllib_ppo

    network = {"blocks": 1, "channels": 8, "value_hidden": 8}
    run = rllib_ppo.train(
        "tic_tac_toe",
        tmp_path / "ppo",
        minutes=0.0,  # one iteration
        network=network,
        checkpoint_every=1,
        snapshot_every=1,
        batch_size=256,
    )
    stems = run["checkpoints"]
    assert run["result"]["league_size"] == 2  # main and its first snapshot
    assert len(stems) == 1 and stems[0].with_suffix(".safetensors").is_file()
    result = play_match("tic_tac_toe", f"{stems[0]}@0", "random", 4, seed=0)
    assert result.num_games == 4
    searched = play_match("tic_tac_toe", f"{stems[0]}@8", "random", 2, seed=1)
    assert searched.num_games == 2
