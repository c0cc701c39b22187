"""`ponder train dqn`: a DQN-family agent on an ALE game (or MinAtar, or classic control), in one
process by default or with Ape-X actors on Ray (`--actors N`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    @train_app.command("dqn")
    def train_dqn(
        config: Annotated[
            Path | None,
            typer.Option("--config", "-c", help="YAML config, e.g. configs/atari/pong.yaml."),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option(help="Run directory to create (default runs/dqn-<game>-<time>)."),
        ] = None,
        resume: Annotated[
            Path | None,
            typer.Option(help="Continue this run directory from its latest checkpoint."),
        ] = None,
        actors: Annotated[
            int | None,
            typer.Option(min=0, help="Ape-X env-worker actors on Ray (0: one process)."),
        ] = None,
        engine: Annotated[
            str | None,
            typer.Option(
                help="ponder (its own loop, or Ape-X with --actors) or rllib (RLlib's DQN with "
                "ponder's network; scale with --set rllib.env_runners=N)."
            ),
        ] = None,
        address: Annotated[
            str | None,
            typer.Option(help="With --actors or --engine rllib, join this Ray cluster."),
        ] = None,
        overrides: Annotated[
            list[str] | None,
            typer.Option("--set", help="Override a config key: --set agent.lr=1e-4 (repeatable)."),
        ] = None,
        quiet: Annotated[bool, typer.Option(help="No progress display.")] = False,
    ) -> None:
        """Train DQN (vanilla, Double, or Rainbow-lite: the config decides).

        Ctrl-C writes a checkpoint and stops; `--resume RUN_DIR` continues from it. Scores are
        reported under the config's Atari protocol (machado or nature); MinAtar games
        (configs/minatar/) play under the MinAtar paper's settings.
        """
        # Before torch loads: OpenMP threads that spin while waiting for work starve the
        # emulator threads (and every other process) on a machine with few cores; sleeping
        # waiters cost a little on an idle machine and save an order of magnitude on a busy one.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from ponder.agents.dqn.training import prepare_run

        extra = list(overrides or [])
        if actors is not None:
            extra.append(f"run.workers={actors}")
        if engine is not None:
            extra.append(f"run.engine={engine}")
        cfg, run, has_checkpoint = prepare_run(config, extra, out, resume, address)
        summary = _train_on_engine(cfg, run, has_checkpoint, address, not quiet)
        tail = ""
        if summary.last_eval is not None:
            e = summary.last_eval
            tail = f", eval mean {e.mean:.2f} [{e.ci95_low:.2f}, {e.ci95_high:.2f}]"
        typer.echo(
            f"{summary.stop_reason}: step {summary.step}, {summary.updates} updates{tail}, "
            f"run directory {run.path}"
        )


def _train_on_engine(
    cfg: Any, run: Any, has_checkpoint: bool, address: str | None, show_progress: bool
) -> Any:
    """RLlib's DQN, Ape-X on Ray (run.workers > 0) or the single-process loop; Ray, where it
    was started, is shut down whatever happens."""
    if cfg.run.engine == "ponder" and cfg.run.workers == 0:
        from ponder.agents.dqn.loop import train_single

        return train_single(cfg, run, has_checkpoint, show_progress=show_progress)
    from ponder.selfplay.cluster import shutdown_ray

    try:
        if cfg.run.engine == "rllib":
            from ponder.selfplay.rllib_dqn import train_rllib

            return train_rllib(cfg, run, has_checkpoint, address, show_progress=show_progress)
        from ponder.selfplay.apex_driver import train_apex

        return train_apex(cfg, run, has_checkpoint, address, show_progress=show_progress)
    finally:
        shutdown_ray()
