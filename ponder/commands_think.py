"""`ponder think RUN_DIR`: what test-time search buys, measured against training compute."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ponder.errors import PonderError

# Option types, named once so the signature of `think` reads as a list of parameters.
_RunDirArg = Annotated[Path, typer.Argument(help="An AlphaZero training run directory.")]
_OutOpt = Annotated[Path | None, typer.Option(help="Study folder (default RUN_DIR/think).")]
_CheckpointsOpt = Annotated[int, typer.Option(help="Checkpoints, log-spaced in training compute.")]
_MaxBudgetOpt = Annotated[int, typer.Option(help="Largest search budget (ladder 0, 1, 2, 4, ...).")]
_GumbelMaxOpt = Annotated[
    int | None, typer.Option(help="With --search both: Gumbel players up to this budget.")
]
_AdaptiveOpt = Annotated[
    str,
    typer.Option(help="Typical budgets of adaptive-budget players, e.g. 16,64 ('' none)."),
]
_AdaptOpt = Annotated[
    float, typer.Option(help="An adaptive move may take up to this many times its budget.")
]
_ReferencesOpt = Annotated[
    str | None,
    typer.Option(help="Reference players (default random,uct:10,...,uct:10000,solver)."),
]
_CiOpt = Annotated[float, typer.Option(help="Target 95% half-width of every rating (Elo).")]
_ThreadsOpt = Annotated[
    int, typer.Option(help="Torch threads per process (small batches: 1 is fastest).")
]
_PositionsOpt = Annotated[
    int, typer.Option(help="Solver-labelled positions for optimal-move shares.")
]


def _print_study(results: dict[str, Any], out: Path) -> None:
    """The players and budget tables, the exchange rate when it was fitted, and why the
    study stopped."""
    from rich.console import Console

    from ponder.arena.think.report import budget_table, players_table

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
    console.print(f"stopped: {results['stop_reason']}; study folder: {out}")


def think(
    run_dir: _RunDirArg,
    out: _OutOpt = None,
    checkpoints: _CheckpointsOpt = 8,
    max_budget: _MaxBudgetOpt = 512,
    search: Annotated[str, typer.Option(help="Root rule: puct, gumbel or both.")] = "puct",
    gumbel_max: _GumbelMaxOpt = None,
    adaptive: _AdaptiveOpt = "",
    adapt: _AdaptOpt = 4.0,
    references: _ReferencesOpt = None,
    ci: _CiOpt = 50.0,
    max_games: Annotated[int, typer.Option(help="Stop after this many games.")] = 20_000,
    minutes: Annotated[float, typer.Option(help="Stop after this long (0: no limit).")] = 0.0,
    batch: Annotated[int, typer.Option(help="Games per scheduled batch (even).")] = 32,
    threads: _ThreadsOpt = 1,
    workers: Annotated[int, typer.Option(help="Ray workers per batch (0: in process).")] = 0,
    positions: _PositionsOpt = 300,
    seed: Annotated[int, typer.Option(help="Study seed (openings, players).")] = 0,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Rate a run's checkpoints at search budgets 0..N against fixed references, then fit
    Elo per doubling of test compute and the train/test exchange rate. Resumable."""
    from ponder.arena.think.main import run_study
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
    _print_study(results, options.out)


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    app.command()(think)
