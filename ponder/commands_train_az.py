"""`ponder train az`: AlphaZero on a board game, with self-play workers on Ray (or, with
`--backend inprocess`, all actors in one process)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    @train_app.command("az")
    def train_az(
        config: Annotated[
            Path | None,
            typer.Option("--config", "-c", help="YAML config, e.g. configs/tic_tac_toe.yaml."),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option(help="Run directory to create (default runs/az-<game>-<time>)."),
        ] = None,
        workers: Annotated[
            int | None, typer.Option(min=1, help="Self-play worker actors (run.workers).")
        ] = None,
        address: Annotated[
            str | None, typer.Option(help="Join this Ray cluster (default: start Ray locally).")
        ] = None,
        backend: Annotated[
            str | None,
            typer.Option(help="Where the actors run: ray or inprocess (run.backend)."),
        ] = None,
        resume: Annotated[
            Path | None,
            typer.Option(help="Continue this run directory from its latest checkpoint."),
        ] = None,
        overrides: Annotated[
            list[str] | None,
            typer.Option("--set", help="Override a config key: --set train.lr=1e-3 (repeatable)."),
        ] = None,
        quiet: Annotated[bool, typer.Option(help="No progress display.")] = False,
    ) -> None:
        """Train AlphaZero: self-play workers, replay buffer, learner and evaluator on Ray.

        Ctrl-C writes a checkpoint and stops; `--resume RUN_DIR` continues from it.
        """
        from ponder.selfplay.cluster import shutdown_ray
        from ponder.selfplay.driver import train_alphazero

        extra = list(overrides or [])
        if workers is not None:
            extra.append(f"run.workers={workers}")
        if backend is not None:
            extra.append(f"run.backend={backend}")
        try:
            summary = train_alphazero(
                config=config,
                overrides=extra,
                out=out,
                resume=resume,
                address=address,
                progress=not quiet,
            )
        finally:
            shutdown_ray()
        typer.echo(
            f"{summary.stop_reason}: step {summary.step}, {summary.counters.games} games, "
            f"run directory {summary.run}"
        )
