"""Per-game numba kernels: the tree operations of `tree.py` joined with one native game's
transitions, so a whole step (every descent of every tree) is one call without Python per node.

Each factory builds closures over the game's jitted functions (numba specialises them per game)
and jits them with `njit_closure`, whose disk cache is keyed by the game's source. The tree
functions are bound as closure variables too, so editing `tree.py` also invalidates the cache.

The hot kernels are compiled without numba's reference counting (`_nrt=False`): they allocate
nothing, and counting references to the tree arrays at every inlined helper of every descent
level otherwise costs more than the search itself (about 3x at B=256 on connect four).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

from ponder.envs.board.base import BoardGame
from ponder.envs.jit_cache import njit_cached, njit_closure
from ponder.envs.playout import make_random_playout
from ponder.search import tree as tree_ops
from ponder.search.layout import EXPANDED, MODE_UCT, N_ACTION, N_PARENT, N_PLAYER, N_STATUS


class NativeKernels(NamedTuple):
    init_roots: Callable
    select_leaves: Callable
    encode_leaves: Callable


@njit_cached
def drop_stale_roots(tree, node_state, states, active):
    """Forget a row's tree when its root is not the position asked about (the caller played
    moves without `advance`), so a search always searches the position it is given."""
    for b in range(states.shape[0]):
        if not active[b] or tree.node_count[b] == 0:
            continue
        if tree.nodes_i[b, 0, N_STATUS] != EXPANDED:
            tree.node_count[b] = 0
            continue
        for i in range(states.shape[1]):
            if node_state[b, 0, i] != states[b, i]:
                tree.node_count[b] = 0
                break


@functools.cache
def native_kernels(game: BoardGame, mode: int) -> NativeKernels:
    """The kernels of `BatchedMCTS` for one game and one selection rule (layout.MODE_*)."""
    play, legal_mask, to_play, is_terminal, encode = (
        game.play,
        game.legal_mask,
        game.to_play,
        game.is_terminal,
        game.encode,
    )
    allocate, descend = tree_ops.allocate, tree_ops.descent_for(mode)
    new_leaf, collision, tree_full = tree_ops.NEW_LEAF, tree_ops.COLLISION, tree_ops.TREE_FULL

    def init_roots(tree, node_state, states, active, leaf_row, leaf_node, leaf_states, leaf_legal):
        """Root nodes for active rows without a tree; they are the first leaves to evaluate.
        Returns the leaf count, or -1 - b when row b's position is already over."""
        count = 0
        for b in range(states.shape[0]):
            if not active[b] or tree.node_count[b] > 0:
                continue
            if is_terminal(states[b]):
                return -1 - b
            tree.node_count[b] = 0
            node = allocate(tree, b, -1, -1)
            node_state[b, node, :] = states[b]
            tree.nodes_i[b, node, N_PLAYER] = to_play(states[b])
            legal_mask(states[b], leaf_legal[count])
            leaf_states[count, :] = states[b]
            leaf_row[count] = b
            leaf_node[count] = node
            count += 1
        return count

    def select_leaves(
        tree,
        node_state,
        root,
        params,
        scratch,
        rng,
        sims_left,
        per_step,
        leaf_row,
        leaf_node,
        leaf_states,
        leaf_legal,
        terminal_row,
        terminal_node,
        terminal_value,
        terminal_count,
    ):
        """Up to `per_step` descents per tree: new positions are played here; finished games
        go to the terminal list (scored, never evaluated), the rest become leaves for the
        evaluator. Returns the leaf count, or -1 when a tree ran out of nodes."""
        count = 0
        ended = 0
        width = node_state.shape[2]
        for b in range(sims_left.shape[0]):
            for _ in range(per_step):
                if sims_left[b] == 0:
                    break
                outcome, node = descend(tree, root, b, params, scratch, rng)
                if outcome == collision:
                    break
                if outcome == tree_full:
                    return -1
                sims_left[b] -= 1
                if outcome != new_leaf:
                    continue
                state = node_state[b, node]
                parent = tree.nodes_i[b, node, N_PARENT]
                for i in range(width):
                    state[i] = node_state[b, parent, i]
                done, result = play(state, tree.nodes_i[b, node, N_ACTION])
                tree.nodes_i[b, node, N_PLAYER] = to_play(state)
                if done:
                    terminal_row[ended] = b
                    terminal_node[ended] = node
                    terminal_value[ended] = result
                    ended += 1
                    continue
                legal_mask(state, leaf_legal[count])
                for i in range(width):
                    leaf_states[count, i] = state[i]
                leaf_row[count] = b
                leaf_node[count] = node
                count += 1
        terminal_count[0] = ended
        return count

    def encode_leaves(leaf_states, planes, count):
        for i in range(count):
            encode(leaf_states[i], planes[i])

    return NativeKernels(
        init_roots=njit_closure(init_roots),
        select_leaves=njit_closure(select_leaves, _nrt=False),
        encode_leaves=njit_closure(encode_leaves, _nrt=False),
    )


@functools.cache
def rollout_kernel(game: BoardGame) -> Callable:
    """Jitted `values(states, rollouts, out, row_scratch, mask_scratch, rng)`: the mean outcome
    of `rollouts` random playouts from each state, from the view of the player to move there,
    all drawn from stream 0 of `rng`."""
    playout, to_play = make_random_playout(game), game.to_play

    def rollout_values(states, rollouts, out, row_scratch, mask_scratch, rng):
        for i in range(out.shape[0]):
            total = 0.0
            for _ in range(rollouts):
                for j in range(states.shape[1]):
                    row_scratch[j] = states[i, j]
                total += playout(row_scratch, mask_scratch, rng, 0)
            mean = total / rollouts
            out[i] = mean if to_play(states[i]) == 0 else -mean

    return njit_closure(rollout_values, _nrt=False)


@functools.cache
def uct_kernel(game: BoardGame) -> Callable:
    """Jitted whole-search UCT with random rollouts for every active row: classic UCT needs no
    evaluator, so a search of N simulations on B trees is one call."""
    play, legal_mask, to_play, is_terminal = (
        game.play,
        game.legal_mask,
        game.to_play,
        game.is_terminal,
    )
    playout = make_random_playout(game)
    allocate, descend, backup, set_terminal, expand = (
        tree_ops.allocate,
        tree_ops.descent_for(MODE_UCT),
        tree_ops.backup,
        tree_ops.set_terminal,
        tree_ops.expand,
    )
    new_leaf, tree_full = tree_ops.NEW_LEAF, tree_ops.TREE_FULL

    def uct_search(
        tree,
        node_state,
        root,
        params,
        scratch,
        rng,
        states,
        active,
        simulations,
        rollouts,
        row_scratch,
        mask,
        no_prior,
    ):
        """Returns 0, -1 when a tree ran out of nodes, or -2 - b when row b's game is over."""
        width = states.shape[1]
        for b in range(states.shape[0]):
            if not active[b]:
                continue
            if is_terminal(states[b]):
                return -2 - b
            tree.node_count[b] = 0
            node = allocate(tree, b, -1, -1)
            for i in range(width):
                node_state[b, node, i] = states[b, i]
            tree.nodes_i[b, node, N_PLAYER] = to_play(states[b])
            legal_mask(states[b], mask)
            expand(tree, b, node, mask, no_prior, 0.0)
            for _ in range(simulations):
                outcome, node = descend(tree, root, b, params, scratch, rng)
                if outcome == tree_full:
                    return -1
                if outcome != new_leaf:
                    continue
                state = node_state[b, node]
                parent = tree.nodes_i[b, node, N_PARENT]
                for i in range(width):
                    state[i] = node_state[b, parent, i]
                done, result = play(state, tree.nodes_i[b, node, N_ACTION])
                tree.nodes_i[b, node, N_PLAYER] = to_play(state)
                if done:
                    set_terminal(tree, b, node, result)
                    backup(tree, b, node, result)
                    continue
                legal_mask(state, mask)
                expand(tree, b, node, mask, no_prior, 0.0)
                total = 0.0
                for _ in range(rollouts):
                    for i in range(width):
                        row_scratch[i] = state[i]
                    total += playout(row_scratch, mask, rng, b)  # tree b's own stream
                backup(tree, b, node, total / rollouts)
        return 0

    return njit_closure(uct_search, _nrt=False)
