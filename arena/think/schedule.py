"""Which games to play next: where they shrink the widest rating interval the most.

A study has far too many players for a round robin. It starts with a skeleton that links every
player to the scale (each budget to the next one of its checkpoint, each checkpoint to the next
at the same budget, Gumbel and adaptive players to PUCT at the same budget, the references in a
chain), then adds games greedily: the player whose 95% interval is widest gets a batch against
the opponent that narrows that interval most. "Most" is exact under the normal approximation of
the joint fit: `n` games between i and j at expected score p add w = n p (1 - p) / s² of
information along u = e_i - e_j (s: Elo per natural-log unit), and the variance of i drops by
w (Σu)_i² / (1 + w u'Σu) (Sherman-Morrison). That quantity prefers opponents close in strength
(p near 1/2) whose own rating is well known (small Σ_jj), and it is zero for opponents the
target can learn nothing from, so no hand-tuned notion of "neighbour" is needed beyond the
skeleton.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from ponder.arena.ratings import ELO_SCALE, Z95
from ponder.arena.think.roster import StudyPlayer

Pairing = tuple[int, int]


def skeleton(players: Sequence[StudyPlayer]) -> list[Pairing]:
    """Pairings that connect every player to the references, neighbour to neighbour."""
    index = {p.spec: k for k, p in enumerate(players)}
    refs = [k for k, p in enumerate(players) if p.is_reference]
    edges: list[Pairing] = list(pairwise(refs))
    by_ckpt: dict[str, list[int]] = {}
    for k, p in enumerate(players):
        if p.checkpoint is not None and p.adapt == 0 and p.root in (None, "puct"):
            by_ckpt.setdefault(str(p.checkpoint.stem), []).append(k)
    rows = list(by_ckpt.values())
    for row in rows:  # the budget ladder of each checkpoint
        row.sort(key=lambda k: players[k].budget or 0)
        edges.extend(pairwise(row))
    for before, after in pairwise(rows):  # training neighbours, same budget
        budgets = {players[k].budget: k for k in after}
        edges.extend(
            (k, budgets[players[k].budget]) for k in before if players[k].budget in budgets
        )
    for k, p in enumerate(players):  # Gumbel and adaptive players meet PUCT at their budget
        if p.checkpoint is not None and (p.adapt > 0 or p.root == "gumbel"):
            same = f"{p.checkpoint.stem}@{p.budget}:root=puct"
            if same in index:
                edges.append((k, index[same]))
    if refs and rows:  # the weakest network and the strongest meet the references
        edges.append((rows[0][0], refs[0]))
        edges.append((rows[-1][-1], refs[-1]))
    return [e for e in dict.fromkeys(tuple(sorted(e)) for e in edges) if e[0] != e[1]]


def half_widths(cov: np.ndarray) -> np.ndarray:
    """95% half-widths (Elo) of each rating from the covariance."""
    return Z95 * np.sqrt(np.maximum(np.diag(cov), 0.0))


def variance_drop(target: int, rating: np.ndarray, cov: np.ndarray, games: int) -> np.ndarray:
    """For every opponent j: how much `games` games of target vs j shrink target's variance."""
    p = 1.0 / (1.0 + np.exp(-(rating[target] - rating) / ELO_SCALE))
    w = games * p * (1.0 - p) / ELO_SCALE**2
    along = cov[target, target] - cov[target]  # (Σu)_target for each j
    u_sigma_u = cov[target, target] - 2 * cov[:, target] + np.diag(cov)
    drop = w * along**2 / (1.0 + w * u_sigma_u)
    drop[target] = 0.0
    return drop


def next_pairings(
    rating: np.ndarray,
    cov: np.ndarray,
    target_half_width: float,
    games_per_batch: int,
    max_pairings: int,
    fixed: Sequence[int] = (),
) -> list[Pairing]:
    """Up to `max_pairings` pairings for the widest intervals above target (distinct targets);
    `fixed` players (the scale's anchor) are never targets. Empty when every interval is
    within the target."""
    half = half_widths(cov)
    half[list(fixed)] = 0.0
    order = [int(k) for k in np.argsort(-half, kind="stable") if half[k] > target_half_width]
    chosen: list[Pairing] = []
    for target in order[:max_pairings]:
        drop = variance_drop(target, rating, cov, games_per_batch)
        opponent = int(np.argmax(drop))
        if drop[opponent] <= 0.0:
            continue
        chosen.append((target, opponent))
    return chosen
