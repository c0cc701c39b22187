"""The `ponder` command line. Heavy imports (torch, ray, numba kernels) happen inside commands so
`ponder --help` answers at once. Every user error is one line on stderr and exit code 2 (`main`)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from ponder import __version__
from ponder.errors import PonderError, one_line, user_error_in

app = typer.Typer(
    name="ponder",
    help="Game-playing reinforcement learning: AlphaZero with batched numba MCTS, and DQN.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# `ponder train <algorithm>`: each algorithm's module adds its subcommand to this group.
train_app = typer.Typer(
    help="Train an agent (az: AlphaZero on a board game, dqn: DQN on Atari).", no_args_is_help=True
)

# Modules that add commands with `register(app, train_app)`; each lands with the feature it
# serves, so only commands that work are registered.
COMMAND_MODULES = [
    "ponder.commands_pit",  # pit, ratings
    "ponder.commands_play",  # play, watch
    "ponder.commands_train_az",  # train az
    "ponder.commands_train_dqn",  # train dqn
    "ponder.commands_demo",  # demo
    "ponder.commands_think",  # think
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ponder {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """ponder: train agents, watch them play, pit them against each other."""


@app.command()
def games() -> None:
    """List every game: board size, action count, and engine (numba-native or OpenSpiel)."""
    from ponder.envs.registry import FEATURED_OPENSPIEL, get_game, native_game_names

    table = Table(title="ponder games")
    for column in ("name", "board", "actions", "engine", "OpenSpiel twin"):
        table.add_column(column)
    for name in native_game_names():
        game = get_game(name)
        h, w = game.board_shape
        table.add_row(
            name, f"{h}x{w}", str(game.num_actions), "numba-native", game.openspiel_name or "-"
        )
    if importlib.util.find_spec("ponder.envs.openspiel") is not None:
        for spec in FEATURED_OPENSPIEL:
            try:
                game = get_game("openspiel:" + spec)
            except PonderError:
                continue
            h, w = game.board_shape
            board = f"{h}x{w}" if h else "-"
            table.add_row(
                "openspiel:" + spec, board, str(game.num_actions), "OpenSpiel (generic)", spec
            )
    Console().print(table)


def _register_commands() -> None:
    for module in COMMAND_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).register(app, train_app)
    if train_app.registered_commands:
        app.add_typer(train_app, name="train")


_register_commands()


# The parser's error class (click's, or typer's copy of it in typer >= 0.22), found through the
# one that typer exports so that no private module is imported.
UsageError: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)


def _usage_line(exc: Any) -> str:
    """A parser error as one line that says where the help is, instead of typer's box."""
    where = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
    return f"{exc.format_message()}{where}"


def _fail(message: str, code: int = PonderError.exit_code) -> NoReturn:
    print(f"error: {one_line(message)}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """The `ponder` entry point: every failure the user can fix ends as one line on stderr and
    exit code 2 (PonderError, parser errors, a user error raised inside a Ray actor, a path the
    system refuses, an allocation the machine cannot make). PONDER_TRACEBACK=1 shows the
    traceback instead, for debugging."""
    try:
        code = app(args=argv, standalone_mode=False)
    except UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.exit(0)  # `ponder` or `ponder train` alone: the help was printed, as asked
        _fail(_usage_line(exc), exc.exit_code)  # type: ignore[attr-defined]
    except (KeyboardInterrupt, typer.Abort):
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("PONDER_TRACEBACK"):
            raise
        user = user_error_in(exc)
        if user is not None:
            _fail(str(user), user.exit_code)
        if isinstance(exc, MemoryError):
            _fail(f"not enough memory ({exc or 'allocation failed'}); ask for smaller sizes")
        if isinstance(exc, OSError) and exc.filename is not None:
            _fail(f"{exc.filename}: {exc.strerror or exc}")
        raise
    if code == 130:  # typer turns Ctrl-C into exit code 130
        print("interrupted", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)
