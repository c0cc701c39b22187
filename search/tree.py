"""The tree operations every search shares, as numba functions over `layout.Tree`.

Selection (PUCT, Gumbel, UCB1), descent with virtual loss, allocation, expansion, backup, root
preparation (noise, Gumbel draws), the search outputs and subtree reuse. Game transitions are
not here: native games run them in per-game kernels (`kernels.py`), OpenSpiel games in Python
(`openspiel_backend.py`); both call these functions, so there is one search, two state backends.

The helpers on the descent path are inlined into their callers (`inline="always"`): a call
boundary costs reference-count updates for every array passed, once per tree level.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from numba import njit

from ponder.envs import rng as rng_mod
from ponder.envs.jit_cache import njit_cached, njit_closure
from ponder.search import gumbel as gumbel_root
from ponder.search.layout import (
    E_CHILD,
    E_INFLIGHT,
    E_PRIOR,
    E_VALUE,
    E_VISITS,
    EXPANDED,
    ILLEGAL,
    MODE_GUMBEL,
    MODE_PUCT,
    MODE_UCT,
    N_ACTION,
    N_PARENT,
    N_PLAYER,
    N_RAW_VALUE,
    N_STATUS,
    N_VALUE_SUM,
    N_VISITS,
    PENDING,
    TERMINAL,
    UNEXPANDED,
)

# descend() outcomes
NEW_LEAF, TERMINAL_BACKED_UP, COLLISION, TREE_FULL = 0, 1, 2, 3


@njit_cached(inline="always")
def puct_action(tree, b, node, params, fpu_reduction):
    """AlphaZero PUCT with first-play urgency; in-flight descents count as lost visits."""
    edges_i, edges_f = tree.edges_i, tree.edges_f
    num_actions = edges_i.shape[2]
    pending = 0
    for a in range(num_actions):
        pending += edges_i[b, node, a, E_INFLIGHT]
    parent_visits = tree.nodes_i[b, node, N_VISITS]
    c = (
        math.log((1.0 + parent_visits + params.c_puct_base) / params.c_puct_base)
        + params.c_puct_init
    )
    scale = c * math.sqrt(parent_visits + pending)
    fpu_value = tree.nodes_f[b, node, N_VALUE_SUM] / max(parent_visits, 1) - fpu_reduction
    vl = params.virtual_loss
    best, best_a = -np.inf, -1
    for a in range(num_actions):
        if edges_i[b, node, a, E_CHILD] == ILLEGAL:
            continue
        inflight = edges_i[b, node, a, E_INFLIGHT]
        n = edges_i[b, node, a, E_VISITS] + inflight
        q = fpu_value if n == 0 else (edges_f[b, node, a, E_VALUE] - inflight * vl) / n
        score = q + scale * edges_f[b, node, a, E_PRIOR] / (1.0 + n)
        if score > best:
            best, best_a = score, a
    return best_a


@njit_cached(inline="always")
def ucb1_action(tree, b, node, params, rng):
    """Classic UCT: an untried action first (uniformly at random), then Q + c sqrt(ln N / n)."""
    edges_i, edges_f = tree.edges_i, tree.edges_f
    num_actions = edges_i.shape[2]
    untried = 0
    pending = 0
    for a in range(num_actions):
        if edges_i[b, node, a, E_CHILD] != ILLEGAL:
            pending += edges_i[b, node, a, E_INFLIGHT]
            if edges_i[b, node, a, E_VISITS] + edges_i[b, node, a, E_INFLIGHT] == 0:
                untried += 1
    if untried > 0:
        pick = rng_mod.randint(rng, b, untried)
        for a in range(num_actions):
            if (
                edges_i[b, node, a, E_CHILD] != ILLEGAL
                and edges_i[b, node, a, E_VISITS] + edges_i[b, node, a, E_INFLIGHT] == 0
            ):
                if pick == 0:
                    return a
                pick -= 1
    log_n = math.log(max(tree.nodes_i[b, node, N_VISITS] + pending, 1))
    vl = params.virtual_loss
    best, best_a = -np.inf, -1
    for a in range(num_actions):
        if edges_i[b, node, a, E_CHILD] == ILLEGAL:
            continue
        inflight = edges_i[b, node, a, E_INFLIGHT]
        n = edges_i[b, node, a, E_VISITS] + inflight
        q = (edges_f[b, node, a, E_VALUE] - inflight * vl) / n
        score = q + params.uct_c * math.sqrt(log_n / n)
        if not params.uct_terminal_exploration:
            child = edges_i[b, node, a, E_CHILD]
            if child >= 0 and tree.nodes_i[b, child, N_STATUS] == TERMINAL:
                score = q  # OpenSpiel's MCTSBot: a finished game is worth its outcome, no bonus
        if score > best:
            best, best_a = score, a
    return best_a


@njit_cached(inline="always")
def undo_path(tree, b, node):
    """Withdraw one in-flight descent on every edge from the root down to `node`."""
    nodes_i = tree.nodes_i
    while nodes_i[b, node, N_PARENT] >= 0:
        p = nodes_i[b, node, N_PARENT]
        tree.edges_i[b, p, nodes_i[b, node, N_ACTION], E_INFLIGHT] -= 1
        node = p


@njit_cached(inline="always")
def backup(tree, b, leaf, value0):
    """Back up `value0` (player 0's view) from `leaf` to the root; turns the path's in-flight
    descent into a visit. Signs come from each node's player to move."""
    nodes_i, nodes_f, edges_i, edges_f = tree.nodes_i, tree.nodes_f, tree.edges_i, tree.edges_f
    node = leaf
    v = value0 if nodes_i[b, node, N_PLAYER] == 0 else -value0
    nodes_i[b, node, N_VISITS] += 1
    nodes_f[b, node, N_VALUE_SUM] += v
    while nodes_i[b, node, N_PARENT] >= 0:
        p = nodes_i[b, node, N_PARENT]
        a = nodes_i[b, node, N_ACTION]
        v = value0 if nodes_i[b, p, N_PLAYER] == 0 else -value0
        edges_i[b, p, a, E_VISITS] += 1
        edges_i[b, p, a, E_INFLIGHT] -= 1
        edges_f[b, p, a, E_VALUE] += v
        nodes_i[b, p, N_VISITS] += 1
        nodes_f[b, p, N_VALUE_SUM] += v
        node = p


@njit_cached(inline="always")
def allocate(tree, b, parent, action):
    """A new PENDING node under (parent, action); -1 when the tree is full."""
    node = tree.node_count[b]
    if node >= tree.nodes_i.shape[1]:
        return -1
    tree.node_count[b] = node + 1
    nodes_i = tree.nodes_i
    nodes_i[b, node, N_PARENT] = parent
    nodes_i[b, node, N_ACTION] = action
    nodes_i[b, node, N_VISITS] = 0
    nodes_i[b, node, N_PLAYER] = 0
    nodes_i[b, node, N_STATUS] = PENDING
    tree.nodes_f[b, node, N_VALUE_SUM] = 0.0
    tree.nodes_f[b, node, N_RAW_VALUE] = 0.0
    if parent >= 0:
        tree.edges_i[b, parent, action, E_CHILD] = node
    return node


@njit_cached(inline="always")
def forced_root_child(tree, b, k):
    """KataGo's forced playouts: the visited root child furthest below sqrt(k P N) visits
    (in-flight descents count), or -1 when every child has its share."""
    edges_i, edges_f = tree.edges_i, tree.edges_f
    num_actions = edges_i.shape[2]
    total = 0
    for a in range(num_actions):
        total += edges_i[b, 0, a, E_VISITS] + edges_i[b, 0, a, E_INFLIGHT]
    best, best_a = 0.0, -1
    for a in range(num_actions):
        if edges_i[b, 0, a, E_CHILD] == ILLEGAL:
            continue
        n = edges_i[b, 0, a, E_VISITS] + edges_i[b, 0, a, E_INFLIGHT]
        if n == 0:
            continue
        deficit = math.sqrt(k * edges_f[b, 0, a, E_PRIOR] * total) - n
        if deficit > best:
            best, best_a = deficit, a
    return best_a


@njit_cached(inline="always")
def puct_select(tree, root, b, node, params, scratch, rng):
    if node == 0:
        if params.forced_k > 0.0:
            forced = forced_root_child(tree, b, params.forced_k)
            if forced >= 0:
                return forced
        return puct_action(tree, b, node, params, params.root_fpu_reduction)
    return puct_action(tree, b, node, params, params.fpu_reduction)


@njit_cached(inline="always")
def ucb1_select(tree, root, b, node, params, scratch, rng):
    return ucb1_action(tree, b, node, params, rng)


SELECTION_RULES = {
    MODE_PUCT: puct_select,
    MODE_GUMBEL: gumbel_root.gumbel_select,
    MODE_UCT: ucb1_select,
}


@functools.cache
def descent_for(mode: int) -> Callable:
    """The descent with one selection rule built in, so a kernel compiles only the rule it
    uses (each rule is a few hundred lines of machine code once inlined)."""
    select_action = SELECTION_RULES[mode]

    @njit(inline="always")
    def descend(tree, root, b, params, scratch, rng):
        """One descent from the root of tree b with virtual loss.

        Returns (outcome, node): NEW_LEAF (a PENDING node was allocated; the caller computes
        its position), TERMINAL_BACKED_UP (a known terminal was reached and backed up exactly),
        COLLISION (reached a node still awaiting evaluation; the descent was withdrawn) or
        TREE_FULL (withdrawn; no room left).
        """
        node = 0
        while True:
            status = tree.nodes_i[b, node, N_STATUS]
            if status == TERMINAL:
                backup(tree, b, node, tree.nodes_f[b, node, N_RAW_VALUE])
                return TERMINAL_BACKED_UP, node
            if status == PENDING:
                undo_path(tree, b, node)
                return COLLISION, node
            a = select_action(tree, root, b, node, params, scratch, rng)
            tree.edges_i[b, node, a, E_INFLIGHT] += 1
            child = tree.edges_i[b, node, a, E_CHILD]
            if child == UNEXPANDED:
                new = allocate(tree, b, node, a)
                if new < 0:
                    tree.edges_i[b, node, a, E_INFLIGHT] -= 1
                    undo_path(tree, b, node)
                    return TREE_FULL, node
                return NEW_LEAF, new
            node = child

    return descend


@njit_cached(inline="always")
def expand(tree, b, node, legal, priors, value):
    """Make `node` EXPANDED: edges from the legal mask, priors renormalised over legal moves
    (uniform if the evaluator gave them no mass)."""
    edges_i, edges_f = tree.edges_i, tree.edges_f
    num_actions = edges_i.shape[2]
    count = 0
    total = 0.0
    for a in range(num_actions):
        if legal[a]:
            count += 1
            total += max(priors[a], 0.0)
    if count == 0:
        raise ValueError("a non-terminal position has no legal action")
    for a in range(num_actions):
        if legal[a]:
            edges_i[b, node, a, E_CHILD] = UNEXPANDED
            edges_f[b, node, a, E_PRIOR] = (
                max(priors[a], 0.0) / total if total > 0.0 else 1.0 / count
            )
        else:
            edges_i[b, node, a, E_CHILD] = ILLEGAL
            edges_f[b, node, a, E_PRIOR] = 0.0
        edges_i[b, node, a, E_VISITS] = 0
        edges_i[b, node, a, E_INFLIGHT] = 0
        edges_f[b, node, a, E_VALUE] = 0.0
    tree.nodes_i[b, node, N_STATUS] = EXPANDED
    tree.nodes_f[b, node, N_RAW_VALUE] = value


@njit_cached(inline="always")
def set_terminal(tree, b, node, outcome0):
    tree.nodes_i[b, node, N_STATUS] = TERMINAL
    tree.nodes_f[b, node, N_RAW_VALUE] = outcome0


@njit_cached(_nrt=False)
def expand_and_backup(
    tree,
    root,
    leaf_row,
    leaf_node,
    leaf_legal,
    priors,
    values,
    count,
    terminal_row,
    terminal_node,
    terminal_value,
    terminal_count,
):
    """After the evaluator: expand each evaluated leaf and back up its value, then mark the
    step's new terminal positions and back up their outcomes (player 0's view)."""
    for i in range(count):
        b, node = leaf_row[i], leaf_node[i]
        v = float(values[i])
        expand(tree, b, node, leaf_legal[i], priors[i], v)
        if node == 0:
            for a in range(tree.edges_f.shape[2]):
                root.raw_prior[b, a] = tree.edges_f[b, 0, a, E_PRIOR]
        backup(tree, b, node, v if tree.nodes_i[b, node, N_PLAYER] == 0 else -v)
    for i in range(terminal_count):
        b, node = terminal_row[i], terminal_node[i]
        outcome = float(terminal_value[i])
        set_terminal(tree, b, node, outcome)
        backup(tree, b, node, outcome)


@functools.cache
def pending_leaves_kernel(mode: int) -> Callable:
    """Descents for the Python state backend: like the native kernels' selection, but a new
    leaf is only allocated; Python computes its position."""
    descend = descent_for(mode)

    def select_pending_leaves(
        tree, root, params, scratch, rng, sims_left, per_step, leaf_row, leaf_node
    ):
        """Returns the count of new leaves (their positions still to compute), or -1 when a
        tree ran out of nodes."""
        count = 0
        for b in range(tree.node_count.shape[0]):
            for _ in range(per_step):
                if sims_left[b] == 0:
                    break
                outcome, node = descend(tree, root, b, params, scratch, rng)
                if outcome == COLLISION:
                    break
                if outcome == TREE_FULL:
                    return -1
                sims_left[b] -= 1
                if outcome == NEW_LEAF:
                    leaf_row[count] = b
                    leaf_node[count] = node
                    count += 1
        return count

    return njit_closure(select_pending_leaves, _nrt=False)


@njit_cached
def prepare_roots(tree, root, active, noise, alpha, fraction, use_gumbel, m_max, g_scale, rng):
    """Before the simulations: restore the raw prior, mix in fresh Dirichlet noise, remember
    the visits already there (reuse), and draw the Gumbel root's considered actions."""
    edges_i, edges_f = tree.edges_i, tree.edges_f
    num_actions = edges_i.shape[2]
    for b in range(tree.node_count.shape[0]):
        if not active[b]:
            continue
        legal = 0
        for a in range(num_actions):
            edges_f[b, 0, a, E_PRIOR] = root.raw_prior[b, a]
            root.start_visits[b, a] = edges_i[b, 0, a, E_VISITS]
            root.considered[b, a] = False
            root.gumbel[b, a] = 0.0
            if edges_i[b, 0, a, E_CHILD] != ILLEGAL:
                legal += 1
        if noise and fraction > 0.0:
            # The Dirichlet draw is a normalised vector of Gamma(alpha) draws.
            total = 0.0
            for a in range(num_actions):
                if edges_i[b, 0, a, E_CHILD] != ILLEGAL:
                    root.gumbel[b, a] = rng_mod.gamma(rng, b, alpha)  # as scratch
                    total += root.gumbel[b, a]
            for a in range(num_actions):
                if edges_i[b, 0, a, E_CHILD] != ILLEGAL:
                    eta = root.gumbel[b, a] / total if total > 0.0 else 1.0 / legal
                    edges_f[b, 0, a, E_PRIOR] = (1.0 - fraction) * edges_f[
                        b, 0, a, E_PRIOR
                    ] + fraction * eta
                root.gumbel[b, a] = 0.0
        if use_gumbel:
            for a in range(num_actions):
                if edges_i[b, 0, a, E_CHILD] != ILLEGAL:
                    root.gumbel[b, a] = g_scale * rng_mod.gumbel(rng, b)
            m = min(m_max, legal)
            root.num_considered[b] = m
            # Gumbel-top-m: the m best of g + logits, without replacement.
            for _ in range(m):
                best, best_a = -np.inf, -1
                for a in range(num_actions):
                    if edges_i[b, 0, a, E_CHILD] != ILLEGAL and not root.considered[b, a]:
                        score = root.gumbel[b, a] + gumbel_root.log_prior(edges_f[b, 0, a, E_PRIOR])
                        if score > best:
                            best, best_a = score, a
                root.considered[b, best_a] = True


@njit_cached
def _pick_by_visits(tree, b, temperature, rng):
    """Temperature 0: the most visited move, ties at random. Else sample N ** (1/T)."""
    edges_i = tree.edges_i
    num_actions = edges_i.shape[2]
    most = -1
    ties = 0
    for a in range(num_actions):
        if edges_i[b, 0, a, E_CHILD] == ILLEGAL:
            continue
        n = edges_i[b, 0, a, E_VISITS]
        if n > most:
            most, ties = n, 1
        elif n == most:
            ties += 1
    if temperature <= 0.0 or most == 0:
        pick = rng_mod.randint(rng, b, ties)
        for a in range(num_actions):
            if edges_i[b, 0, a, E_CHILD] != ILLEGAL and edges_i[b, 0, a, E_VISITS] == most:
                if pick == 0:
                    return a
                pick -= 1
    total = 0.0
    for a in range(num_actions):
        if edges_i[b, 0, a, E_CHILD] != ILLEGAL:
            total += (edges_i[b, 0, a, E_VISITS] / most) ** (1.0 / temperature)
    u = rng_mod.uniform(rng, b) * total
    last = -1
    for a in range(num_actions):
        if edges_i[b, 0, a, E_CHILD] != ILLEGAL:
            w = (edges_i[b, 0, a, E_VISITS] / most) ** (1.0 / temperature)
            if w > 0.0:
                last = a
                if u < w:
                    return a
                u -= w
    return last


@njit_cached
def write_results(tree, rng, active, temperature, action, policy, root_value, visits, q, prior):
    """The search outputs for every active row (inactive rows: action -1, zeros): the visit
    distribution as policy, the move by visits and temperature."""
    edges_i, edges_f = tree.edges_i, tree.edges_f
    num_actions = edges_i.shape[2]
    for b in range(tree.node_count.shape[0]):
        action[b] = -1
        root_value[b] = 0.0
        for a in range(num_actions):
            policy[b, a] = 0.0
            visits[b, a] = 0
            q[b, a] = 0.0
            prior[b, a] = 0.0
        if not active[b]:
            continue
        root_value[b] = tree.nodes_f[b, 0, N_VALUE_SUM] / max(tree.nodes_i[b, 0, N_VISITS], 1)
        total = 0
        for a in range(num_actions):
            n = edges_i[b, 0, a, E_VISITS]
            visits[b, a] = n
            total += n
            prior[b, a] = edges_f[b, 0, a, E_PRIOR]
            if n > 0:
                q[b, a] = edges_f[b, 0, a, E_VALUE] / n
        for a in range(num_actions):
            policy[b, a] = visits[b, a] / total if total > 0 else prior[b, a]
        action[b] = _pick_by_visits(tree, b, temperature, rng)


@njit_cached
def reuse_subtrees(tree, node_state, root, actions, keep, remap):
    """After moves are played: the child reached by `actions[b]` becomes the root of tree b,
    its subtree compacted to the front (statistics kept), or the tree is dropped when there is
    nothing to keep. -1 leaves a row untouched. `remap[b, old]` gets each kept node's new id
    (-1 for dropped nodes), for backends that hold per-node data outside numba."""
    nodes_i, nodes_f, edges_i, edges_f = tree.nodes_i, tree.nodes_f, tree.edges_i, tree.edges_f
    num_actions = edges_i.shape[2]
    for b in range(tree.node_count.shape[0]):
        act = actions[b]
        if act < 0:
            continue
        count = tree.node_count[b]
        remap[b, :] = -1
        if not keep or count == 0 or nodes_i[b, 0, N_STATUS] != EXPANDED or act >= num_actions:
            tree.node_count[b] = 0
            continue
        start = edges_i[b, 0, act, E_CHILD]
        if start < 0 or nodes_i[b, start, N_STATUS] != EXPANDED:
            tree.node_count[b] = 0  # unexplored, or a finished game: nothing to keep
            continue
        # Children have larger ids than parents: one ascending pass finds the subtree, and
        # new ids (ranks) never exceed old ones, so the move below is safe in place.
        remap[b, start] = 0
        kept = 1
        for i in range(start + 1, count):
            if remap[b, nodes_i[b, i, N_PARENT]] >= 0:
                remap[b, i] = kept
                kept += 1
        for i in range(start, count):
            j = remap[b, i]
            if j < 0:
                continue
            nodes_i[b, j, :] = nodes_i[b, i, :]
            nodes_f[b, j, :] = nodes_f[b, i, :]
            if i == start:
                nodes_i[b, j, N_PARENT] = -1
                nodes_i[b, j, N_ACTION] = -1
            else:
                nodes_i[b, j, N_PARENT] = remap[b, nodes_i[b, i, N_PARENT]]
            for a in range(num_actions):
                c = edges_i[b, i, a, E_CHILD]
                edges_i[b, j, a, E_CHILD] = remap[b, c] if c >= 0 else c
                edges_i[b, j, a, E_VISITS] = edges_i[b, i, a, E_VISITS]
                edges_i[b, j, a, E_INFLIGHT] = 0
                edges_f[b, j, a, E_PRIOR] = edges_f[b, i, a, E_PRIOR]
                edges_f[b, j, a, E_VALUE] = edges_f[b, i, a, E_VALUE]
            node_state[b, j, :] = node_state[b, i, :]
        tree.node_count[b] = kept
        for a in range(num_actions):
            root.raw_prior[b, a] = edges_f[b, 0, a, E_PRIOR]
