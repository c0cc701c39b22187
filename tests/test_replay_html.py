"""HTML replays: the data a page gets from records, its size, and the three commands that write
pages (watch --html, pit --html, replay). The page in a real browser: test_replay_browser.py."""

import json
import re
import sys

import numpy as np
import pytest

from ponder import cli
from ponder.arena.match import play_match
from ponder.arena.records import game_record, write_records
from ponder.arena.replay_html import game_data, render_replay
from ponder.envs.registry import get_game
from ponder.errors import PonderError


def run_main(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["ponder", *args])
    with pytest.raises(SystemExit) as info:
        cli.main()
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def page_data(page: str) -> dict:
    block = re.search(
        r'<script id="ponder-data" type="application/json">(.*?)</script>', page, re.S
    )
    return json.loads(block.group(1))


def long_connect_four_record() -> dict:
    """A 40-move connect-four game where every move carries statistics for all 7 columns."""
    game = get_game("connect_four")
    rng = np.random.default_rng(0)
    while True:
        state, moves = game.new_states(1)[0], []
        while len(moves) < 40 and not game.is_terminal(state):
            action = int(rng.choice(game.legal_actions(state)))
            game.play(state, action)
            moves.append(action)
        if len(moves) == 40:
            break
    search = [
        {
            "ply": ply,
            "player": "runs/c4/checkpoints/ckpt_000012345@800",
            "value": round(float(rng.uniform(-1, 1)), 4),
            "visits_total": 800,
            "top": [
                {
                    "move": "abcdefg"[a],
                    "action": a,
                    "visits": 800 // 7,
                    "q": -0.1234,
                    "prior": 0.1429,
                }
                for a in range(7)
            ],
        }
        for ply in range(40)
    ]
    return {"game": "connect_four", "first": "a" * 40, "second": "b" * 40, "moves": moves,
            "result": "1/2-1/2", "search": search}  # fmt: skip


def test_a_forty_move_game_with_search_is_small_and_self_contained():
    page = render_replay([long_connect_four_record()])
    assert len(page.encode()) < 200_000  # the issue asks for well under 1 MB
    # Nothing is fetched: no external scripts, styles, images or fonts.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    assert "@import" not in page and "url(" not in page
    assert re.findall(r"https?://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"]
    data = page_data(page)
    g = data["games"][0]
    assert g["board"] == {"layout": "columns", "style": "discs", "rows": 6, "cols": 7,
                          "names": list("abcdefg")}  # fmt: skip
    assert len(g["positions"]) == 41 and all(len(p) == 42 for p in g["positions"])
    assert g["movers"][:4] == [0, 1, 0, 1] and g["notation"][0] in "abcdefg"
    assert g["search"][5]["total"] == 800 and len(g["search"][5]["top"]) == 7


def test_positions_follow_the_rules_and_match_the_games_cells():
    game = get_game("othello_6x6")
    match = play_match(game, "uct:20", "random", 2, openings="none", record=True)
    for result in match.games:
        data = game_data(game_record(match, result, game))
        state = game.new_states(1)[0]
        for ply, action in enumerate(result.moves):
            expect = "".join(str(v) for v in game.cells(state).reshape(-1))
            assert data["positions"][ply] == expect
            game.play(state, action)
        searched = [s for s in data["search"] if s and s["player"] == "uct:20"]
        assert searched and all(s["mover"] in (0, 1) and "value" in s for s in searched)


def test_a_game_without_cells_falls_back_to_its_text_picture():
    game = get_game("openspiel:tic_tac_toe")
    data = game_data({"game": game.name, "moves": [4, 0, 8]})
    assert data["board"] is None and len(data["texts"]) == 4 and "x" in data["texts"][1]


def test_bad_records_are_one_line_errors():
    with pytest.raises(PonderError, match="illegal"):
        game_data({"game": "tic_tac_toe", "moves": [4, 4]})
    with pytest.raises(PonderError, match="needs 'game' and 'moves'"):
        game_data({"moves": [1]})
    with pytest.raises(PonderError, match="no game records"):
        render_replay([])


def test_player_names_cannot_break_out_of_the_page():
    record = {"game": "tic_tac_toe", "first": "</script><b>x", "second": "o", "moves": [4]}
    page = render_replay([record])
    assert "</script><b>" not in page and page_data(page)["games"][0]["first"] == "</script><b>x"


def test_watch_pit_and_replay_write_pages(tmp_path, monkeypatch, capsys):
    out = tmp_path / "watch.html"
    code, stdout, _ = run_main(
        monkeypatch, capsys, "watch", "uct:30", "uct:10", "-g", "connect_four",
        "--delay", "0", "--html", str(out),
    )  # fmt: skip
    assert code == 0 and f"wrote {out}" in stdout
    g = page_data(out.read_text())["games"][0]
    assert g["first"] == "uct:30" and any(s and s["top"] for s in g["search"])

    records = tmp_path / "games.jsonl"
    code, stdout, _ = run_main(
        monkeypatch, capsys, "pit", "uct:20", "random", "-g", "tic_tac_toe", "-n", "4",
        "--games-out", str(records), "--html", str(tmp_path / "pages"), "--no-progress",
    )  # fmt: skip
    assert code == 0
    pages = sorted(p.name for p in (tmp_path / "pages").iterdir())
    assert pages == ["game-0000.html", "game-0001.html", "game-0002.html", "game-0003.html",
                     "index.html"]  # fmt: skip
    assert "game-0003.html" in (tmp_path / "pages" / "index.html").read_text()

    code, stdout, _ = run_main(
        monkeypatch, capsys, "replay", str(records), "--html", str(tmp_path / "all.html"),
        "--index", "1", "--index", "3",
    )  # fmt: skip
    assert code == 0 and "2 games" in stdout
    games = page_data((tmp_path / "all.html").read_text())["games"]
    assert [g["label"].split(":")[0] for g in games] == ["game 1", "game 3"]


def test_replay_reads_training_records_and_refuses_bad_input(tmp_path, monkeypatch, capsys):
    selfplay = tmp_path / "selfplay.jsonl"
    lines = [{"step": 10, "worker": 0, "game": "connect_four", "moves": [3, 3, 3], "outcome": 0.0,
              "resigned": False}]  # fmt: skip
    selfplay.write_text("".join(json.dumps(x) + "\n" for x in lines))
    code, _, _ = run_main(
        monkeypatch, capsys, "replay", str(selfplay), "--html", str(tmp_path / "sp.html")
    )
    assert code == 0
    g = page_data((tmp_path / "sp.html").read_text())["games"][0]
    assert g["first"] == "self-play" and "step 10" in g["label"]
    code, _, err = run_main(
        monkeypatch, capsys, "replay", str(selfplay), "--html", "x.html", "--index", "5"
    )
    assert code == 2 and "holds 1 records" in err and err.count("\n") == 1
    code, _, err = run_main(
        monkeypatch, capsys, "replay", str(tmp_path / "no.jsonl"), "--html", "x"
    )
    assert code == 2 and "not found" in err


def test_match_records_write_and_replay(tmp_path):
    game = get_game("hex_5")
    match = play_match(game, "uct:20", "uct:10", 2, record=True)
    write_records(tmp_path / "g.jsonl", [match], game)
    from ponder.arena.records import read_records

    page = render_replay(read_records(tmp_path / "g.jsonl"))
    g = page_data(page)["games"][0]
    assert g["board"]["layout"] == "hex" and g["opening"] == 2 and g["search"][2]["total"] == 20
