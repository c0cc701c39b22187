"""The native board games as RLlib multi-agent environments: RLlib's own environment check,
whole games with the right results, illegal moves, and PPO iterations with RLlib's
action-masking module in self-play."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from ray.rllib.utils.pre_checks.env import check_multiagent_environments

from ponder.envs.registry import get_game, native_game_names
from ponder.selfplay.rllib_env import BoardGameMultiAgentEnv

ROOT = Path(__file__).resolve().parents[1]


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


@pytest.mark.slow
def test_ppo_resume_restores_league_adam_and_counters(tmp_path) -> None:
    """A resumed PPO run goes on from its checkpoint: the league's frozen snapshot comes back
    unchanged, Adam's step count goes on (about twice the first session's after two
    iterations), main starts from its saved weights, the counters add up over sessions."""
    import json
    import subprocess
    import sys

    from ponder.checkpoint import load_checkpoint
    from ponder.errors import PonderError
    from ponder.selfplay import rllib_ppo

    out = tmp_path / "ppo"
    network = {"blocks": 1, "channels": 8, "value_hidden": 8}
    first = rllib_ppo.train(
        "tic_tac_toe", out, minutes=0.0, network=network, checkpoint_every=1,
        snapshot_every=1, batch_size=256,
    )["checkpoints"][-1]  # fmt: skip
    one = load_checkpoint(first)
    with pytest.raises(PonderError, match="pass a larger --minutes"):
        rllib_ppo.resume(out)  # its 0 minutes are spent
    budget = one.metadata["ppo"]["wall_seconds"] / 60 + 1e-6  # one more iteration
    two = load_checkpoint(rllib_ppo.resume(out, budget)["checkpoints"][-1])

    state_one, state_two = one.metadata["ppo"], two.metadata["ppo"]
    assert (state_one["iteration"], state_two["iteration"]) == (1, 2)
    assert state_two["sessions"] == 2 and state_two["env_steps"] > state_one["env_steps"] >= 256
    assert state_two["snapshots"] == ["main_v1", "main_v2"]
    snapshot = two.section("league/main_v1")
    for key, value in one.section("league/main_v1").items():
        if not key.endswith("num_batches_tracked"):  # a counter BatchNorm reads only without
            assert torch.equal(snapshot[key], value), key  # a momentum; RLlib's syncs move it
    steps = [float(c.metadata["ppo"]["optimizer"]["scalars"]["0"]["step"]) for c in (one, two)]
    assert steps[1] > 1.5 * steps[0] > 0  # about twice: Adam went on, it did not start over
    weights = [k for k in one.section("model") if "running" not in k and "num_batches" not in k]
    drift = max(
        float((two.section("model")[k] - one.section("model")[k]).abs().max()) for k in weights
    )
    assert drift < 0.01  # four Adam steps at lr 3e-4 from the saved weights, not a fresh net

    example = [str(ROOT / "examples/rllib_ppo_selfplay.py"), "--resume", str(out), "--blocks", "3"]
    refused = subprocess.run([sys.executable, *example], capture_output=True, text=True)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "error: --resume goes on with the run's own settings: drop --blocks"
    ]
    stored = json.loads(two.path.with_suffix(".json").read_text())
    assert stored["trained_by"] == "rllib_ppo"
