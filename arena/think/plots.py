"""The study's pictures, drawn from `results.json` alone (so they can be redrawn later):
Elo against test compute per checkpoint, iso-Elo contours in the (training, test) compute
plane with the fitted exchange rate, and PUCT against Gumbel at low budgets. PNG and SVG each.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, out: Path, stem: str) -> list[Path]:
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    for path in paths:
        tmp = path.with_name(path.name + ".tmp")
        fig.savefig(tmp, dpi=120, format=path.suffix[1:])
        tmp.replace(path)
    return paths


def _colours(curves: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    macs = [c["training_macs"] for c in curves] or [1.0]
    norm = LogNorm(vmin=min(macs), vmax=max(max(macs), min(macs) * 1.0001))
    cmap = plt.get_cmap("viridis")
    return norm, cmap, plt


def _references(ax: Any, results: dict[str, Any]) -> None:
    for row in results["players"]:
        if not row["reference"] or row["spec"] == "random":
            continue
        perfect = row["spec"].startswith(("solver", "minimax"))
        ax.axhline(
            row["elo"],
            color="crimson" if perfect else "grey",
            linestyle="-" if perfect else ":",
            linewidth=1.2 if perfect else 0.8,
        )
        label = "perfect play" if perfect else row["spec"]
        ax.annotate(
            label,
            (1.0, row["elo"]),
            xycoords=("axes fraction", "data"),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
            color="crimson" if perfect else "dimgrey",
        )


def elo_vs_test_compute(results: dict[str, Any], out: Path) -> list[Path]:
    curves = results["curves"]["puct"]
    norm, cmap, plt = _colours(curves)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for c in curves:
        colour = cmap(norm(c["training_macs"]))
        ax.errorbar(
            c["test_evaluations_per_move"],
            c["elo"],
            yerr=c["ci95_half"],
            color=colour,
            marker="o",
            markersize=3,
            capsize=2,
            linewidth=1.3,
            label=c["checkpoint"],
        )
    _references(ax, results)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("test compute: network evaluations per move (1 = raw policy, System 1)")
    ax.set_ylabel("Elo (random = 0)")
    ax.set_title(f"{results['game']}: strength against search at each stage of training")
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, pad=0.12).set_label("training compute (MACs)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths = _save(fig, out, "elo_vs_test_compute")
    plt.close(fig)
    return paths


def iso_elo(results: dict[str, Any], out: Path) -> list[Path]:
    plt = _pyplot()
    from matplotlib.tri import Triangulation

    curves = results["curves"]["puct"]
    x = np.array([math.log10(c["training_macs"]) for c in curves for _ in c["elo"]])
    y = np.array([math.log10(t) for c in curves for t in c["test_evaluations_per_move"]])
    z = np.array([e for c in curves for e in c["elo"]])
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    if len(curves) >= 2 and len(z) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
        tri = Triangulation(x, y)
        levels = np.linspace(z.min(), z.max(), 9)[1:-1]
        filled = ax.tricontourf(tri, z, levels=20, cmap="magma", alpha=0.85)
        lines = ax.tricontour(tri, z, levels=levels, colors="white", linewidths=0.8)
        ax.clabel(lines, fmt="%.0f", fontsize=7)
        fig.colorbar(filled, ax=ax).set_label("Elo")
    ax.scatter(x, y, s=8, color="black", zorder=3)
    fit = results.get("exchange")
    if fit:
        a, b, c = fit["a"], fit["b_elo_per_10x_training"], fit["c_elo_per_10x_test"]
        xs = np.linspace(x.min(), x.max(), 2)
        for level in np.linspace(np.percentile(z, 25), np.percentile(z, 75), 3):
            ax.plot(xs, (level - a - b * xs) / c, "--", color="cyan", linewidth=1)
        rate = fit["exchange_rate"]
        ax.set_title(
            f"{results['game']}: iso-Elo contours; fitted exchange rate "
            f"{rate['value']:.2f} [{rate['ci95'][0]:.2f}, {rate['ci95'][1]:.2f}]",
            fontsize=10,
        )
    else:
        ax.set_title(f"{results['game']}: iso-Elo contours (too few points for a fit)")
    if len(y):
        pad = 0.05 * max(np.ptp(y), 0.1)
        ax.set_ylim(y.min() - pad, y.max() + pad)
        ax.set_xlim(x.min() - 0.05 * max(np.ptp(x), 0.1), x.max() + 0.05 * max(np.ptp(x), 0.1))
    ax.set_xlabel("log10 training compute (MACs)")
    ax.set_ylabel("log10 test evaluations per move")
    fig.tight_layout()
    paths = _save(fig, out, "iso_elo")
    plt.close(fig)
    return paths


def puct_vs_gumbel(results: dict[str, Any], out: Path) -> list[Path]:
    gumbel = {c["checkpoint"]: c for c in results["curves"]["gumbel"]}
    puct = [c for c in results["curves"]["puct"] if c["checkpoint"] in gumbel]
    if not puct:
        return []
    norm, cmap, plt = _colours(puct)
    top = max(max(gumbel[c["checkpoint"]]["budgets"]) for c in puct)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for c in puct:
        colour = cmap(norm(c["training_macs"]))
        for curve, style, name in ((c, "-", "PUCT"), (gumbel[c["checkpoint"]], "--", "Gumbel")):
            keep = [k for k, b in enumerate(curve["budgets"]) if b <= top]
            ax.errorbar(
                [max(curve["budgets"][k], 0.5) for k in keep],
                [curve["elo"][k] for k in keep],
                yerr=[curve["ci95_half"][k] for k in keep],
                color=colour,
                linestyle=style,
                marker="o" if style == "-" else "s",
                markersize=3,
                capsize=2,
                label=f"{c['checkpoint']} {name}",
            )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("simulations per move (0 plotted at 1/2: the raw policy)")
    ax.set_ylabel("Elo (random = 0)")
    ax.set_title(f"{results['game']}: PUCT (solid) against a Gumbel root (dashed)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths = _save(fig, out, "puct_vs_gumbel")
    plt.close(fig)
    return paths


def draw_all(results: dict[str, Any], out: Path) -> list[Path]:
    if not results.get("curves"):
        return []
    return [
        *elo_vs_test_compute(results, out),
        *iso_elo(results, out),
        *puct_vs_gumbel(results, out),
    ]
