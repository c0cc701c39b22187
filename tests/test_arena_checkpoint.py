"""AlphaZero checkpoints in the arena: a tiny (untrained) network saved as training saves it,
pitted with and without search, and refused in a match of another game."""

import json
import sys

import pytest
import torch

from ponder import cli
from ponder.agents.alphazero.config import AZConfig
from ponder.agents.alphazero.learner import AZLearner
from ponder.arena import play_match
from ponder.envs.registry import get_game
from ponder.rundir import RunDir


def _save_tiny_checkpoint(root, game_name: str) -> str:
    cfg = AZConfig.model_validate(
        {
            "game": game_name,
            "network": {"blocks": 1, "channels": 8, "value_hidden": 8},
            "selfplay": {"search": {"num_simulations": 8, "leaves_per_step": 2}},
        }
    )
    trainer = AZLearner(get_game(game_name), cfg)
    run = RunDir.create(root / game_name, prefix="az")
    tensors, meta = trainer.checkpoint({"positions": 0})
    return str(run.save_checkpoint(trainer.step, tensors, meta))


@pytest.fixture(scope="module")
def ttt_checkpoint(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield _save_tiny_checkpoint(tmp_path_factory.mktemp("runs"), "tic_tac_toe")
    torch.set_num_threads(threads)


def _main(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["ponder", *args])
    with pytest.raises(SystemExit) as info:
        cli.main()
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_pit_a_checkpoint_with_search_and_records(ttt_checkpoint, tmp_path, monkeypatch, capsys):
    spec = f"{ttt_checkpoint}@8"
    games = tmp_path / "games.jsonl"
    code, stdout, err = _main(
        monkeypatch,
        capsys,
        "pit",
        spec,
        "random",
        "-g",
        "tic_tac_toe",
        "-n",
        "8",
        "--games-out",
        str(games),
        "--json",
        str(tmp_path / "r.json"),
    )
    assert code == 0, err
    assert "W-D-L" in stdout
    (match,) = json.loads((tmp_path / "r.json").read_text())["matches"]
    assert match["player_a"] == spec and match["games"] == 8
    records = [json.loads(line) for line in games.read_text().splitlines()]
    searched = [s for r in records for s in r["search"] if s["player"] == spec]
    assert searched and all(sum(t["visits"] for t in s["top"]) > 0 for s in searched)
    assert all("q" in t and "prior" in t for s in searched for t in s["top"])


def test_raw_policy_checkpoint_in_the_library_api(ttt_checkpoint):
    result = play_match("tic_tac_toe", f"{ttt_checkpoint}@0:t=0.5", "random", 6, seed=1)
    assert result.player_a.endswith("@0:t=0.5") and result.num_games == 6


def test_a_hex_checkpoint_in_a_connect_four_match(tmp_path, monkeypatch, capsys):
    stem = _save_tiny_checkpoint(tmp_path, "hex_3")
    code, _, err = _main(monkeypatch, capsys, "pit", f"{stem}@16", "random", "-g", "connect_four")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "is for game='hex_3', expected 'connect_four'" in err
