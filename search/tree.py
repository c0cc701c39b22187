"""The tree operations every search shares, as numba functions over `layout.Tree`.

Selection (PUCT, Gumbel, UCB1), descent with virtual loss, allocation, expansion, backup, root
preparation (noise, Gumbel draws), the search outputs and subtree reuse. Game transitions are
not here: native games run them in per-game kernels (`kernels.py`), OpenSpiel games in Python
(`openspiel_backend.py`); both call these functions, so there is one search, two state backends.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ponder.search import gumbel as gumbel_root
from ponder.search import rng as rng_mod
from ponder.search.layout import (
    EXPANDED,
    ILLEGAL,
    MODE_GUMBEL,
    MODE_UCT,
    PENDING,
    TERMINAL,
    UNEXPANDED,
)

# descend() outcomes
NEW_LEAF, TERMINAL_BACKED_UP, COLLISION, TREE_FULL = 0, 1, 2, 3


@njit(cache=True)
def _node_q(tree, b, node):
    visits = tree.visits[b, node]
    return tree.value_sum[b, node] / visits if visits > 0 else 0.0


@njit(cache=True)
def puct_action(tree, b, node, params, fpu_reduction):
    """AlphaZero PUCT with first-play urgency; in-flight descents count as lost visits."""
    num_actions = tree.child.shape[2]
    pending = 0
    for a in range(num_actions):
        pending += tree.inflight[b, node, a]
    parent_visits = tree.visits[b, node]
    c = (
        math.log((1.0 + parent_visits + params.c_puct_base) / params.c_puct_base)
        + params.c_puct_init
    )
    scale = c * math.sqrt(parent_visits + pending)
    fpu_value = _node_q(tree, b, node) - fpu_reduction
    vl = params.virtual_loss
    best, best_a = -np.inf, -1
    for a in range(num_actions):
        if tree.child[b, node, a] == ILLEGAL:
            continue
        inflight = tree.inflight[b, node, a]
        n = tree.edge_visits[b, node, a] + inflight
        q = fpu_value if n == 0 else (tree.edge_value[b, node, a] - inflight * vl) / n
        score = q + scale * tree.prior[b, node, a] / (1.0 + n)
        if score > best:
            best, best_a = score, a
    return best_a


@njit(cache=True)
def ucb1_action(tree, b, node, params, rng):
    """Classic UCT: an untried action first (uniformly at random), then Q + c sqrt(ln N / n)."""
    num_actions = tree.child.shape[2]
    untried = 0
    pending = 0
    for a in range(num_actions):
        if tree.child[b, node, a] != ILLEGAL:
            pending += tree.inflight[b, node, a]
            if tree.edge_visits[b, node, a] + tree.inflight[b, node, a] == 0:
                untried += 1
    if untried > 0:
        pick = rng_mod.randint(rng, b, untried)
        for a in range(num_actions):
            if (
                tree.child[b, node, a] != ILLEGAL
                and tree.edge_visits[b, node, a] + tree.inflight[b, node, a] == 0
            ):
                if pick == 0:
                    return a
                pick -= 1
    log_n = math.log(max(tree.visits[b, node] + pending, 1))
    vl = params.virtual_loss
    best, best_a = -np.inf, -1
    for a in range(num_actions):
        if tree.child[b, node, a] == ILLEGAL:
            continue
        inflight = tree.inflight[b, node, a]
        n = tree.edge_visits[b, node, a] + inflight
        q = (tree.edge_value[b, node, a] - inflight * vl) / n
        score = q + params.uct_c * math.sqrt(log_n / n)
        if score > best:
            best, best_a = score, a
    return best_a


@njit(cache=True)
def select_action(tree, root, b, node, params, scratch, rng):
    if params.mode == MODE_UCT:
        return ucb1_action(tree, b, node, params, rng)
    if params.mode == MODE_GUMBEL:
        if node == 0:
            return gumbel_root.root_action(
                tree, root, b, params.virtual_loss, params.c_visit, params.c_scale, scratch
            )
        return gumbel_root.interior_action(
            tree, b, node, params.virtual_loss, params.c_visit, params.c_scale, scratch
        )
    fpu = params.root_fpu_reduction if node == 0 else params.fpu_reduction
    return puct_action(tree, b, node, params, fpu)


@njit(cache=True)
def undo_path(tree, b, node):
    """Withdraw one in-flight descent on every edge from the root down to `node`."""
    while tree.parent[b, node] >= 0:
        p = tree.parent[b, node]
        tree.inflight[b, p, tree.parent_action[b, node]] -= 1
        node = p


@njit(cache=True)
def backup(tree, b, leaf, value0):
    """Back up `value0` (player 0's view) from `leaf` to the root; turns the path's in-flight
    descent into a visit. Signs come from each node's player to move."""
    node = leaf
    v = value0 if tree.player[b, node] == 0 else -value0
    tree.visits[b, node] += 1
    tree.value_sum[b, node] += v
    while tree.parent[b, node] >= 0:
        p = tree.parent[b, node]
        a = tree.parent_action[b, node]
        v = value0 if tree.player[b, p] == 0 else -value0
        tree.edge_visits[b, p, a] += 1
        tree.inflight[b, p, a] -= 1
        tree.edge_value[b, p, a] += v
        tree.visits[b, p] += 1
        tree.value_sum[b, p] += v
        node = p


@njit(cache=True)
def allocate(tree, b, parent, action):
    """A new PENDING node under (parent, action); -1 when the tree is full."""
    node = tree.node_count[b]
    if node >= tree.parent.shape[1]:
        return -1
    tree.node_count[b] = node + 1
    tree.parent[b, node] = parent
    tree.parent_action[b, node] = action
    tree.status[b, node] = PENDING
    tree.visits[b, node] = 0
    tree.value_sum[b, node] = 0.0
    tree.raw_value[b, node] = 0.0
    if parent >= 0:
        tree.child[b, parent, action] = node
    return node


@njit(cache=True)
def descend(tree, root, b, params, scratch, rng):
    """One descent from the root of tree b with virtual loss.

    Returns (outcome, node): NEW_LEAF (a PENDING node was allocated; the caller computes its
    position), TERMINAL_BACKED_UP (a known terminal was reached and backed up exactly),
    COLLISION (reached a node still awaiting evaluation; the descent was withdrawn) or
    TREE_FULL (withdrawn; no room left).
    """
    node = 0
    while True:
        status = tree.status[b, node]
        if status == TERMINAL:
            backup(tree, b, node, float(tree.raw_value[b, node]))
            return TERMINAL_BACKED_UP, node
        if status == PENDING:
            undo_path(tree, b, node)
            return COLLISION, node
        a = select_action(tree, root, b, node, params, scratch, rng)
        tree.inflight[b, node, a] += 1
        child = tree.child[b, node, a]
        if child == UNEXPANDED:
            new = allocate(tree, b, node, a)
            if new < 0:
                tree.inflight[b, node, a] -= 1
                undo_path(tree, b, node)
                return TREE_FULL, node
            return NEW_LEAF, new
        node = child


@njit(cache=True)
def expand(tree, b, node, legal, priors, value):
    """Make `node` EXPANDED: edges from the legal mask, priors renormalised over legal moves
    (uniform if the evaluator gave them no mass)."""
    num_actions = tree.child.shape[2]
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
            tree.child[b, node, a] = UNEXPANDED
            tree.prior[b, node, a] = max(priors[a], 0.0) / total if total > 0.0 else 1.0 / count
        else:
            tree.child[b, node, a] = ILLEGAL
            tree.prior[b, node, a] = 0.0
        tree.edge_visits[b, node, a] = 0
        tree.edge_value[b, node, a] = 0.0
        tree.inflight[b, node, a] = 0
    tree.status[b, node] = EXPANDED
    tree.raw_value[b, node] = value


@njit(cache=True)
def set_terminal(tree, b, node, outcome0):
    tree.status[b, node] = TERMINAL
    tree.raw_value[b, node] = outcome0


@njit(cache=True)
def expand_and_backup(
    tree, root, leaf_row, leaf_node, leaf_legal, leaf_terminal, priors, values, count
):
    """After the evaluator: expand each leaf and back up its value. A leaf flagged terminal
    (found by the Python backend) holds its outcome for player 0 in `values` instead."""
    for i in range(count):
        b, node = leaf_row[i], leaf_node[i]
        if leaf_terminal[i]:
            set_terminal(tree, b, node, values[i])
            backup(tree, b, node, float(values[i]))
            continue
        v = float(values[i])
        expand(tree, b, node, leaf_legal[i], priors[i], v)
        if node == 0:
            root.raw_prior[b, :] = tree.prior[b, 0, :]
        backup(tree, b, node, v if tree.player[b, node] == 0 else -v)


@njit(cache=True)
def select_pending_leaves(
    tree, root, params, scratch, rng, sims_left, per_step, leaf_row, leaf_node
):
    """Descents for the Python state backend: like the native kernels' selection, but a new
    leaf is only allocated; Python computes its position. Returns the leaf count, -1 if full."""
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


@njit(cache=True)
def prepare_roots(tree, root, active, noise, alpha, fraction, use_gumbel, m_max, g_scale, rng):
    """Before the simulations: restore the raw prior, mix in fresh Dirichlet noise, remember
    the visits already there (reuse), and draw the Gumbel root's considered actions."""
    num_actions = tree.child.shape[2]
    for b in range(tree.node_count.shape[0]):
        if not active[b]:
            continue
        legal = 0
        for a in range(num_actions):
            tree.prior[b, 0, a] = root.raw_prior[b, a]
            root.start_visits[b, a] = tree.edge_visits[b, 0, a]
            root.considered[b, a] = False
            root.gumbel[b, a] = 0.0
            if tree.child[b, 0, a] != ILLEGAL:
                legal += 1
        if noise and fraction > 0.0:
            total = 0.0
            for a in range(num_actions):
                if tree.child[b, 0, a] != ILLEGAL:
                    root.gumbel[b, a] = rng_mod.gamma(rng, b, alpha)  # scratch for the draw
                    total += root.gumbel[b, a]
            for a in range(num_actions):
                if tree.child[b, 0, a] != ILLEGAL:
                    eta = root.gumbel[b, a] / total if total > 0.0 else 1.0 / legal
                    tree.prior[b, 0, a] = (1.0 - fraction) * tree.prior[b, 0, a] + fraction * eta
                root.gumbel[b, a] = 0.0
        if use_gumbel:
            for a in range(num_actions):
                if tree.child[b, 0, a] != ILLEGAL:
                    root.gumbel[b, a] = g_scale * rng_mod.gumbel(rng, b)
            m = min(m_max, legal)
            root.num_considered[b] = m
            # Gumbel-top-m: the m best of g + logits, without replacement.
            for _ in range(m):
                best, best_a = -np.inf, -1
                for a in range(num_actions):
                    if tree.child[b, 0, a] != ILLEGAL and not root.considered[b, a]:
                        score = root.gumbel[b, a] + gumbel_root.log_prior(tree.prior[b, 0, a])
                        if score > best:
                            best, best_a = score, a
                root.considered[b, best_a] = True


@njit(cache=True)
def _pick_by_visits(tree, b, temperature, rng):
    """Temperature 0: the most visited move, ties at random. Else sample N ** (1/T)."""
    num_actions = tree.child.shape[2]
    most = -1
    ties = 0
    for a in range(num_actions):
        if tree.child[b, 0, a] == ILLEGAL:
            continue
        n = tree.edge_visits[b, 0, a]
        if n > most:
            most, ties = n, 1
        elif n == most:
            ties += 1
    if temperature <= 0.0 or most == 0:
        pick = rng_mod.randint(rng, b, ties)
        for a in range(num_actions):
            if tree.child[b, 0, a] != ILLEGAL and tree.edge_visits[b, 0, a] == most:
                if pick == 0:
                    return a
                pick -= 1
    total = 0.0
    for a in range(num_actions):
        if tree.child[b, 0, a] != ILLEGAL:
            total += (tree.edge_visits[b, 0, a] / most) ** (1.0 / temperature)
    u = rng_mod.uniform(rng, b) * total
    last = -1
    for a in range(num_actions):
        if tree.child[b, 0, a] != ILLEGAL:
            w = (tree.edge_visits[b, 0, a] / most) ** (1.0 / temperature)
            if w > 0.0:
                last = a
                if u < w:
                    return a
                u -= w
    return last


@njit(cache=True)
def write_results(
    tree,
    root,
    params,
    active,
    temperature,
    rng,
    scratch,
    action,
    policy,
    root_value,
    visits,
    q,
    prior,
):
    """The search outputs for every active row (inactive rows: action -1, zeros)."""
    num_actions = tree.child.shape[2]
    for b in range(tree.node_count.shape[0]):
        action[b] = -1
        root_value[b] = 0.0
        policy[b, :] = 0.0
        visits[b, :] = 0
        q[b, :] = 0.0
        prior[b, :] = 0.0
        if not active[b]:
            continue
        root_value[b] = _node_q(tree, b, 0)
        total = 0
        for a in range(num_actions):
            n = tree.edge_visits[b, 0, a]
            visits[b, a] = n
            total += n
            prior[b, a] = tree.prior[b, 0, a]
            if n > 0:
                q[b, a] = tree.edge_value[b, 0, a] / n
        if params.mode == MODE_GUMBEL:
            gumbel_root.improved_policy(tree, b, 0, 0.0, params.c_visit, params.c_scale, scratch)
            for a in range(num_actions):
                policy[b, a] = scratch[a]
            action[b] = gumbel_root.final_action(
                tree, root, b, params.c_visit, params.c_scale, scratch
            )
        else:
            for a in range(num_actions):
                policy[b, a] = visits[b, a] / total if total > 0 else prior[b, a]
            action[b] = _pick_by_visits(tree, b, temperature, rng)


@njit(cache=True)
def reuse_subtrees(tree, node_state, root, actions, keep, remap):
    """After moves are played: the child reached by `actions[b]` becomes the root of tree b,
    its subtree compacted to the front (statistics kept), or the tree is dropped when there is
    nothing to keep. -1 leaves a row untouched. `remap[b, old]` gets each kept node's new id
    (-1 for dropped nodes), for backends that hold per-node data outside numba."""
    num_actions = tree.child.shape[2]
    for b in range(tree.node_count.shape[0]):
        act = actions[b]
        if act < 0:
            continue
        count = tree.node_count[b]
        remap[b, :] = -1
        if not keep or count == 0 or tree.status[b, 0] != EXPANDED or act >= num_actions:
            tree.node_count[b] = 0
            continue
        start = tree.child[b, 0, act]
        if start < 0 or tree.status[b, start] == PENDING:
            tree.node_count[b] = 0
            continue
        # Children have larger ids than parents: one ascending pass finds the subtree, and
        # new ids (ranks) never exceed old ones, so the move below is safe in place.
        remap[b, start] = 0
        kept = 1
        for i in range(start + 1, count):
            if remap[b, tree.parent[b, i]] >= 0:
                remap[b, i] = kept
                kept += 1
        for i in range(start, count):
            j = remap[b, i]
            if j < 0:
                continue
            tree.parent[b, j] = -1 if i == start else remap[b, tree.parent[b, i]]
            tree.parent_action[b, j] = -1 if i == start else tree.parent_action[b, i]
            tree.player[b, j] = tree.player[b, i]
            tree.status[b, j] = tree.status[b, i]
            tree.visits[b, j] = tree.visits[b, i]
            tree.value_sum[b, j] = tree.value_sum[b, i]
            tree.raw_value[b, j] = tree.raw_value[b, i]
            for a in range(num_actions):
                c = tree.child[b, i, a]
                tree.child[b, j, a] = remap[b, c] if c >= 0 else c
                tree.prior[b, j, a] = tree.prior[b, i, a]
                tree.edge_visits[b, j, a] = tree.edge_visits[b, i, a]
                tree.edge_value[b, j, a] = tree.edge_value[b, i, a]
                tree.inflight[b, j, a] = 0
            node_state[b, j, :] = node_state[b, i, :]
        tree.node_count[b] = kept
        if tree.status[b, 0] == EXPANDED:
            root.raw_prior[b, :] = tree.prior[b, 0, :]
        else:  # a terminal position: nothing to search from it
            tree.node_count[b] = 0
