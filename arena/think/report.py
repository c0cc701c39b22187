"""`report.md` and the terminal table: the study's numbers for a reader."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text


def _fmt(x: float | None, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:+.{digits}f}" if digits == 0 else f"{x:.{digits}f}"


def _interval(d: dict[str, Any] | None, digits: int = 0) -> str:
    if not d:
        return "-"
    lo, hi = d["ci95"]
    if digits == 0:
        return f"{d['value']:+.0f} [{lo:+.0f}, {hi:+.0f}]"
    return f"{d['value']:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _macs(x: float) -> str:
    return f"{x:.2e}"


def players_table(results: dict[str, Any]) -> Table:
    table = Table(title=Text(f"ponder think: {results['game']} ({results['games']} games)"))
    for col in ("player", "Elo", "95% CI", "games", "evals/move", "training MACs", "optimal"):
        table.add_column(col, justify="left" if col == "player" else "right", no_wrap=True)
    for row in sorted(results["players"], key=lambda r: -r["elo"]):
        lo, hi = row["ci95"]
        table.add_row(
            *(
                Text(c)
                for c in (
                    row["name"],
                    f"{row['elo']:+.0f}",
                    f"[{lo:+.0f}, {hi:+.0f}]",
                    str(row["games"]),
                    f"{row['test_evaluations_per_move']:.1f}"
                    if "test_evaluations_per_move" in row
                    else "-",
                    _macs(row["training"]["macs"]) if "training" in row else "-",
                    f"{row['optimal_move_share']:.1%}" if "optimal_move_share" in row else "-",
                )
            )
        )
    return table


def budget_table(results: dict[str, Any]) -> Table:
    """Checkpoints down, search budgets across: System 1 (budget 0) against System 2."""
    curves = results["curves"]["puct"]
    budgets = sorted({b for c in curves for b in c["budgets"]})
    table = Table(title=Text(f"{results['game']}: Elo by training stage and search budget"))
    table.add_column("checkpoint")
    table.add_column("training MACs", justify="right")
    for b in budgets:
        table.add_column("System 1" if b == 0 else f"@{b}", justify="right")
    for c in curves:
        cells = {
            b: f"{e:+.0f}±{h:.0f}"
            for b, e, h in zip(c["budgets"], c["elo"], c["ci95_half"], strict=True)
        }
        table.add_row(
            c["checkpoint"], _macs(c["training_macs"]), *(cells.get(b, "-") for b in budgets)
        )
    refs = [r for r in results["players"] if r["reference"]]
    if refs:
        table.caption = "references: " + ", ".join(
            f"{r['spec']} {r['elo']:+.0f}" for r in sorted(refs, key=lambda r: r["elo"])
        )
    return table


def markdown(results: dict[str, Any], plots: list[Path], command: str) -> str:
    """`report.md`: how the study was run, its fits, then every section's table."""
    lines = _preamble(results, command)
    lines += _plot_lines(plots)
    lines += _exchange_section(results)
    lines += _checkpoint_section(results)
    lines += _gumbel_section(results)
    lines += _adaptive_section(results)
    lines += _players_section(results)
    return "\n".join(lines) + "\n"


def _preamble(results: dict[str, Any], command: str) -> list[str]:
    """Title, run, command, and how ratings and compute are measured."""
    return [
        f"# ponder think: {results['game']}",
        "",
        f"Run `{results['run']}`; {results['games']} games "
        f"({results['play_seconds'] / 60:.1f} min of play); stopped: {results['stop_reason']}; "
        f"widest 95% interval +-{results['widest_ci95_half_width'] or float('nan'):.0f} Elo.",
        "",
        f"Command: `{command}`",
        "",
        f"Ratings: {results['ratings']['model']}; random = 0; "
        f"{results['ratings']['prior_draws']:g} virtual draw per pairing played.",
        "Test compute is measured: network evaluations per move in the study's games (the raw "
        "policy, System 1, is one). Training compute is the checkpoint's self-play "
        "evaluations and learner samples, in multiply-accumulates (a learner sample = 3 "
        "forwards).",
        "",
    ]


def _plot_lines(plots: list[Path]) -> list[str]:
    """Embedded images for the PNG plots; other formats are left to the folder."""
    lines: list[str] = []
    for path in plots:
        if path.suffix == ".png":
            lines += [f"![{path.stem}]({path.name})", ""]
    return lines


def _exchange_section(results: dict[str, Any]) -> list[str]:
    """The fitted train/test exchange rate, or why there is none."""
    ex = results.get("exchange")
    lines = ["## Exchange rate", ""]
    if ex:
        rate = ex["exchange_rate"]
        factor = 10 ** (-rate["value"])
        lines += [
            f"Fitted on {ex['points']} unsaturated players ({ex['model']}; RMS residual "
            f"{ex['rms_residual_elo']:.0f} Elo): **{_interval(rate, 2)}**. "
            f"At equal Elo, 10x training compute does the work of {factor:.1f}x test compute. "
            f"Elo per 10x training compute at fixed test compute: "
            f"{ex['b_elo_per_10x_training']:+.0f}; per 10x test compute at fixed training: "
            f"{ex['c_elo_per_10x_test']:+.0f}.",
            "",
        ]
    else:
        lines += ["Too few unsaturated points to fit.", ""]
    return lines


def _table(title: str, header: str, align: str, rows: list[str]) -> list[str]:
    """A titled markdown table and the blank line after it."""
    return [title, "", header, align, *rows, ""]


def _checkpoint_section(results: dict[str, Any]) -> list[str]:
    """One row per checkpoint: System 1, the top budget, the lift and the slope between."""
    rows = [
        f"| {row['checkpoint']} | {_macs(row['training_macs'])} | "
        f"{row['training_wall_minutes']:.1f} | {row['system1_elo']:+.0f} "
        f"| {row['top_budget_elo']:+.0f} | {_interval(row['search_lift_at_top_budget'])} "
        f"| {_interval(row['elo_per_doubling'])} |"
        for row in results["per_checkpoint"]
    ]
    return _table(
        "## System 1 and System 2 per checkpoint",
        "| checkpoint | training MACs | training minutes | System 1 Elo | top budget Elo | lift "
        "| Elo per doubling |",
        "|---|---:|---:|---:|---:|---:|---:|",
        rows,
    )


def _gumbel_section(results: dict[str, Any]) -> list[str]:
    """Gumbel root against PUCT at the same checkpoint and budget; nothing when none played."""
    if not results["gumbel_vs_puct"]:
        return []
    rows = [
        f"| {row['checkpoint']} | {row['budget']} | {_interval(row['gumbel_minus_puct'])} |"
        for row in results["gumbel_vs_puct"]
    ]
    return _table(
        "## Gumbel root minus PUCT, same checkpoint and budget",
        "| checkpoint | budget | Elo difference |",
        "|---|---:|---:|",
        rows,
    )


def _adaptive_row(row: dict[str, Any]) -> str:
    spend = row.get("spend_by_difficulty") or {}
    rho = spend.get("spearman_spend_vs_raw_policy_error")
    rho_text = "-" if rho is None or not math.isfinite(rho) else f"{rho:.2f}"
    return (
        f"| {row['player']} (up to {row['max_budget']}) | "
        f"{row['evaluations_per_move']:.1f} | {row['elo']:+.0f} | "
        f"{_interval(row['gain_over_fixed_at_equal_compute'])} | {rho_text} |"
    )


def _adaptive_section(results: dict[str, Any]) -> list[str]:
    """Adaptive budgets against fixed ones at equal compute; nothing when none played."""
    if not results["adaptive"]:
        return []
    return _table(
        "## Adaptive budgets against fixed budgets at equal compute",
        "| player | evals/move | Elo | gain at equal compute | spend vs raw-policy error "
        "(Spearman) |",
        "|---|---:|---:|---:|---:|",
        [_adaptive_row(row) for row in results["adaptive"]],
    )


def _players_section(results: dict[str, Any]) -> list[str]:
    """Every player, strongest first, with the note on optimal moves when they were labelled."""
    lines = [
        "## Every player",
        "",
        "| player | Elo | 95% CI | games | evals/move | training MACs | optimal moves |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for row in sorted(results["players"], key=lambda r: -r["elo"]):
        lo, hi = row["ci95"]
        evals = row.get("test_evaluations_per_move")
        evals_text = "-" if evals is None else f"{evals:.1f}"
        macs_text = _macs(row["training"]["macs"]) if "training" in row else "-"
        share = row.get("optimal_move_share")
        share_text = "-" if share is None else f"{share:.1%}"
        lines.append(
            f"| {row['name']} | {row['elo']:+.0f} | [{lo:+.0f}, {hi:+.0f}] | {row['games']} | "
            f"{evals_text} | {macs_text} | {share_text} |"
        )
    if results.get("optimal_positions"):
        lines += [
            "",
            f"Optimal moves: share of {results['optimal_positions']} solver-labelled positions "
            "(random play to a random depth, only positions where some legal move is wrong).",
        ]
    return lines
