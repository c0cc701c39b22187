"""What `ponder train az` shows while it runs: one live table on a terminal, plain log lines
elsewhere (CI logs, files), both fed the same snapshot."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table


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


class ProgressDisplay:
    """Live table when attached to a terminal, else one line per logged step; off if disabled."""

    def __init__(self, enabled: bool, console: Console | None = None, refresh_s: float = 0.5):
        self.enabled = enabled
        self.console = console or Console()
        self.live: Live | None = None
        self.refresh_s = refresh_s
        self.last = 0.0

    def __enter__(self) -> ProgressDisplay:
        if self.enabled and self.console.is_terminal:
            self.live = Live(console=self.console, auto_refresh=False, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)
            self.live = None

    def update(self, snap: dict[str, Any], logged: bool = False) -> None:
        if not self.enabled:
            return
        if self.live is not None:
            now = time.monotonic()
            if logged or now - self.last >= self.refresh_s:
                self.live.update(snapshot_table(snap), refresh=True)
                self.last = now
        elif logged:
            self.console.print(snapshot_line(snap), highlight=False, soft_wrap=True)

    def message(self, text: str) -> None:
        if self.enabled:
            self.console.print(text, highlight=False, soft_wrap=True)
