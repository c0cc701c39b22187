"""What a user reads: rich tables for matches and ratings, and JSON / CSV result files."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ponder.arena.match import MatchResult, json_float
from ponder.arena.ratings import RatingTable
from ponder.checkpoint import atomic_write_json, atomic_write_text

CSV_FIELDS = [
    "game",
    "player_a",
    "player_b",
    "games",
    "wins",
    "draws",
    "losses",
    "score",
    "elo",
    "elo_lo",
    "elo_hi",
    "los",
    "pentanomial",
    "sprt_llr",
    "sprt_verdict",
    "seed",
]


def fmt_elo(x: float, digits: int = 1) -> str:
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    return f"{x:+.{digits}f}"


def fmt_interval(lo: float, hi: float) -> str:
    return f"[{fmt_elo(lo, 0)}, {fmt_elo(hi, 0)}]"


def plain(*cells: str) -> list[Text]:
    """Cells as literal text: specs and intervals hold brackets that rich would read as markup."""
    return [Text(c) for c in cells]


def match_table(matches: Sequence[MatchResult], title: str = "match results") -> Table:
    table = Table(title=Text(title))
    table.add_column("player A", overflow="fold", min_width=12)
    table.add_column("player B", overflow="fold", min_width=12)
    for col in ("games", "W-D-L", "score", "Elo A-B", "95% CI", "LOS", "pairs 0..2"):
        table.add_column(col, justify="right", no_wrap=True)
    for m in matches:
        lo, hi = m.elo_ci
        table.add_row(
            *plain(
                m.player_a,
                m.player_b,
                str(m.num_games),
                f"{m.wins}-{m.draws}-{m.losses}",
                f"{100 * m.score:.1f}%",
                fmt_elo(m.elo),
                fmt_interval(lo, hi),
                f"{100 * m.los:.1f}%",
                "/".join(str(c) for c in m.pentanomial),
            )
        )
    return table


def sprt_line(m: MatchResult) -> str:
    if m.sprt is None:
        return ""
    s = m.sprt
    c = s.config
    verdict = {
        "H1": f"H1 accepted: {m.player_a} is stronger (elo1={c.elo1:g} fits better than "
        f"elo0={c.elo0:g})",
        "H0": f"H0 accepted: elo0={c.elo0:g} fits better than elo1={c.elo1:g}",
        None: f"no decision within {m.planned_games} games",
    }[s.verdict]
    return (
        f"SPRT [{c.describe()}]: LLR {s.llr:.2f} in ({c.lower:.2f}, {c.upper:.2f}) "
        f"after {m.num_games} games; {verdict}"
    )


def ratings_table(table: RatingTable, title: str = "ratings") -> Table:
    out = Table(title=Text(title), caption=Text(_ratings_caption(table)))
    out.add_column("#", justify="right")
    out.add_column("player", overflow="fold", min_width=12)
    for col in ("Elo", "95% CI", "games", "score"):
        out.add_column(col, justify="right", no_wrap=True)
    for rank, i in enumerate(table.order(), start=1):
        games = int(table.games[i])
        score = f"{100 * table.points[i] / games:.1f}%" if games else "-"
        ci = (
            fmt_interval(table.lower[i], table.upper[i])
            if table.bootstrap and table.players[i] != table.anchor
            else "-"
        )
        out.add_row(
            *plain(str(rank), table.players[i], fmt_elo(table.rating[i]), ci, str(games), score)
        )
    return out


def _ratings_caption(table: RatingTable) -> str:
    parts = [f"anchor {table.anchor} = 0"]
    if table.bootstrap:
        parts.append(f"CI from {table.bootstrap} bootstrap resamples of game pairs")
    if table.prior_draws:
        parts.append(f"prior {table.prior_draws:g} virtual draw(s) per pairing")
    return "; ".join(parts)


def make_console() -> Console:
    """Terminal width on a terminal; 160 columns in logs and pipes, where rich assumes 80."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    atomic_write_json(path, payload)


def match_rows(matches: Sequence[MatchResult]) -> list[dict[str, Any]]:
    rows = []
    for m in matches:
        lo, hi = m.elo_ci
        rows.append(
            {
                "game": m.game,
                "player_a": m.player_a,
                "player_b": m.player_b,
                "games": m.num_games,
                "wins": m.wins,
                "draws": m.draws,
                "losses": m.losses,
                "score": round(m.score, 6),
                "elo": json_float(round(m.elo, 3) if math.isfinite(m.elo) else m.elo),
                "elo_lo": json_float(lo),
                "elo_hi": json_float(hi),
                "los": round(m.los, 6),
                "pentanomial": "/".join(str(c) for c in m.pentanomial),
                "sprt_llr": round(m.sprt.llr, 4) if m.sprt else "",
                "sprt_verdict": (m.sprt.verdict or "none") if m.sprt else "",
                "seed": m.seed,
            }
        )
    return rows


def write_csv(path: str | Path, matches: Sequence[MatchResult]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(match_rows(matches))
    atomic_write_text(path, buffer.getvalue())
