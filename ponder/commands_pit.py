"""`ponder pit` (matches, tournaments, SPRT) and `ponder ratings` (print a ratings file)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ponder.errors import PonderError

PIT_EPILOG = (
    "Players: random | uct:N[:c=C][:rollouts=R] | solver | solver:first | minimax | "
    "openspiel:mcts:N | PATH@N[:t=T] (checkpoint, N simulations, @0 = raw policy). "
    "Two players: a head-to-head match (optionally --sprt). More: --round-robin (default) or "
    "--gauntlet (the first player against each other)."
)

# Option types, named once so the command signatures below read as a list of parameters.
_AnchorOpt = Annotated[
    str | None, typer.Option(help="Player rated 0 (default: random if present, else the first).")
]
_BootstrapOpt = Annotated[
    int, typer.Option(help="Bootstrap resamples for rating intervals.", min=0, max=100_000)
]
_PlayersArg = Annotated[list[str], typer.Argument(help="Player specs (see below).")]
_GameOpt = Annotated[str, typer.Option("--game", "-g", help="Game name (see `ponder games`).")]
_GamesOpt = Annotated[
    int, typer.Option("--games", "-n", help="Games per pairing (the maximum with --sprt).", min=1)
]
_RoundRobinOpt = Annotated[
    bool, typer.Option("--round-robin", help="Every player against every other.")
]
_GauntletOpt = Annotated[
    bool, typer.Option("--gauntlet", help="The first player against each other.")
]
_SprtOpt = Annotated[
    str | None,
    typer.Option(
        help="Stop early by GSPRT: elo0=0,elo1=5,alpha=0.05,beta=0.05"
        "[,model=pentanomial|trinomial]."
    ),
]
_WorkersOpt = Annotated[
    int, typer.Option(help="Ray worker processes (0: play in this process).", min=0)
]
_OpeningsOpt = Annotated[
    str,
    typer.Option(
        help="auto (tic-tac-toe: all 1-ply, connect four: all 2-ply, else 64 random "
        "2-ply) | none | all:K | random:K[:N]."
    ),
]
_BatchOpt = Annotated[int, typer.Option(help="Games advanced together in one batch.", min=2)]
_JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write results as JSON.")]
_CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Write one CSV row per pairing.")]
_GamesOutOpt = Annotated[
    Path | None,
    typer.Option(help="Write every game (moves, seeds, search statistics) as JSON lines."),
]
_SgfOpt = Annotated[Path | None, typer.Option(help="Write every game as SGF (hex, openspiel:go).")]
_HtmlOpt = Annotated[
    Path | None,
    typer.Option(
        help="HTML replays with every search: NAME.html, one page with a game list; "
        "else a folder with one page per game and an index."
    ),
]
_RatingsFileOpt = Annotated[
    Path | None,
    typer.Option(help="Add the games to this ratings file and rate on its whole history."),
]


def _mode(num_players: int, round_robin: bool, gauntlet: bool, sprt: str | None) -> str:
    if round_robin and gauntlet:
        raise PonderError("choose one of --round-robin and --gauntlet")
    if sprt is not None and (round_robin or gauntlet or num_players != 2):
        raise PonderError("--sprt runs a head-to-head match: give exactly two players, no mode")
    if num_players < 2:
        raise PonderError("give at least two player specs, e.g. ponder pit uct:100 random")
    if gauntlet:
        return "gauntlet"
    if round_robin or num_players > 2:
        return "round-robin"
    return "head-to-head"


def _check_outputs(game: Any, sgf: Path | None, **files: Path | None) -> None:
    """Every output path is checked before the first game: a bad one found after the last
    would lose every result."""
    from ponder.arena.records import sgf_kind
    from ponder.rundir import check_output_file

    if sgf is not None and sgf_kind(game) is None:
        raise PonderError(f"--sgf: SGF is written for hex and go games, not {game.name}")
    for option, path in {"sgf": sgf, **files}.items():
        if path is not None:
            check_output_file(path, "--" + option.replace("_", "-"))


def _check_players(players: list[str], game: Any) -> None:
    """Every spec is built once before any game is played: a bad one fails at once."""
    from ponder.arena.specs import make_player

    for spec in players:
        if spec.strip().lower() == "human":
            raise PonderError("pit plays many games at once; to play yourself use ponder play")
        make_player(spec, game)


def _write_html(path: Path, records: list[dict[str, Any]]) -> None:
    from ponder.arena.replay_html import write_replay_dir, write_replay_html

    if path.suffix.lower() in (".html", ".htm"):
        write_replay_html(path, records)
        typer.echo(f"wrote {path} ({len(records)} games)")
    else:
        write_replay_dir(path, records)
        typer.echo(f"wrote {len(records)} pages and index.html to {path}/")


def _play_head_to_head(
    game: Any,
    players: list[str],
    games: int,
    match_options: dict[str, Any],
    sprt_config: Any,
    console: Any,
    payload: dict[str, Any],
) -> list[Any]:
    """Play one match and print it; its result goes into `payload`."""
    from ponder.arena.match import play_match
    from ponder.arena.report import match_table, sprt_line

    result = play_match(game, players[0], players[1], games, sprt=sprt_config, **match_options)
    matches = [result]
    console.print(match_table(matches, title=f"{game.name}: {result.openings}"))
    if result.sprt is not None:
        console.print(sprt_line(result), markup=False, highlight=False)
    payload["matches"] = [result.to_dict(with_games=True)]
    return matches


def _play_tournament(
    game: Any,
    players: list[str],
    games: int,
    mode: str,
    match_options: dict[str, Any],
    anchor: str | None,
    bootstrap: int,
    console: Any,
    payload: dict[str, Any],
) -> list[Any]:
    """Play every pairing of `mode`, print ratings and pairings; the results go into `payload`."""
    from ponder.arena.report import match_table, ratings_table
    from ponder.arena.tournament import run_tournament

    tournament = run_tournament(
        game, players, games, mode=mode, anchor=anchor, bootstrap=bootstrap, **match_options
    )
    matches = tournament.matches
    console.print(ratings_table(tournament.ratings, title=f"{game.name} {mode} ratings"))
    console.print(match_table(matches, title="pairings"))
    payload.update(tournament.to_dict())
    payload["matches"] = [m.to_dict(with_games=True) for m in matches]
    return matches


def _rate_in_ledger(
    ledger: Any,
    ratings_file: Path | None,
    game: Any,
    matches: list[Any],
    anchor: str | None,
    bootstrap: int,
    seed: int,
    console: Any,
    payload: dict[str, Any],
) -> None:
    """Add the matches to the ratings file, save it and print the ratings of its history."""
    from ponder.arena.report import ratings_table

    ledger.add_matches(matches)
    ledger.save(ratings_file)  # type: ignore[arg-type]
    table = ledger.ratings(anchor=anchor, bootstrap=bootstrap, seed=seed)
    console.print(ratings_table(table, title=f"{ratings_file} ({game.name})"))
    payload["ratings_file"] = {"path": str(ratings_file), **table.to_dict()}


def _write_outputs(
    game: Any,
    matches: list[Any],
    payload: dict[str, Any],
    json_out: Path | None,
    csv_out: Path | None,
    games_out: Path | None,
    sgf: Path | None,
    html: Path | None,
) -> None:
    """Write each output file asked for, once every game has been played."""
    from ponder.arena.records import game_record, write_records, write_sgf
    from ponder.arena.report import write_csv, write_json

    if json_out:
        write_json(json_out, payload)
    if csv_out:
        write_csv(csv_out, matches)
    if games_out:
        write_records(games_out, matches, game)
    if sgf:
        write_sgf(sgf, matches, game)
    if html:
        _write_html(html, [game_record(m, g, game) for m in matches for g in m.games])


def pit(
    players: _PlayersArg,
    game_name: _GameOpt,
    games: _GamesOpt = 100,
    round_robin: _RoundRobinOpt = False,
    gauntlet: _GauntletOpt = False,
    sprt: _SprtOpt = None,
    seed: Annotated[int, typer.Option(help="Match seed (openings, players).")] = 0,
    workers: _WorkersOpt = 0,
    openings: _OpeningsOpt = "auto",
    batch: _BatchOpt = 64,
    json_out: _JsonOpt = None,
    csv_out: _CsvOpt = None,
    games_out: _GamesOutOpt = None,
    sgf: _SgfOpt = None,
    html: _HtmlOpt = None,
    ratings_file: _RatingsFileOpt = None,
    anchor: _AnchorOpt = None,
    bootstrap: _BootstrapOpt = 200,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Pit players against each other: W/D/L, Elo with 95% intervals, LOS, SPRT, ratings."""
    from ponder.arena.ledger import RatingsLedger
    from ponder.arena.report import make_console
    from ponder.arena.sprt import parse_sprt
    from ponder.envs.registry import get_game

    mode = _mode(len(players), round_robin, gauntlet, sprt)
    sprt_config = parse_sprt(sprt) if sprt is not None else None
    game = get_game(game_name)
    _check_outputs(
        game, sgf, json=json_out, csv=csv_out, games_out=games_out, ratings_file=ratings_file
    )
    _check_players(players, game)
    ledger = RatingsLedger.load(ratings_file, game.name) if ratings_file else None
    record = True if (games_out or sgf or html) else None
    console = make_console()
    payload: dict[str, Any] = {"command": " ".join(["ponder", *sys.argv[1:]]), "mode": mode}
    # The same keywords reach `play_match` and `run_tournament`.
    match_options: dict[str, Any] = {
        "seed": seed,
        "workers": workers,
        "openings": openings,
        "record": record,
        "progress": progress,
        "batch_games": batch,
    }
    if mode == "head-to-head":
        matches = _play_head_to_head(
            game, players, games, match_options, sprt_config, console, payload
        )
    else:
        matches = _play_tournament(
            game, players, games, mode, match_options, anchor, bootstrap, console, payload
        )
    if ledger is not None:
        _rate_in_ledger(
            ledger, ratings_file, game, matches, anchor, bootstrap, seed, console, payload
        )
    _write_outputs(game, matches, payload, json_out, csv_out, games_out, sgf, html)


def replay(
    records_path: Annotated[
        Path,
        typer.Argument(
            help="Game records (JSON lines) from pit --games-out, or a run's games/*.jsonl."
        ),
    ],
    html: Annotated[
        Path,
        typer.Option(help="NAME.html: one page with a game list; else a folder, one per game."),
    ],
    index: Annotated[
        list[int] | None,
        typer.Option(help="Only these records (0 = the first line); repeat for more."),
    ] = None,
    last: Annotated[
        int | None, typer.Option(help="Only the last N records (e.g. the newest self-play).")
    ] = None,
) -> None:
    """Turn game records written earlier into HTML replays: board, moves, search, values."""
    from ponder.arena.records import read_records

    records = read_records(records_path)
    if index:
        bad = [i for i in index if not 0 <= i < len(records)]
        if bad:
            raise PonderError(f"--index {bad[0]}: {records_path} holds {len(records)} records")
        records = [records[i] for i in index]
    if last is not None:
        if last < 1:
            raise PonderError("--last takes a positive number")
        records = records[-last:]
    if not records:
        raise PonderError(f"{records_path} holds no game records")
    _write_html(html, records)


def ratings(
    path: Annotated[Path, typer.Argument(help="A ratings file written by pit --ratings-file.")],
    anchor: _AnchorOpt = None,
    bootstrap: _BootstrapOpt = 200,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write ratings as JSON.")] = None,
) -> None:
    """Print the joint ratings of every game a ratings file holds."""
    from ponder.arena.ledger import RatingsLedger
    from ponder.arena.report import make_console, ratings_table, write_json

    ledger = RatingsLedger.load(path)
    table = ledger.ratings(anchor=anchor, bootstrap=bootstrap, seed=seed)
    make_console().print(
        ratings_table(table, title=f"{path}: {ledger.game}, {ledger.matches_added} matches")
    )
    if json_out:
        write_json(json_out, {"game": ledger.game, **table.to_dict()})


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    app.command(epilog=PIT_EPILOG)(pit)
    app.command()(replay)
    app.command()(ratings)
