"""Matches on real games: colour-swapped pairs over openings, batching, seeds, SPRT, records."""

import json

import numpy as np
import pytest

from ponder.agents.player import MoveInfo
from ponder.agents.players import RandomPlayer
from ponder.arena import play_match, run_tournament
from ponder.arena.ledger import RatingsLedger
from ponder.arena.openings import all_openings, opening_book, random_openings
from ponder.arena.records import read_records, sgf_game, write_sgf
from ponder.arena.sprt import SprtConfig
from ponder.arena.tournament import schedule
from ponder.envs.registry import get_game
from ponder.errors import PonderError


def test_opening_books():
    assert opening_book(get_game("tic_tac_toe")) == [(a,) for a in range(9)]
    c4 = opening_book(get_game("connect_four"))
    assert len(c4) == 49 and len(set(c4)) == 49 and all(len(o) == 2 for o in c4)
    hex5 = get_game("hex_5")
    book = opening_book(hex5, "auto", seed=3)
    assert len(book) == 64 and len(set(book)) == 64
    assert book == opening_book(hex5, "auto", seed=3) != opening_book(hex5, "auto", seed=4)
    assert opening_book(hex5, "none") == [()]
    assert len(all_openings(get_game("tic_tac_toe"), 2)) == 72
    assert len(random_openings(get_game("tic_tac_toe"), 1, 50, 0)) == 9  # only 9 exist
    with pytest.raises(PonderError, match="unknown openings"):
        opening_book(hex5, "sometimes")
    with pytest.raises(PonderError, match="not legal"):
        opening_book(get_game("tic_tac_toe"), [[4, 4]])


def test_games_come_in_colour_swapped_pairs_over_the_openings():
    result = play_match("tic_tac_toe", "random", "random", 20, seed=5)
    assert result.num_games == 20 and result.wins + result.draws + result.losses == 20
    for g in result.games:
        assert g.a_first == (g.index % 2 == 0)
        assert g.opening == ((g.pair % 9),)
        assert list(g.moves[: len(g.opening)]) == list(g.opening)
    assert sum(result.pentanomial) == 10
    points = sum(k / 2 * n for k, n in enumerate(result.pentanomial))
    assert points == pytest.approx(result.score * 20)


def test_a_match_replays_exactly_from_its_seed():
    a = play_match("connect_four", "random", "random", 12, seed=9, batch_games=4)
    b = play_match("connect_four", "random", "random", 12, seed=9, batch_games=4)
    c = play_match("connect_four", "random", "random", 12, seed=10, batch_games=4)
    assert [g.moves for g in a.games] == [g.moves for g in b.games]
    assert [g.moves for g in a.games] != [g.moves for g in c.games]
    assert {g.chunk for g in a.games} == {0, 1, 2}


def test_solver_never_loses_and_its_elo_interval_is_sensible():
    result = play_match("tic_tac_toe", "solver", "random", 40, seed=1)
    assert result.losses == 0 and result.wins > 25
    lo, hi = result.elo_ci
    assert lo > 150 and lo < result.elo <= hi
    assert result.los > 0.999
    flipped = play_match("tic_tac_toe", "random", "solver", 40, seed=1)
    assert flipped.wins == 0 and flipped.elo < -150


def test_sprt_stops_early_on_a_clearly_stronger_player():
    sprt = SprtConfig(elo0=0, elo1=50, alpha=0.05, beta=0.05)
    result = play_match("tic_tac_toe", "solver", "random", 400, seed=2, sprt=sprt, batch_games=8)
    assert result.sprt.verdict == "H1"
    assert result.num_games < 100 and result.num_games % 8 == 0
    assert result.sprt.llr >= sprt.upper


def test_sprt_accepts_h0_when_the_player_is_weaker():
    sprt = SprtConfig(elo0=0, elo1=50)
    result = play_match("tic_tac_toe", "random", "solver", 400, seed=2, sprt=sprt, batch_games=8)
    assert result.sprt.verdict == "H0" and result.num_games < 100


class _Cheat:
    spec = "cheat"

    def start(self, game, num_games, seed):
        pass

    def act(self, states, histories, indices):
        return np.array([h[-1] if h else 0 for h in histories]), None


def test_an_illegal_move_is_a_loud_bug():
    with pytest.raises(RuntimeError, match="'cheat' chose illegal action"):
        play_match("tic_tac_toe", _Cheat(), "random", 2, openings="none")


class _Recorder(RandomPlayer):
    """A random player that logs the batches it is asked to move in."""

    def __init__(self):
        super().__init__(spec="recorder")
        self.batches = []

    def act(self, states, histories, indices):
        self.batches.append(indices.copy())
        actions, _ = super().act(states, histories, indices)
        visits = np.zeros((len(states), 9), dtype=np.float32)
        visits[np.arange(len(states)), actions] = 7
        return actions, MoveInfo(visits=visits, root_value=np.full(len(states), 0.25))


def test_players_move_in_batches_and_records_keep_their_statistics(tmp_path):
    recorder = _Recorder()
    path = tmp_path / "games.jsonl"
    result = play_match("tic_tac_toe", recorder, "random", 16, seed=0, record=str(path))
    assert max(len(b) for b in recorder.batches) == 8  # A moves in half of the games at once
    assert len(recorder.batches) <= 2 * 9
    lines = read_records(path)
    assert [r["index"] for r in lines] == list(range(16))
    first = lines[0]
    assert first["first"] == "recorder" and first["moves"][:1] == [0]
    assert first["notation"][0] == "a1"
    searched = [s for s in first["search"] if s["player"] == "recorder"]
    assert searched and searched[0]["top"][0]["visits"] == 7 and searched[0]["value"] == 0.25
    assert result.games[0].stats == first["search"]


def test_sgf_for_hex(tmp_path):
    game = get_game("hex_5")
    result = play_match(game, "random", "random", 4, seed=0, openings="none")
    text = sgf_game(result, result.games[0], game)
    assert text.startswith("(;FF[4]GM[11]SZ[5]")
    moves = result.games[0].moves
    first_cell = f"{'abcde'[moves[0] % 5]}{moves[0] // 5 + 1}"
    assert f";B[{first_cell}]" in text and text.count(";B[") + text.count(";W[") == len(moves)
    write_sgf(tmp_path / "g.sgf", [result], game)
    assert (tmp_path / "g.sgf").read_text().count("(;FF[4]") == 4
    with pytest.raises(PonderError, match="SGF"):
        sgf_game(result, result.games[0], get_game("tic_tac_toe"))


def test_sgf_for_go_played_through_openspiel():
    game = get_game("openspiel:go(board_size=5)")
    result = play_match(game, "random", "random", 2, seed=0, openings="none")
    g = result.games[0]
    text = sgf_game(result, g, game)
    assert text.startswith("(;FF[4]GM[1]SZ[5]KM[") and "PB[random]" in text
    # OpenSpiel's action 0 is a1, the bottom-left point: SGF column a, row e (from the top).
    row, col = divmod(g.moves[0], 5)
    expected = "" if g.moves[0] == 25 else "abcde"[col] + "abcde"[4 - row]
    assert f";B[{expected}]" in text
    assert text.count(";B[") + text.count(";W[") == len(g.moves)


def test_round_robin_orders_players_and_rates_them():
    players = ["random", "openspiel:mcts:30", "solver"]
    t = run_tournament("tic_tac_toe", players, 20, seed=4, bootstrap=50)
    assert [(m.player_a, m.player_b) for m in t.matches] == [
        ("random", "openspiel:mcts:30"),
        ("random", "solver"),
        ("openspiel:mcts:30", "solver"),
    ]
    order = [t.ratings.players[i] for i in t.ratings.order()]
    assert order == ["solver", "openspiel:mcts:30", "random"]
    assert t.ratings.anchor == "random"
    json.dumps(t.to_dict())
    assert schedule(4, "gauntlet") == [(0, 1), (0, 2), (0, 3)]


def test_ratings_ledger_accumulates_games(tmp_path):
    path = tmp_path / "ratings.json"
    m = play_match("tic_tac_toe", "solver", "random", 10, seed=1)
    ledger = RatingsLedger.load(path, "tic_tac_toe")
    ledger.add_matches([m])
    ledger.save(path)
    again = RatingsLedger.load(path, "tic_tac_toe")
    flipped = play_match("tic_tac_toe", "random", "solver", 10, seed=2)
    again.add_matches([flipped])
    again.save(path)
    final = RatingsLedger.load(path)
    (pairing,) = final.pairings.values()
    assert pairing.games == 20
    solver_wins = m.wins + flipped.losses
    assert pairing.wdl[0 if pairing.a == "solver" else 2] == solver_wins
    assert final.matches_added == 2
    assert final.anchor == "random" and final.ratings(bootstrap=0).anchor == "random"
    with pytest.raises(PonderError, match="holds tic_tac_toe games, not connect_four"):
        RatingsLedger.load(path, "connect_four")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(PonderError, match="not valid JSON"):
        RatingsLedger.load(tmp_path / "bad.json")


@pytest.mark.slow
def test_ray_workers_play_the_same_games_as_one_process():
    from ponder.selfplay.cluster import shutdown_ray

    here = play_match("connect_four", "random", "openspiel:mcts:20", 16, seed=3, batch_games=4)
    try:
        there = play_match(
            "connect_four", "random", "openspiel:mcts:20", 16, seed=3, workers=2, batch_games=4
        )
    finally:
        shutdown_ray()
    assert [g.moves for g in there.games] == [g.moves for g in here.games]
    assert there.pentanomial == here.pentanomial
