"""The Gumbel root of Danihelka et al. 2022, "Policy improvement by planning with Gumbel".

At the root, m actions are drawn without replacement by Gumbel-top-k on the prior's logits
(`g + logits`), and the simulation budget is split among them by sequential halving: each phase
gives every surviving action the same number of visits, then keeps the better half by
`g + logits + sigma(q)`. The move played is the survivor, and the training target is the
improved policy `softmax(logits + sigma(completed q))`, which is better than the prior in
expectation even with 2 simulations.

- Completed Q: a visited action keeps its Q; an unvisited one gets the mixed value estimate
  `(v + sum(N) * sum_visited(pi * q) / sum_visited(pi)) / (1 + sum(N))`, where `v` is the
  evaluator's value of the node itself.
- sigma(q) = (c_visit + max_b N(b)) * c_scale * q, with q min-max rescaled over the legal
  actions to [0, 1] (as mctx does), so c_visit and c_scale mean the same in any game.
- Non-root nodes use the paper's deterministic selection,
  argmax_a [improved_pi(a) - N(a) / (1 + sum_b N(b))], which sends visits where the improved
  policy wants more of them than they have. It has no exploration bonus: a move that neither
  the prior nor the values favour may never be tried, so with an uninformed prior and a large
  budget PUCT is the better choice. Gumbel is for small budgets with a learned prior.

Sequential halving is written as a schedule (`considered_visit_table`): the k-th simulation of
a search goes to a considered action that has exactly `table[m, k]` visits so far, so the
search needs no per-phase bookkeeping and tolerates several descents per step.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ponder.envs.jit_cache import njit_cached
from ponder.search.layout import (
    E_CHILD,
    E_INFLIGHT,
    E_PRIOR,
    E_VALUE,
    E_VISITS,
    ILLEGAL,
    N_RAW_VALUE,
)


def _halving_schedule(m: int, num_simulations: int) -> list[int]:
    """Visit count the k-th simulation's action must have, for m considered actions."""
    if m <= 1:
        return list(range(num_simulations))
    phases = math.ceil(math.log2(m))
    schedule: list[int] = []
    alive, level = m, 0
    while len(schedule) < num_simulations:
        # Every survivor gets the same share of this phase's budget, at least one visit.
        share = max(1, num_simulations // (phases * alive))
        for _ in range(share):
            schedule.extend([level] * alive)
            level += 1
        alive = max(2, alive // 2)
    return schedule[:num_simulations]


@functools.cache
def considered_visit_table(max_considered: int, num_simulations: int) -> np.ndarray:
    """int32 (max_considered + 1, num_simulations): row m is the schedule for m actions."""
    table = np.zeros((max_considered + 1, num_simulations), dtype=np.int32)
    for m in range(1, max_considered + 1):
        table[m] = _halving_schedule(m, num_simulations)
    table.setflags(write=False)
    return table


@njit_cached(inline="always")
def completed_q(tree, b, node, virtual_loss, out_q):
    """Fill `out_q[a]` for the legal actions of `node` with the completed Q (node mover's view);
    returns max_a N(a). In-flight descents count as visits that lost `virtual_loss` each."""
    num_actions = tree.edges_i.shape[2]
    sum_n = 0
    max_n = 0
    sum_p = 0.0
    sum_pq = 0.0
    for a in range(num_actions):
        if tree.edges_i[b, node, a, E_CHILD] == ILLEGAL:
            continue
        n = tree.edges_i[b, node, a, E_VISITS] + tree.edges_i[b, node, a, E_INFLIGHT]
        if n > 0:
            q = (
                tree.edges_f[b, node, a, E_VALUE]
                - tree.edges_i[b, node, a, E_INFLIGHT] * virtual_loss
            ) / n
            out_q[a] = q
            p = tree.edges_f[b, node, a, E_PRIOR]
            sum_p += p
            sum_pq += p * q
            sum_n += n
            max_n = max(max_n, n)
    v_mix = tree.nodes_f[b, node, N_RAW_VALUE]
    if sum_p > 0.0:
        v_mix = (v_mix + sum_n * sum_pq / sum_p) / (1.0 + sum_n)
    for a in range(num_actions):
        if tree.edges_i[b, node, a, E_CHILD] == ILLEGAL:
            continue
        if tree.edges_i[b, node, a, E_VISITS] + tree.edges_i[b, node, a, E_INFLIGHT] == 0:
            out_q[a] = v_mix
    return max_n


@njit_cached(inline="always")
def sigma(tree, b, node, q, max_n, c_visit, c_scale):
    """In place: q -> sigma(q) over the legal actions (min-max rescaled first)."""
    num_actions = tree.edges_i.shape[2]
    lo, hi = np.inf, -np.inf
    for a in range(num_actions):
        if tree.edges_i[b, node, a, E_CHILD] != ILLEGAL:
            lo = min(lo, q[a])
            hi = max(hi, q[a])
    span = max(hi - lo, 1e-8)
    scale = (c_visit + max_n) * c_scale
    for a in range(num_actions):
        if tree.edges_i[b, node, a, E_CHILD] != ILLEGAL:
            q[a] = scale * (q[a] - lo) / span


@njit_cached(inline="always")
def log_prior(p):
    return math.log(max(p, 1e-30))


@njit_cached(inline="always")
def improved_policy(tree, b, node, virtual_loss, c_visit, c_scale, out):
    """out[a] = softmax(logits + sigma(completed q)) over the legal actions, 0 elsewhere."""
    num_actions = tree.edges_i.shape[2]
    max_n = completed_q(tree, b, node, virtual_loss, out)
    sigma(tree, b, node, out, max_n, c_visit, c_scale)
    top = -np.inf
    for a in range(num_actions):
        if tree.edges_i[b, node, a, E_CHILD] != ILLEGAL:
            out[a] += log_prior(tree.edges_f[b, node, a, E_PRIOR])
            top = max(top, out[a])
    total = 0.0
    for a in range(num_actions):
        if tree.edges_i[b, node, a, E_CHILD] != ILLEGAL:
            out[a] = math.exp(out[a] - top)
            total += out[a]
        else:
            out[a] = 0.0
    for a in range(num_actions):
        out[a] /= total


@njit_cached(_nrt=False)
def interior_action(tree, b, node, virtual_loss, c_visit, c_scale, scratch):
    """The paper's deterministic non-root selection: argmax improved_pi - N / (1 + sum N)."""
    num_actions = tree.edges_i.shape[2]
    improved_policy(tree, b, node, virtual_loss, c_visit, c_scale, scratch)
    total_n = 0
    for a in range(num_actions):
        if tree.edges_i[b, node, a, E_CHILD] != ILLEGAL:
            total_n += tree.edges_i[b, node, a, E_VISITS] + tree.edges_i[b, node, a, E_INFLIGHT]
    best, best_a = -np.inf, -1
    for a in range(num_actions):
        if tree.edges_i[b, node, a, E_CHILD] == ILLEGAL:
            continue
        n = tree.edges_i[b, node, a, E_VISITS] + tree.edges_i[b, node, a, E_INFLIGHT]
        score = scratch[a] - n / (1.0 + total_n)
        if score > best:
            best, best_a = score, a
    return best_a


@njit_cached(inline="always")
def _root_scores(tree, root, b, virtual_loss, c_visit, c_scale, scratch):
    """scratch[a] = g(a) + logits(a) + sigma(completed q)(a) at the root of tree b."""
    num_actions = tree.edges_i.shape[2]
    max_n = completed_q(tree, b, 0, virtual_loss, scratch)
    sigma(tree, b, 0, scratch, max_n, c_visit, c_scale)
    for a in range(num_actions):
        if tree.edges_i[b, 0, a, E_CHILD] != ILLEGAL:
            scratch[a] += root.gumbel[b, a] + log_prior(tree.edges_f[b, 0, a, E_PRIOR])


@njit_cached(_nrt=False)
def root_action(tree, root, b, virtual_loss, c_visit, c_scale, scratch):
    """Sequential halving as a schedule: among the considered actions whose visits in this
    search equal the schedule's next entry, the best by g + logits + sigma(q)."""
    num_actions = tree.edges_i.shape[2]
    done = 0
    for a in range(num_actions):
        if tree.edges_i[b, 0, a, E_CHILD] != ILLEGAL:
            done += (
                tree.edges_i[b, 0, a, E_VISITS]
                + tree.edges_i[b, 0, a, E_INFLIGHT]
                - root.start_visits[b, a]
            )
    m = root.num_considered[b]
    k = min(done, root.schedule.shape[1] - 1)
    target = root.schedule[m, k]
    _root_scores(tree, root, b, virtual_loss, c_visit, c_scale, scratch)
    # Fall back to the least visited considered actions should the schedule's target be
    # missing (several descents in one step can overtake it).
    fewest = 1 << 30
    for a in range(num_actions):
        if root.considered[b, a]:
            n = (
                tree.edges_i[b, 0, a, E_VISITS]
                + tree.edges_i[b, 0, a, E_INFLIGHT]
                - root.start_visits[b, a]
            )
            if n == target:
                fewest = target
                break
            fewest = min(fewest, n)
    best, best_a = -np.inf, -1
    for a in range(num_actions):
        if root.considered[b, a]:
            n = (
                tree.edges_i[b, 0, a, E_VISITS]
                + tree.edges_i[b, 0, a, E_INFLIGHT]
                - root.start_visits[b, a]
            )
            if n == fewest and scratch[a] > best:
                best, best_a = scratch[a], a
    return best_a


@njit_cached(inline="always")
def final_action(tree, root, b, c_visit, c_scale, scratch):
    """The survivor of sequential halving: among the considered actions with the most visits
    in this search, the best by g + logits + sigma(q)."""
    num_actions = tree.edges_i.shape[2]
    most = -1
    for a in range(num_actions):
        if root.considered[b, a]:
            most = max(most, tree.edges_i[b, 0, a, E_VISITS] - root.start_visits[b, a])
    _root_scores(tree, root, b, 0.0, c_visit, c_scale, scratch)
    best, best_a = -np.inf, -1
    for a in range(num_actions):
        survivor = root.considered[b, a] and (
            tree.edges_i[b, 0, a, E_VISITS] - root.start_visits[b, a] == most
        )
        if survivor and scratch[a] > best:
            best, best_a = scratch[a], a
    return best_a


@njit_cached(inline="always")
def gumbel_select(tree, root, b, node, params, scratch, rng):
    vl, c_visit, c_scale = params.virtual_loss, params.c_visit, params.c_scale
    if node == 0:
        return root_action(tree, root, b, vl, c_visit, c_scale, scratch)
    return interior_action(tree, b, node, vl, c_visit, c_scale, scratch)


@njit_cached
def write_gumbel_results(tree, root, params, active, scratch, action, policy):
    """Gumbel outputs on top of `write_results`: the completed-Q improved policy as the
    training target, and the survivor of sequential halving as the move."""
    num_actions = tree.edges_i.shape[2]
    for b in range(tree.node_count.shape[0]):
        if not active[b]:
            continue
        improved_policy(tree, b, 0, 0.0, params.c_visit, params.c_scale, scratch)
        for a in range(num_actions):
            policy[b, a] = scratch[a]
        action[b] = final_action(tree, root, b, params.c_visit, params.c_scale, scratch)
