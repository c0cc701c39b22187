"""Player spec strings: what each builds, and one-line errors for every malformed spec."""

import pytest
import torch

from ponder.agents.players import OpenSpielMCTSPlayer, RandomPlayer, SolverPlayer, UCTPlayer
from ponder.arena.specs import make_player
from ponder.checkpoint import save_checkpoint
from ponder.envs.registry import get_game
from ponder.errors import PonderError

TTT = get_game("tic_tac_toe")


def test_specs_build_their_players():
    assert isinstance(make_player("random", TTT), RandomPlayer)
    uct = make_player("uct:400:c=1.5:rollouts=2", TTT)
    assert isinstance(uct, UCTPlayer)
    assert (uct.simulations, uct.uct_c, uct.rollouts, uct.spec) == (
        400,
        1.5,
        2,
        "uct:400:c=1.5:rollouts=2",
    )
    solver = make_player("solver:first", TTT)
    assert isinstance(solver, SolverPlayer) and solver.choice == "first"
    assert make_player("minimax", TTT).choice == "random"
    bot = make_player("openspiel:mcts:50:solve=1", TTT)
    assert isinstance(bot, OpenSpielMCTSPlayer) and bot.solve and bot.simulations == 50
    player = RandomPlayer(spec="mine")
    assert make_player(player, TTT) is player


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "empty player spec"),
        ("alphabeta", "unknown player spec 'alphabeta'"),
        ("uct", "positive number of simulations"),
        ("uct:-3", "positive number of simulations"),
        ("uct:ten", "positive number of simulations"),
        ("uct:100:c=abc", "c='abc' is not a number"),
        ("uct:100:depth=3", "unknown option 'depth=3'"),
        ("uct:100:c=1:c=2", "given twice"),
        ("uct:100:c=-1", "c must be positive"),
        ("openspiel:alphabeta", "openspiel:mcts:N"),
        ("openspiel:mcts", "positive number of simulations"),
        ("openspiel:mcts:10:solve=maybe", "solve= takes 0 or 1"),
        ("solver:best", "solver:first"),
        ("random:3", "unknown player spec"),
        ("runs/x/ckpt", "needs a search budget"),
        ("ckpt@many", "a checkpoint is PATH@N"),
        ("ckpt@10:t=hot", "t='hot' is not a number"),
        ("ckpt@10:t=inf", "t='inf' is not a number"),
        ("ckpt@10:root=alphabeta", "root must be puct or gumbel"),
        ("ckpt@10:adapt=1", "adapt is the most a move may take"),
        ("ckpt@0:adapt=4", "needs N > 0 simulations"),
        ("ckpt@10:depth=3", "unknown option 'depth=3'"),
        ("nowhere/ckpt@10", "checkpoint not found"),
    ],
)
def test_bad_specs_are_one_line_errors(spec, message):
    with pytest.raises(PonderError, match=message) as info:
        make_player(spec, TTT)
    assert "\n" not in str(info.value)


def test_a_checkpoint_of_another_game_is_refused(tmp_path):
    stem = save_checkpoint(
        tmp_path / "ckpt_000010", {"model/w": torch.zeros(2)}, {"game": "hex_5", "step": 10}
    )
    with pytest.raises(PonderError, match="is for game='hex_5', expected 'tic_tac_toe'"):
        make_player(f"{stem}@50", TTT)


def test_a_checkpoint_without_weights_is_refused(tmp_path):
    stem = save_checkpoint(
        tmp_path / "ckpt", {"model/w": torch.zeros(2)}, {"game": "tic_tac_toe", "step": 1}
    )
    stem.with_suffix(".json").unlink()
    with pytest.raises(PonderError, match=r"metadata file ckpt\.json is missing"):
        make_player(f"{stem}.safetensors@0", TTT)
