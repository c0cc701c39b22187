"""`ponder think RUN_DIR`: what test-time search buys, measured against training compute."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from ponder.errors import PonderError


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    @app.command()
    def think(
        run_dir: Annotated[Path, typer.Argument(help="An AlphaZero training run directory.")],
        out: Annotated[
            Path | None, typer.Option(help="Study folder (default RUN_DIR/think).")
        ] = None,
        checkpoints: Annotated[
            int, typer.Option(help="Checkpoints, log-spaced in training compute.")
        ] = 8,
        max_budget: Annotated[
            int, typer.Option(help="Largest search budget (ladder 0, 1, 2, 4, ...).")
        ] = 512,
        search: Annotated[str, typer.Option(help="Root rule: puct, gumbel or both.")] = "puct",
        gumbel_max: Annotated[
            int | None, typer.Option(help="With --search both: Gumbel players up to this budget.")
        ] = None,
        adaptive: Annotated[
            str,
            typer.Option(help="Typical budgets of adaptive-budget players, e.g. 16,64 ('' none)."),
        ] = "",
        adapt: Annotated[
            float, typer.Option(help="An adaptive move may take up to this many times its budget.")
        ] = 4.0,
        references: Annotated[
            str | None,
            typer.Option(help="Reference players (default random,uct:10,...,uct:10000,solver)."),
        ] = None,
        ci: Annotated[
            float, typer.Option(help="Target 95% half-width of every rating (Elo).")
        ] = 50.0,
        max_games: Annotated[int, typer.Option(help="Stop after this many games.")] = 20_000,
        minutes: Annotated[float, typer.Option(help="Stop after this long (0: no limit).")] = 0.0,
        batch: Annotated[int, typer.Option(help="Games per scheduled batch (even).")] = 32,
        threads: Annotated[
            int, typer.Option(help="Torch threads per process (small batches: 1 is fastest).")
        ] = 1,
        workers: Annotated[int, typer.Option(help="Ray workers per batch (0: in process).")] = 0,
        positions: Annotated[
            int, typer.Option(help="Solver-labelled positions for optimal-move shares.")
        ] = 300,
        seed: Annotated[int, typer.Option(help="Study seed (openings, players).")] = 0,
        quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    ) -> None:
        """Rate a run's checkpoints at search budgets 0..N against fixed references, then fit
        Elo per doubling of test compute and the train/test exchange rate. Resumable."""
        from ponder.arena.think.main import run_study
        from ponder.arena.think.report import budget_table, players_table
        from ponder.arena.think.roster import parse_budgets
        from ponder.arena.think.study import StudyOptions

        if not run_dir.is_dir():
            raise PonderError(f"{run_dir} is not a directory")
        if threads < 1:
            raise PonderError(f"--threads must be at least 1 (got {threads})")
        import torch

        # The players evaluate a few dozen positions at a time, where more threads only
        # contend: measured 5x slower with two threads than one on a busy 2-core machine.
        torch.set_num_threads(threads)
        options = StudyOptions(
            run=run_dir,
            out=out if out is not None else run_dir / "think",
            checkpoints=checkpoints,
            max_budget=max_budget,
            search=search,
            gumbel_max=gumbel_max,
            adaptive=parse_budgets(adaptive, "--adaptive"),
            adapt=adapt,
            references=None if references is None else [s for s in references.split(",") if s],
            ci=ci,
            max_games=max_games,
            minutes=minutes,
            games_per_batch=batch,
            workers=workers,
            positions=positions,
            seed=seed,
        )
        command = "ponder " + shlex.join(sys.argv[1:])
        results = run_study(options, command, progress=not quiet)
        from rich.console import Console

        console = Console()
        console.print(players_table(results))
        console.print(budget_table(results))
        ex = results.get("exchange")
        if ex:
            rate = ex["exchange_rate"]
            console.print(
                f"exchange rate (d log test / d log train at equal Elo): {rate['value']:.2f} "
                f"[{rate['ci95'][0]:.2f}, {rate['ci95'][1]:.2f}]"
            )
        console.print(f"stopped: {results['stop_reason']}; study folder: {options.out}")
