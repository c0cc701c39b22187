"""`ponder pit`, `ponder ratings`, `ponder play` and `ponder watch` through the real entry point."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from ponder import cli
from ponder.checkpoint import save_checkpoint


def run_main(monkeypatch, capsys, *args):
    """Call the installed entry point in-process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["ponder", *args])
    with pytest.raises(SystemExit) as info:
        cli.main()
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_pit_head_to_head_writes_json_csv_and_games(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r.json"
    code, stdout, _ = run_main(
        monkeypatch,
        capsys,
        "pit",
        "solver",
        "random",
        "--game",
        "tic_tac_toe",
        "--games",
        "20",
        "--json",
        str(out),
        "--csv",
        str(tmp_path / "r.csv"),
        "--games-out",
        str(tmp_path / "g.jsonl"),
    )
    assert code == 0
    assert "solver" in stdout and "W-D-L" in stdout and "LOS" in stdout
    data = json.loads(out.read_text())
    (match,) = data["matches"]
    assert match["games"] == 20 and match["losses"] == 0
    assert len(match["game_list"]) == 20 and data["mode"] == "head-to-head"
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert rows[0]["player_a"] == "solver" and int(rows[0]["wins"]) == match["wins"]
    lines = (tmp_path / "g.jsonl").read_text().splitlines()
    assert len(lines) == 20 and json.loads(lines[0])["game"] == "tic_tac_toe"


def test_pit_sprt_and_ratings_file(tmp_path, monkeypatch, capsys):
    ledger = tmp_path / "ratings.json"
    args = ["pit", "solver", "random", "-g", "tic_tac_toe", "-n", "400", "--batch", "8"]
    code, stdout, _ = run_main(
        monkeypatch,
        capsys,
        *args,
        "--sprt",
        "elo0=0,elo1=50,alpha=0.05,beta=0.05",
        "--ratings-file",
        str(ledger),
    )
    assert code == 0 and "H1 accepted" in stdout
    assert "SPRT [elo0=0, elo1=50, alpha=0.05, beta=0.05, pentanomial]: LLR" in stdout
    code, stdout, _ = run_main(monkeypatch, capsys, "ratings", str(ledger), "--bootstrap", "20")
    assert code == 0 and "solver" in stdout and "anchor random = 0" in stdout


def test_pit_round_robin_prints_ratings_in_order(tmp_path, monkeypatch, capsys):
    out = tmp_path / "t.json"
    code, stdout, _ = run_main(
        monkeypatch,
        capsys,
        "pit",
        "random",
        "solver",
        "openspiel:mcts:30",
        "-g",
        "tic_tac_toe",
        "-n",
        "20",
        "--bootstrap",
        "30",
        "--json",
        str(out),
    )
    assert code == 0
    ratings = json.loads(out.read_text())["ratings"]["players"]
    assert [r["player"] for r in ratings] == ["solver", "openspiel:mcts:30", "random"]
    assert stdout.index("solver") < stdout.index("random")


def test_uct_ladder_on_connect_four(tmp_path, monkeypatch, capsys):
    """The acceptance shape at small scale: more simulations rank higher, gaps are positive."""
    out = tmp_path / "c4.json"
    args = ["pit", "uct:20", "uct:200", "random", "-g", "connect_four", "--round-robin"]
    code, stdout, err = run_main(
        monkeypatch, capsys, *args, "-n", "16", "--bootstrap", "50", "--json", str(out)
    )
    assert code == 0, err
    ratings = json.loads(out.read_text())["ratings"]["players"]
    assert [r["player"] for r in ratings] == ["uct:200", "uct:20", "random"]
    elo = {r["player"]: r["rating"] for r in ratings}
    assert elo["uct:200"] - elo["uct:20"] > 50 and elo["uct:20"] > 100
    assert "connect_four round-robin ratings" in stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["pit", "uct:x", "random", "-g", "tic_tac_toe"], "player spec 'uct:x'"),
        (["pit", "random", "-g", "tic_tac_toe"], "at least two player specs"),
        (["pit", "random", "random", "-g", "chess9"], "unknown game 'chess9'"),
        (["pit", "solver", "random", "-g", "othello", "-n", "2"], "no exact solver for othello"),
        (["pit", "random", "random", "-g", "tic_tac_toe", "--sgf", "x.sgf"], "SGF"),
        (["pit", "a", "b", "c", "-g", "tic_tac_toe", "--sprt", "elo1=5"], "exactly two players"),
        (["pit", "random", "random", "-g", "tic_tac_toe", "--sprt", "elo1=x"], "not a number"),
        (["pit", "random", "random", "-g", "tic_tac_toe", "--openings", "odd"], "openings"),
        (["pit", "human", "random", "-g", "tic_tac_toe"], "ponder play"),
        (["ratings", "missing.json"], "ratings file not found"),
        (["play", "random", "-g", "tic_tac_toe", "--colour", "blue"], "--colour"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(monkeypatch, capsys, args, message):
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_mismatched_checkpoint_through_the_installed_command(tmp_path):
    """A hex checkpoint in a connect-four match: the real `ponder` process, one line, exit 2."""
    stem = save_checkpoint(
        tmp_path / "ckpt_000100", {"model/w": torch.zeros(3)}, {"game": "hex_5", "step": 100}
    )
    entry = Path(sys.executable).with_name("ponder")
    proc = subprocess.run(
        [str(entry), "pit", f"{stem}@10", "random", "--game", "connect_four"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "is for game='hex_5', expected 'connect_four'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_watch_shows_moves_with_top_moves(monkeypatch, capsys):
    code, stdout, _ = run_main(
        monkeypatch,
        capsys,
        "watch",
        "openspiel:mcts:50",
        "random",
        "-g",
        "tic_tac_toe",
        "--delay",
        "0",
    )
    assert code == 0
    assert "1. openspiel:mcts:50 (first) plays" in stdout
    assert "top:" in stdout and "v Q" in stdout
    assert stdout.rstrip().endswith("moves")


def test_play_against_a_player_with_scripted_input():
    runner = CliRunner()
    # Try every cell in order each turn; taken cells are refused and the next line is read.
    script = "zz\n" + "\n".join(["a1", "b1", "c1", "a2", "b2", "c2", "a3", "b3", "c3"] * 5) + "\n"
    result = runner.invoke(cli.app, ["play", "random", "-g", "tic_tac_toe"], input=script)
    assert result.exit_code == 0, result.output
    assert "not a tic-tac-toe move" in result.output
    assert "random (second) plays" in result.output
    assert any(s in result.output for s in ("wins", "draw"))
    quit_result = runner.invoke(
        cli.app, ["play", "random", "-g", "tic_tac_toe", "--colour", "second"], input="quit\n"
    )
    assert quit_result.exit_code == 0 and "game abandoned" in quit_result.output
