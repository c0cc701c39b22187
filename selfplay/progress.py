"""What `ponder train az` shows while it runs (through the one TrainingDisplay): the learner's
bar with a table of the run below it on a terminal, plain log lines elsewhere (CI logs, files),
both fed the same snapshot."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ponder.progress import TrainingDisplay


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def snapshot_table(snap: dict[str, Any]) -> Table:
    table = Table(title=f"ponder train az: {snap['game']} -> {snap['run']}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    minutes = snap["wall_seconds"] / 60
    table.add_row("time", f"{minutes:.1f} min")
    table.add_row(
        "self-play",
        f"{_fmt(snap['games'])} games, {_fmt(snap['positions'])} positions "
        f"({snap['positions_per_s']:.0f}/s), {snap['workers']} workers, "
        f"{snap['worker_restarts']} restarts",
    )
    table.add_row(
        "learner",
        f"step {_fmt(snap['step'])}/{_fmt(snap['max_steps'])}, "
        f"sample ratio {snap['sample_ratio']:.2f} (target {snap['target_ratio']:.2f})",
    )
    losses = snap.get("losses") or {}
    if losses:
        table.add_row("losses", ", ".join(f"{k} {v:.4f}" for k, v in losses.items()))
    evaluation = snap.get("evaluation")
    if evaluation:
        rows = "; ".join(
            f"{row['opponent']} {row['wins']}/{row['draws']}/{row['losses']}"
            for row in evaluation["table"]
        )
        table.add_row(f"eval @{evaluation['step']} (W/D/L)", rows)
        if evaluation.get("exhaustive"):
            table.add_row("every position", evaluation["exhaustive"])
    if snap.get("status"):
        table.add_row("status", snap["status"])
    return table


def snapshot_line(snap: dict[str, Any]) -> str:
    losses = snap.get("losses") or {}
    loss_text = " ".join(f"{k}={v:.4f}" for k, v in losses.items() if k != "lr")
    return (
        f"[{snap['wall_seconds'] / 60:5.1f} min] step {snap['step']}/{snap['max_steps']} "
        f"games {snap['games']} positions {snap['positions']} "
        f"ratio {snap['sample_ratio']:.2f} {loss_text}"
    ).rstrip()


def eval_summary(result: dict[str, Any]) -> str:
    """One line per finished evaluation: each opponent's wins/draws/losses."""
    rows = "; ".join(
        f"{row['opponent']} {row['wins']}/{row['draws']}/{row['losses']}" for row in result["table"]
    )
    return f"eval @{result['step']} (W/D/L): {rows} ({result['seconds']:.0f} s)"


def az_display(game: str, total: int, enabled: bool, console: Console | None) -> TrainingDisplay:
    return TrainingDisplay(f"az {game} learner steps", total, 0, enabled, console)


def show_snapshot(display: TrainingDisplay, snap: dict[str, Any], logged: bool = False) -> None:
    """The bar and table on a terminal (the table at once when `logged`), a plain line per
    logged step elsewhere."""
    figures = f"{snap['positions_per_s']:.0f} positions/s"
    table = snapshot_table(snap) if logged or display.wants_table() else None
    display.update(snap["step"], figures, table, force=logged)
    if logged:
        display.line(snapshot_line(snap))
