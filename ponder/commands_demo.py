"""`ponder demo`: the whole system in a few minutes on a laptop.

AlphaZero learns tic-tac-toe from scratch on a local Ray (self-play workers, replay buffer,
learner, evaluator) until its play is perfect, checked exhaustively: in every position it can
reach in either seat against any opponent, its move at the evaluation budget is one the exact
minimax rates optimal (`ponder.arena.perfect`). Then that checkpoint plays the baselines
through the arena and the table is printed. Last, a small `ponder think` of the run rates its
early, middle and final networks at search budgets 0 to 16: what search ("System 2") adds to
the raw policy ("System 1") at each stage of training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ponder.errors import PonderError

BASELINES = ("random", "uct:100", "uct:1000", "minimax")


def config_path() -> Path:
    import ponder

    path = Path(ponder.__file__).resolve().parent.parent / "configs" / "tic_tac_toe.yaml"
    if not path.is_file():
        raise PonderError(f"the demo needs {path}; run it from a ponder source checkout")
    return path


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    @app.command()
    def demo(
        out: Annotated[
            Path | None,
            typer.Option(help="Run directory to create (default runs/az-tic_tac_toe-<time>)."),
        ] = None,
        games: Annotated[
            int, typer.Option(min=2, help="Games against each baseline (both seats).")
        ] = 200,
        minutes: Annotated[
            float, typer.Option(min=0.5, help="Cap on the training time, in minutes.")
        ] = 8.0,
        think: Annotated[
            bool, typer.Option(help="End with a small `ponder think` of the run.")
        ] = True,
    ) -> None:
        """Train tic-tac-toe to perfect play on local Ray, then pit it against the baselines."""
        import torch
        import yaml

        from ponder.arena.match import play_match
        from ponder.arena.report import make_console, match_table
        from ponder.selfplay.cluster import shutdown_ray
        from ponder.selfplay.driver import train_alphazero

        config = config_path()
        console = make_console()
        console.print(
            f"[bold]ponder demo[/bold]: AlphaZero learns tic-tac-toe from scratch in one process "
            f"({config.name}), stopping once its move is minimax-optimal in every position it can "
            "reach, in either seat, against any opponent."
        )
        try:
            summary = train_alphazero(
                config,
                # The solver is the yardstick while training; the baselines come in the pit.
                ["eval.opponents=[]", f"run.minutes={minutes}"],
                out=out,
                progress=True,
                console=console,
            )
        finally:
            shutdown_ray()
        if summary.last_checkpoint is None:
            raise PonderError(
                f"training stopped before its first checkpoint ({summary.stop_reason})"
            )
        perfect = summary.stop_reason.startswith("stop_when")
        console.print(
            f"training stopped at step {summary.step} after "
            f"{summary.counters.wall_seconds / 60:.1f} min: {summary.stop_reason}"
            + ("" if perfect else " (perfect play was not reached in the time allowed)")
        )
        sims = yaml.safe_load(config.read_text())["eval"]["simulations"]
        checkpoint = summary.last_checkpoint
        if perfect:  # the network that passed the evaluation, where its checkpoint was kept
            passed = checkpoint.parent / f"ckpt_{summary.evaluations[-1]['step']:09d}"
            checkpoint = passed if passed.with_suffix(".json").is_file() else checkpoint
        player = f"{checkpoint}@{sims}"
        # One thread: the players evaluate small batches, where extra threads only contend.
        torch.set_num_threads(1)
        matches = [
            play_match("tic_tac_toe", player, baseline, games, seed=0, progress=True)
            for baseline in BASELINES
        ]
        console.print(match_table(matches, title=f"{player} against the baselines"))
        if think:
            think_about(summary.run, console)
        console.print(f"run directory: {summary.run}")
        console.print(
            f"play against it: ponder play --game tic_tac_toe {player}   "
            f"curves: tensorboard --logdir {summary.run / 'tb'}",
            highlight=False,
        )


def think_about(run: Path, console: Any) -> None:
    """System 1 against System 2 on the demo run: four checkpoints at budgets 0..16."""
    from ponder.arena.think.main import run_study
    from ponder.arena.think.report import budget_table
    from ponder.arena.think.study import StudyOptions

    out = run / "think"
    references = ["random", "uct:10", "uct:100", "solver"]
    command = (
        f"ponder think {run} --checkpoints 4 --max-budget 16 --references "
        f"{','.join(references)} --ci 100 --max-games 3000 --positions 0"
    )
    console.print(
        f"[bold]ponder think[/bold]: what search buys at each stage of training ({command})"
    )
    options = StudyOptions(
        run=run,
        out=out,
        checkpoints=4,
        max_budget=16,
        references=references,
        ci=100.0,
        max_games=3000,
        positions=0,
    )
    results = run_study(options, command, progress=True)
    console.print(budget_table(results))
    console.print(
        f"{results['games']} games, stopped: {results['stop_reason']}. "
        f"Plot: {out / 'elo_vs_test_compute.png'}; report: {out / 'report.md'}",
        highlight=False,
    )
