"""Game records as one self-contained HTML page: the board, the move list, each searched move's
visit heat map with prior and Q, and both players' value estimates over the game.

The page is the template `templates/replay.html` (inline CSS and JS, nothing fetched) with the
games' data put in as one JSON block, so it opens from a file or a mail attachment. This module
only turns records (`ponder.arena.records`: from `pit`, `watch` or training's self-play) into
that data: positions are replayed here through the game's own rules, because the page knows
how to draw a board (`BoardGame.cells`, `BoardGame.layout`) but not how stones move.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ponder.checkpoint import atomic_write_text
from ponder.errors import PonderError

TEMPLATE, INDEX_TEMPLATE = "replay.html", "index.html"
TITLE_SLOT, DATA_SLOT = "__PONDER_TITLE__", "__PONDER_DATA__"

# How each layout's stones look, by game name prefix; the default is black and white stones.
STYLES = {"tic_tac_toe": "xo", "connect_four": "discs", "othello": "othello", "hex": "hex"}


def _style(game: Any) -> str:
    for prefix, style in STYLES.items():
        if game.name.startswith(prefix):
            return style
    return "stones"


def _players(record: dict[str, Any]) -> tuple[str, str]:
    if "first" in record:
        return str(record["first"]), str(record["second"])
    return "self-play", "self-play"  # training's records: one network plays both sides


def _result(record: dict[str, Any]) -> str:
    if "result" in record:
        return str(record["result"])
    outcome = record.get("outcome_first", record.get("outcome"))
    if outcome is None:
        return "?"
    return {1.0: "1-0", -1.0: "0-1"}.get(float(outcome), "1/2-1/2")


def _label(record: dict[str, Any], number: int) -> str:
    first, second = _players(record)
    if "step" in record and "first" not in record:
        return f"game {number}: self-play at step {record['step']}, {_result(record)}"
    index = record.get("index", number)
    return f"game {index}: {first} vs {second}, {_result(record)}"


def _search_entry(stat: dict[str, Any], mover: int) -> dict[str, Any]:
    top = [
        [int(t["action"]), t["move"], t.get("visits"), t.get("q"), t.get("prior")]
        for t in stat.get("top", [])
    ]
    entry: dict[str, Any] = {"player": stat.get("player"), "mover": mover, "top": top}
    if "value" in stat:
        entry["value"] = stat["value"]
    if "visits_total" in stat:
        entry["total"] = stat["visits_total"]
    return entry


def _cell_names(game: Any) -> list[str]:
    """Each cell's name in the game's notation (each column's, for a drop board)."""
    h, w = (int(x) for x in game.board_shape)
    count = w if game.layout == "columns" else h * w
    return [game.action_to_string(a) for a in range(min(count, game.num_actions))]


def game_data(record: dict[str, Any], number: int = 0) -> dict[str, Any]:
    """What the page needs to show one game record."""
    from ponder.agents.players import legal_mask_of
    from ponder.arena.openings import replay
    from ponder.envs.registry import get_game

    if "game" not in record or "moves" not in record:
        raise PonderError(f"record {number}: a game record needs 'game' and 'moves'")
    game = get_game(str(record["game"]))
    moves = [int(a) for a in record["moves"]]
    draws = game.cells is not None
    state = replay(game, ())
    positions, texts, movers, notation = [], [], [], []
    for ply, action in enumerate([*moves, None]):
        if draws:
            positions.append("".join(str(int(v)) for v in game.cells(state).reshape(-1)))
        else:
            texts.append(game.render(state))
        if action is None:
            break
        if not (0 <= action < game.num_actions and legal_mask_of(game, state)[action]):
            raise PonderError(f"record {number}: move {ply + 1} ({action}) is illegal there")
        movers.append(int(game.to_play(state)))
        notation.append(game.action_to_string(action, state))
        game.play(state, action)
    search: list[dict[str, Any] | None] = [None] * len(moves)
    for stat in record.get("search") or []:
        ply = int(stat.get("ply", -1))
        if 0 <= ply < len(moves):
            search[ply] = _search_entry(stat, movers[ply])
    first, second = _players(record)
    h, w = (int(x) for x in game.board_shape)
    data: dict[str, Any] = {
        "label": _label(record, number),
        "game": game.name,
        "first": first,
        "second": second,
        "result": _result(record),
        "outcome": float(game.outcome(state)) if game.is_terminal(state) else None,
        "opening": len(record.get("opening") or []),
        "board": {
            "layout": game.layout,
            "style": _style(game),
            "rows": h,
            "cols": w,
            "names": _cell_names(game),
        }
        if draws
        else None,
        "moves": moves,
        "notation": notation,
        "movers": movers,
        "search": search,
    }
    if draws:
        data["positions"] = positions
    else:
        data["texts"] = texts
    return data


def render_replay(records: Sequence[dict[str, Any]], title: str | None = None) -> str:
    """The page for `records` (one game or a game list), as a string."""
    if not records:
        raise PonderError("no game records to show")
    games = [game_data(r, i) for i, r in enumerate(records)]
    title = title or (games[0]["label"] if len(games) == 1 else f"{games[0]['game']} games")
    return fill_template(TEMPLATE, title, {"title": title, "games": games})


def fill_template(name: str, title: str, data: Any) -> str:
    """A packaged template with its title and its JSON data block filled in."""
    template = resources.files("ponder.arena").joinpath("templates", name).read_text()
    payload = json.dumps(data, separators=(",", ":"))
    # Inside <script>, "</" could close the element early; JSON allows "<\/" for it.
    payload = payload.replace("</", "<\\/")
    return template.replace(TITLE_SLOT, html.escape(title)).replace(DATA_SLOT, payload)


def write_replay_html(
    path: str | Path, records: Sequence[dict[str, Any]], title: str | None = None
) -> None:
    atomic_write_text(path, render_replay(records, title))


def write_replay_dir(directory: str | Path, records: Sequence[dict[str, Any]]) -> list[Path]:
    """One page per game plus an index page linking them; returns the pages written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pages, links = [], []
    for number, record in enumerate(records):
        name = f"game-{int(record.get('index', number)):04d}.html"
        write_replay_html(directory / name, [record])
        pages.append(directory / name)
        links.append({"href": name, "label": _label(record, number)})
    title = f"{len(records)} games of {records[0].get('game', '?')}" if records else "no games"
    index = fill_template(INDEX_TEMPLATE, title, links)
    atomic_write_text(directory / "index.html", index)
    return pages
