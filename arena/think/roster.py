"""Who plays in a study: checkpoints log-spaced in training compute, each at a ladder of search
budgets, and the fixed references that anchor the scale.

A player's spec string is its identity (in the game cache and in results), so a study that is
extended with more checkpoints or budgets reuses every game already played by the players it
keeps. Short names (`s400@64`, `s400@16g` for a Gumbel root, `s400@16~` for an adaptive budget)
label tables and plots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ponder.arena.think.compute import TrainingCompute, training_compute
from ponder.errors import PonderError

SEARCHES = ("puct", "gumbel", "both")
UCT_LADDER = ("uct:10", "uct:100", "uct:1000", "uct:10000")


@dataclass(frozen=True)
class Checkpoint:
    stem: Path
    training: TrainingCompute


@dataclass(frozen=True)
class StudyPlayer:
    spec: str
    name: str
    checkpoint: Checkpoint | None = None  # None for the references
    budget: int | None = None  # simulations per move (0: the raw policy); adaptive: typical
    root: str | None = None  # "puct" or "gumbel"
    adapt: float = 0.0  # > 1: an adaptive budget of up to adapt * budget

    @property
    def is_reference(self) -> bool:
        return self.checkpoint is None

    @property
    def step(self) -> int | None:
        return None if self.checkpoint is None else self.checkpoint.training.step


def run_checkpoints(run_dir: Path) -> list[Checkpoint]:
    """Every AlphaZero checkpoint of a run with its training compute, in step order."""
    from ponder.checkpoint import read_metadata

    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        raise PonderError(f"{run_dir} is not a training run directory (no checkpoints/ folder)")
    out = []
    for meta_path in sorted(folder.glob("ckpt_*.json")):
        stem = meta_path.with_suffix("")
        if not stem.with_suffix(".safetensors").is_file():
            continue  # a checkpoint torn by a kill: its metadata came first
        meta = read_metadata(stem)
        if meta.get("algorithm") != "alphazero":
            raise PonderError(f"{stem}: ponder think studies AlphaZero runs (this is not one)")
        out.append(Checkpoint(stem, training_compute(meta, str(stem))))
    if not out:
        raise PonderError(f"{run_dir} has no checkpoints to study")
    games = {read_metadata(c.stem).get("game") for c in out}
    if len(games) != 1:
        raise PonderError(f"{run_dir}: checkpoints of several games ({', '.join(map(str, games))})")
    return sorted(out, key=lambda c: c.training.step)


def log_spaced(checkpoints: list[Checkpoint], count: int) -> list[Checkpoint]:
    """`count` checkpoints as evenly spaced in log training compute (MACs) as the run allows,
    always the first and the last."""
    if count < 1:
        raise PonderError(f"--checkpoints must be at least 1 (got {count})")
    if len(checkpoints) <= count:
        return list(checkpoints)
    logs = np.log([c.training.macs for c in checkpoints])
    chosen: list[int] = []
    for target in np.linspace(logs[0], logs[-1], count):
        free = [k for k in range(len(checkpoints)) if k not in chosen]
        chosen.append(min(free, key=lambda k: abs(logs[k] - target)))
    return [checkpoints[k] for k in sorted(set(chosen))]


def budget_ladder(max_budget: int) -> list[int]:
    """0, 1, 2, 4, ... up to `max_budget` (which ends the ladder even off a power of two)."""
    if max_budget < 0:
        raise PonderError(f"--max-budget must be >= 0 (got {max_budget})")
    ladder = [0]
    b = 1
    while b <= max_budget:
        ladder.append(b)
        b *= 2
    if max_budget > 0 and ladder[-1] != max_budget:
        ladder.append(max_budget)
    return ladder


def parse_budgets(text: str, what: str) -> list[int]:
    """A comma-separated list of budgets ("16,64"); empty text means none."""
    out = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        if not (item.isascii() and item.isdigit()) or int(item) < 1:
            raise PonderError(f"{what}: {item!r} is not a positive number of simulations")
        out.append(int(item))
    return sorted(set(out))


def references(game: Any, specs: list[str] | None) -> list[str]:
    """The fixed players: random (the scale's zero), a UCT ladder, and the exact solver where
    it can play whole games from the openings."""
    from ponder.envs.solvers import SLOW_FROM_OPENINGS, get_solver

    if specs is not None:
        out = list(dict.fromkeys(specs))
        if "random" not in out:
            out.insert(0, "random")
        return out
    out = ["random", *UCT_LADDER]
    if get_solver(game.name) is not None and game.name not in SLOW_FROM_OPENINGS:
        out.append("solver")
    return out


def checkpoint_label(checkpoint: Checkpoint) -> str:
    return f"s{checkpoint.training.step}"


def build_roster(
    checkpoints: list[Checkpoint],
    budgets: list[int],
    search: str,
    reference_specs: list[str],
    gumbel_max: int | None = None,
    adaptive: list[int] | None = None,
    adapt: float = 4.0,
) -> list[StudyPlayer]:
    """Every (checkpoint, budget, root) player, the adaptive ones, then the references."""
    if search not in SEARCHES:
        raise PonderError(f"--search must be one of {', '.join(SEARCHES)} (got {search!r})")
    roots = ("puct", "gumbel") if search == "both" else (search,)
    gumbel_cap = math.inf if gumbel_max is None else gumbel_max
    players: list[StudyPlayer] = []
    for ckpt in checkpoints:
        label = checkpoint_label(ckpt)
        players.append(StudyPlayer(f"{ckpt.stem}@0", f"{label}@0", ckpt, 0, None))
        for b in budgets:
            if b == 0:
                continue
            for root in roots:
                if root == "gumbel" and b > gumbel_cap:
                    continue
                suffix = "g" if root == "gumbel" and search == "both" else ""
                spec = f"{ckpt.stem}@{b}:root={root}"
                players.append(StudyPlayer(spec, f"{label}@{b}{suffix}", ckpt, b, root))
        for b in adaptive or []:
            spec = f"{ckpt.stem}@{b}:root=puct:adapt={adapt:g}"
            players.append(StudyPlayer(spec, f"{label}@{b}~", ckpt, b, "puct", adapt))
    players.extend(StudyPlayer(spec, spec) for spec in reference_specs)
    names = [p.name for p in players]
    if len(set(names)) != len(names):
        raise PonderError("two study players share a name; give distinct references")
    return players
