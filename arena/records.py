"""Game records: one JSON object per line for every game, and SGF for hex and go.

A JSON line holds the game, both players (and which one moved first), the opening, every move
as an action id and in the game's notation, the result, the seeds needed to replay the match,
and, when recorded, each searched move's top moves (visits, Q, prior) and root value.

SGF follows the conventions other tools read: hex as HexGui writes it (GM[11], cells as
letter + row number, black = the first mover) and go as GM[1] with SGF's letter pairs (column,
row from the top; OpenSpiel counts rows from the bottom, and the pass action is `B[]`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ponder.arena.match import GameResult, MatchResult
from ponder.arena.openings import replay
from ponder.checkpoint import atomic_write_text
from ponder.errors import PonderError


def move_texts(game: Any, moves: Sequence[int]) -> list[str]:
    """Every move in notation, replayed so position-dependent notations come out right."""
    state = replay(game, ())
    out = []
    for action in moves:
        out.append(game.action_to_string(action, state))
        game.play(state, int(action))
    return out


def game_record(match: MatchResult, g: GameResult, game: Any) -> dict[str, Any]:
    first, second = (
        (match.player_a, match.player_b) if g.a_first else (match.player_b, match.player_a)
    )
    record: dict[str, Any] = {
        "game": match.game,
        "index": g.index,
        "pair": g.pair,
        "first": first,
        "second": second,
        "player_a": match.player_a,
        "player_b": match.player_b,
        "opening": list(g.opening),
        "moves": list(g.moves),
        "notation": move_texts(game, g.moves),
        "result": g.result,
        "outcome_first": g.outcome,
        "score_a": g.score_a,
        "match_seed": match.seed,
        "chunk": g.chunk,
        "row": g.row,
        "chunk_seed": g.seed,
    }
    if g.stats is not None:
        record["search"] = g.stats
    return record


def write_records(path: str | Path, matches: Sequence[MatchResult], game: Any) -> None:
    lines = [
        json.dumps(game_record(m, g, game), separators=(",", ":")) for m in matches for g in m.games
    ]
    atomic_write_text(path, "".join(line + "\n" for line in lines))


def read_records(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise PonderError(f"game records not found: {path}")
    out = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise PonderError(f"{path}:{number}: not a JSON line ({exc.msg})") from None
    return out


def sgf_kind(game: Any) -> str | None:
    """'hex' or 'go' when the game has an SGF form, else None."""
    short = (game.openspiel_name or "").split("(", 1)[0]
    if game.name.startswith("hex_") or short == "hex":
        return "hex"
    if short == "go":
        return "go"
    return None


def _sgf_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("]", "\\]")


def _sgf_point(kind: str, action: int, size: int) -> str:
    if kind == "hex":
        return f"{'abcdefghijklmnopqrstuvwxyz'[action % size]}{action // size + 1}"
    if action == size * size:  # pass
        return ""
    row, col = divmod(action, size)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return f"{letters[col]}{letters[size - 1 - row]}"


def sgf_game(match: MatchResult, g: GameResult, game: Any) -> str:
    kind = sgf_kind(game)
    if kind is None:
        raise PonderError(f"SGF is written for hex and go, not {game.name}")
    size = int(game.board_shape[0])
    first, second = (
        (match.player_a, match.player_b) if g.a_first else (match.player_b, match.player_a)
    )
    result = {1.0: "B+", -1.0: "W+"}.get(g.outcome, "0")
    komi = ""
    if kind == "go":
        komi = f"KM[{game.spiel_twin().get_parameters().get('komi', 7.5)}]"
    header = (
        f"FF[4]GM[{11 if kind == 'hex' else 1}]SZ[{size}]{komi}CA[UTF-8]AP[ponder]"
        f"PB[{_sgf_text(first)}]PW[{_sgf_text(second)}]RE[{result}]"
        f"GN[{_sgf_text(f'{match.game} game {g.index}')}]"
    )
    colours = "BW"
    moves = "".join(
        f";{colours[ply % 2]}[{_sgf_point(kind, a, size)}]" for ply, a in enumerate(g.moves)
    )
    return f"(;{header}{moves})"


def write_sgf(path: str | Path, matches: Sequence[MatchResult], game: Any) -> None:
    """All games as one SGF collection."""
    text = "\n".join(sgf_game(m, g, game) for m in matches for g in m.games)
    atomic_write_text(path, text + "\n")
