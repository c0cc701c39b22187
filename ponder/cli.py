"""The `ponder` command line. Heavy imports (torch, ray, numba kernels) happen inside commands so
`ponder --help` answers at once. Every PonderError becomes one line on stderr and exit code 2."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import typer
from rich.console import Console
from rich.table import Table

from ponder import __version__
from ponder.errors import PonderError

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


def main() -> None:
    try:
        app()
    except PonderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
