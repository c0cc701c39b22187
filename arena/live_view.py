"""The live board of `ponder watch` in a terminal: the position, the mover's top moves as a
small table and its value as a bar, redrawn in place after every move (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

COLOURS = ("bold red", "bold yellow")  # the first and the second mover
STONE, EMPTY = "●", "·"
BAR_WIDTH = 28


def board_text(game: Any, state: Any, last: int | None = None) -> Text:
    """The position from `game.cells` (coloured stones, the last move marked), or the game's own
    text picture when it has no cells (OpenSpiel's generic path)."""
    if game.cells is None:
        return Text(game.render(state))
    cells = game.cells(state)
    h, w = cells.shape
    layout = game.layout
    last_cell = _landing(cells, last, layout, w) if last is not None else None
    out = Text()
    for r in range(h):
        if layout == "hex":
            out.append(" " * r)
        for c in range(w):
            owner = int(cells[r, c])
            mark = STONE if owner else EMPTY
            style = COLOURS[owner - 1] if owner else "dim"
            if last_cell == (r, c):
                style += " reverse"
            out.append(mark, style=style)
            out.append(" ")
        out.append("\n")
    if layout == "columns":
        out.append(" ".join(game.action_to_string(c) for c in range(w)), style="dim")
    return out


def _landing(cells: Any, action: int, layout: str, width: int) -> tuple[int, int] | None:
    """The cell the last move filled: the top stone of its column on a drop board."""
    if layout == "columns":
        if action >= width:
            return None
        for r in range(cells.shape[0]):
            if cells[r, action]:
                return (r, action)
        return None
    if action >= cells.size:
        return None
    return divmod(int(action), width)


def value_bar(value: float, mover: int) -> Text:
    """The mover's value (-1 loss .. +1 win) as a bar in its colour."""
    filled = round((value + 1.0) / 2.0 * BAR_WIDTH)
    bar = Text("█" * filled, style=COLOURS[mover])
    bar.append("░" * (BAR_WIDTH - filled), style="dim")
    bar.append(f" {value:+.2f}")
    return bar


def top_table(top: list[dict], chosen: int, count: int) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for name in ("move", "visits", "share", "Q", "prior"):
        table.add_column(name, justify="left" if name == "move" else "right")
    total = sum(entry.get("visits", 0) for entry in top) or 0
    shown = top[:count]
    # The move played stays in view even when it is not among the first `count` (ties).
    shown += [entry for entry in top[count:] if entry["action"] == chosen]
    for entry in shown:
        visits = entry.get("visits")
        share = f"{100 * visits / total:.0f}%" if visits is not None and total else ""
        q = f"{entry['q']:+.2f}" if "q" in entry else ""
        prior = f"{entry['prior']:.2f}" if "prior" in entry else ""
        move = entry["move"] + (" ←" if entry["action"] == chosen else "")
        style = "bold" if entry["action"] == chosen else None
        table.add_row(move, "" if visits is None else str(visits), share, q, prior, style=style)
    return table


def move_panel(game: Any, event: Any, after: Any, names: tuple[str, str], top: int) -> Panel:
    """Everything about one move: the position after it, who played what, the mover's search."""
    side = ("first", "second")[event.mover]
    head = Text(f"{event.ply + 1}. ")
    head.append(f"{event.player} ({side})", style=COLOURS[event.mover])
    head.append(f" plays {event.text}")
    parts: list[Any] = [board_text(game, after, event.action), head]
    if event.value is not None:
        parts.append(Text("value ").append_text(value_bar(event.value, event.mover)))
    if top and event.top:
        parts.append(top_table(event.top, event.action, top))
    title = f"{game.name}: {names[0]} (first) vs {names[1]} (second)"
    return Panel(Group(*parts), title=title, expand=False)
