"""The AlphaZero checkpoint player: loads what the trainer saves, plays legal moves with and
without search, and refuses checkpoints of another game, algorithm or network shape."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from az_core_support import one_torch_thread  # noqa: F401

from ponder.agents.alphazero.config import AZConfig
from ponder.agents.alphazero.learner import AZLearner
from ponder.agents.alphazero.player import load_checkpoint_player, network_player
from ponder.agents.player import Player
from ponder.envs.registry import get_game
from ponder.errors import PonderError
from ponder.rundir import RunDir


def tiny_config(game: str = "tic_tac_toe") -> AZConfig:
    return AZConfig.model_validate(
        {
            "game": game,
            "network": {"blocks": 1, "channels": 8, "value_hidden": 8},
            "selfplay": {"search": {"num_simulations": 8, "leaves_per_step": 2}},
        }
    )


@pytest.fixture(scope="module")
def saved_checkpoint(tmp_path_factory) -> str:
    game = get_game("tic_tac_toe")
    trainer = AZLearner(game, tiny_config())
    run = RunDir.create(tmp_path_factory.mktemp("run") / "r", prefix="az")
    tensors, meta = trainer.checkpoint({"positions": 0})
    return str(run.save_checkpoint(trainer.step, tensors, meta))


def play_games(game, first: Player, second: Player, num_games: int, seed: int) -> list[float]:
    """Batched games in lockstep; every move must be legal. Returns outcomes for player 0."""
    players = (first, second)
    for k, player in enumerate(players):
        player.start(game, num_games, seed + k)
    states = game.new_states(num_games)
    histories: list[list[int]] = [[] for _ in range(num_games)]
    outcomes = [None] * num_games
    mask = np.zeros(game.num_actions, np.bool_)
    while any(o is None for o in outcomes):
        for seat, player in enumerate(players):
            rows = np.array(
                [
                    i
                    for i in range(num_games)
                    if outcomes[i] is None and game.to_play(states[i]) == seat
                ]
            )
            if len(rows) == 0:
                continue
            actions, _ = player.act(states[rows], [histories[i] for i in rows], rows)
            for row, action in zip(rows, actions, strict=True):
                game.legal_mask(states[row], mask)
                assert mask[action], f"{player.spec} played illegal {action}"
                histories[row].append(int(action))
                done, outcome = game.play(states[row], int(action))
                if done:
                    outcomes[row] = outcome
    return outcomes


class RandomMover:
    spec = "random"

    def start(self, game, num_games: int, seed: int) -> None:
        self.game, self.rng = game, np.random.default_rng(seed)

    def act(self, states, histories, indices):
        mask = np.zeros(self.game.num_actions, np.bool_)
        out = []
        for state in states:
            self.game.legal_mask(state, mask)
            out.append(self.rng.choice(np.flatnonzero(mask)))
        return np.array(out, dtype=np.int64), None


@pytest.mark.parametrize("simulations", [0, 8])
def test_checkpoint_player_plays_legal_moves(saved_checkpoint: str, simulations: int) -> None:
    game = get_game("tic_tac_toe")
    player = load_checkpoint_player(saved_checkpoint, simulations, 0.0, game)
    assert isinstance(player, Player)
    assert player.spec == f"{saved_checkpoint}@{simulations}"
    outcomes = play_games(game, player, RandomMover(), num_games=6, seed=0)
    outcomes += play_games(game, RandomMover(), player, num_games=6, seed=1)
    assert len(outcomes) == 12


def test_search_info_and_raw_policy_argmax(saved_checkpoint: str) -> None:
    game = get_game("tic_tac_toe")
    states = game.new_states(3)
    game.play(states[1], 4)
    game.play(states[2], 0)
    game.play(states[2], 8)
    searcher = load_checkpoint_player(saved_checkpoint, 8, 0.0, game)
    searcher.start(game, 5, seed=0)
    actions, info = searcher.act(states, [[], [4], [0, 8]], np.array([0, 2, 4]))
    assert info.visits.shape == (3, 9) and np.all(info.visits.sum(axis=1) >= 8 - 1)
    assert np.all(info.visits[1][[4]] == 0) and np.all(info.visits[2][[0, 8]] == 0)
    for state, action in zip(states, actions, strict=True):
        assert action in game.legal_actions(state)

    raw = load_checkpoint_player(saved_checkpoint, 0, 0.0, game)
    raw.start(game, 3, seed=0)
    actions, info = raw.act(states, [[]] * 3, np.arange(3))
    for state, action, prior in zip(states, actions, info.prior, strict=True):
        legal = game.legal_actions(state)
        assert action == legal[np.argmax(prior[legal])]


def test_raw_policy_temperature_samples_only_legal_moves(saved_checkpoint: str) -> None:
    game = get_game("tic_tac_toe")
    player = load_checkpoint_player(saved_checkpoint, 0, 1.0, game)
    player.start(game, 200, seed=0)
    states = game.new_states(200)
    for state in states:
        game.play(state, 4)
    actions, _ = player.act(states, [[4]] * 200, np.arange(200))
    assert 4 not in set(actions.tolist()) and len(set(actions.tolist())) > 3


def test_network_player_from_published_weights() -> None:
    game = get_game("connect_four")
    cfg = tiny_config("connect_four")
    weights = AZLearner(game, cfg).weights()
    player = network_player(weights, game, cfg.network, 4, 0.0, "latest@4")
    outcomes = play_games(game, player, RandomMover(), num_games=2, seed=0)
    assert len(outcomes) == 2
    bad = {k: torch.zeros(1) if k.endswith("policy_fc.weight") else v for k, v in weights.items()}
    with pytest.raises(PonderError, match=r"policy_fc\.weight"):
        network_player(bad, game, cfg.network, 0, 0.0, "bad@0")


def test_mismatched_checkpoints_are_one_line_errors(saved_checkpoint: str, tmp_path) -> None:
    with pytest.raises(PonderError, match="game"):
        load_checkpoint_player(saved_checkpoint, 0, 0.0, get_game("connect_four"))
    with pytest.raises(PonderError, match="not found"):
        load_checkpoint_player(str(tmp_path / "nothing"), 0, 0.0, get_game("tic_tac_toe"))
    with pytest.raises(PonderError, match="temperature"):
        load_checkpoint_player(saved_checkpoint, 0, -1.0, get_game("tic_tac_toe"))

    # Same files, metadata edited to claim another network shape or another algorithm.
    meta = json.loads(Path(saved_checkpoint + ".json").read_text())
    blob = Path(saved_checkpoint + ".safetensors").read_bytes()
    for name, change in (
        ("wide", {"network": {**meta["network"], "channels": 16}}),
        ("dqn", {"algorithm": "dqn"}),
    ):
        stem = tmp_path / name
        stem.with_suffix(".safetensors").write_bytes(blob)
        stem.with_suffix(".json").write_text(json.dumps({**meta, **change}))
        with pytest.raises(PonderError) as info:
            load_checkpoint_player(str(stem), 0, 0.0, get_game("tic_tac_toe"))
        assert "\n" not in str(info.value)
        assert ("shape" in str(info.value)) if name == "wide" else ("alphazero" in str(info.value))


def test_arena_plays_a_checkpoint_spec(saved_checkpoint: str) -> None:
    from ponder.arena.match import play_match

    result = play_match("tic_tac_toe", f"{saved_checkpoint}@4", "random", num_games=4, seed=0)
    assert result.num_games == 4
    assert result.wins + result.draws + result.losses == 4
