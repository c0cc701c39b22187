"""`ponder play` with scripted input: bad moves, hint, undo, sims N and end of input."""

import pytest
from typer.testing import CliRunner

from ponder import cli
from ponder.arena.play_session import PlaySession
from ponder.arena.specs import with_budget
from ponder.envs.registry import get_game
from ponder.errors import PonderError


def scripted(lines):
    """A `read` that hands out `lines` one by one, then raises EOFError like input() does."""
    feed = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return read


def test_bad_moves_hint_undo_sims_then_eof_ends_cleanly():
    out: list[str] = []
    game = get_game("connect_four")
    session = PlaySession(
        game,
        "uct:50",
        you_first=True,
        seed=0,
        read=scripted(["zz", "h9", "", "hint", "d", "undo", "undo", "sims 30", "sims x", "c"]),
        write=out.append,
    )
    result = session.run()
    text = "\n".join(out)
    assert "not a connect-four move: 'zz'" in text and "not a connect-four move: 'h9'" in text
    assert "hint from uct:50: value for you" in text and "v Q" in text
    assert "uct:50 (second) plays" in text
    assert "took back your move 1 and the reply" in text
    assert "nothing to undo yet" in text  # the second undo: the board is empty again
    assert "now playing uct:30" in text and "sims takes one number" in text
    assert result.outcome is None  # the input ended mid-game
    assert result.moves[0] == 2 and len(result.moves) == 2  # c, and the reply
    assert result.bot_spec == "uct:30"


def test_a_full_column_is_refused_and_players_without_search_say_so():
    out: list[str] = []
    moves = ["a"] * 12
    session = PlaySession(
        get_game("connect_four"),
        "random",
        you_first=True,
        seed=1,
        read=scripted(["hint", "sims 10", *moves]),
        write=out.append,
    )
    result = session.run()
    text = "\n".join(out)
    assert "random has no search to show" in text
    assert "random has no search budget to change" in text
    # Twelve times column a: it fills up and is refused, unless the game ends first.
    assert "'a' is not legal here" in text or result.outcome is not None


def test_play_command_with_scripted_input_and_eof():
    runner = CliRunner()
    script = "zz\nhint\nundo\n" + "\n".join(
        ["a1", "b1", "c1", "a2", "b2", "c2", "a3", "b3", "c3"] * 5
    )
    result = runner.invoke(cli.app, ["play", "uct:20", "-g", "tic_tac_toe"], input=script + "\n")
    assert result.exit_code == 0, result.output
    assert "not a tic-tac-toe move" in result.output and "hint from uct:20" in result.output
    assert "nothing to undo yet" in result.output
    assert "uct:20 (second) plays" in result.output
    assert any(s in result.output for s in ("wins", "draw"))
    eof = runner.invoke(cli.app, ["play", "uct:20", "-g", "tic_tac_toe"], input="b2\n")
    assert eof.exit_code == 0 and "game abandoned" in eof.output and "Traceback" not in eof.output
    second = runner.invoke(cli.app, ["play", "solver", "-g", "tic_tac_toe", "--colour", "o"])
    assert second.exit_code == 0 and "solver (first) plays" in second.output


def test_with_budget_rewrites_the_simulations_of_a_spec():
    assert with_budget("uct:1000:c=1.5", 800) == "uct:800:c=1.5"
    assert with_budget("openspiel:mcts:50", 10) == "openspiel:mcts:10"
    assert with_budget("runs/c4/ckpt_000000050@64:t=0.5", 0) == "runs/c4/ckpt_000000050@0:t=0.5"
    for spec in ("random", "solver", "uct:10"):
        with pytest.raises(PonderError):
            with_budget(spec, 0 if spec == "uct:10" else 5)
