"""The one training display: a live bar (+ table) on a terminal, plain lines elsewhere, silence
when disabled; DQN and AlphaZero feed it their own figures."""

import io

from rich.console import Console
from rich.table import Table

from ponder.agents.dqn.progress import bar_figures
from ponder.progress import TrainingDisplay
from ponder.runner import plain_log_line


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=160, record=terminal), out


def test_live_view_shows_the_bar_figures_and_table():
    con, _ = console(terminal=True)
    table = Table(show_header=False)
    table.add_row("learner", "step 40/100")
    with TrainingDisplay("az connect_four", 100, 0, True, con) as display:
        assert display.is_live
        display.update(40, "321 positions/s", table, force=True)
        display.line("plain only")  # a live view draws no plain lines
        display.message("evaluation done")
    text = con.export_text()
    for expected in ("az connect_four", "40/100", "321 positions/s", "step 40/100", "evaluation"):
        assert expected in text, text
    assert "plain only" not in text


def test_plain_mode_prints_one_line_per_log_interval():
    con, out = console(terminal=False)
    with TrainingDisplay("dqn pong", 1000, 0, True, con) as display:
        assert not display.is_live and not display.wants_table()
        display.update(500, bar_figures(40.0, -20.5, 0.1, 0.5))  # no bar off a terminal
        display.line(plain_log_line(500, 1000, {"episode_return": -20.5, "updates": 75}))
    lines = out.getvalue().splitlines()
    assert lines == ["step 500/1000 episode_return=-20.5 updates=75"]


def test_disabled_display_prints_nothing():
    con, out = console(terminal=True)
    with TrainingDisplay("dqn pong", 10, 0, False, con) as display:
        display.update(5, "x")
        display.line("a line")
        display.message("a message")
    assert out.getvalue() == ""


def test_long_plain_lines_are_not_wrapped():
    con, out = console(terminal=False)
    con.width = 40
    display = TrainingDisplay("dqn", 10, 0, True, con)
    display.line("step 2000/100000 " + " ".join(f"key{i}=value" for i in range(10)))
    assert len(out.getvalue().splitlines()) == 1
