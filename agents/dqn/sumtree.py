"""A sum-tree over transition priorities, as numba kernels on one float64 array.

`tree` has 2*P entries for P leaves (P a power of two): the root is tree[1], leaf i is
tree[P + i], every inner node holds the sum of its two children. Setting a leaf recomputes
its ancestors from their children (not by adding a delta), so rounding error cannot build up
over millions of updates. Sampling walks from the root by prefix mass: O(log P) per draw.
"""

from __future__ import annotations

import numpy as np

from ponder.envs.jit_cache import njit_cached


def tree_leaves(capacity: int) -> int:
    """The number of leaves P: the smallest power of two >= capacity."""
    leaves = 1
    while leaves < capacity:
        leaves *= 2
    return leaves


def new_tree(capacity: int) -> np.ndarray:
    return np.zeros(2 * tree_leaves(capacity), dtype=np.float64)


@njit_cached
def tree_set_one(tree, index, value):
    """tree[leaf index] = value, then refresh its ancestors."""
    node = tree.shape[0] // 2 + index
    tree[node] = value
    node //= 2
    while node >= 1:
        tree[node] = tree[2 * node] + tree[2 * node + 1]
        node //= 2


@njit_cached
def tree_set(tree, indices, values):
    for k in range(indices.shape[0]):
        tree_set_one(tree, indices[k], values[k])


@njit_cached
def tree_find(tree, mass):
    """The leaf whose prefix-sum interval holds `mass` (0 <= mass < total); never a zero leaf."""
    leaves = tree.shape[0] // 2
    node = 1
    while node < leaves:
        left = 2 * node
        if mass < tree[left]:
            node = left
        else:
            mass -= tree[left]
            node = left + 1
    leaf = node - leaves
    if tree[node] > 0.0:
        return leaf
    # Rounding at an interval edge can land on an empty leaf: take the nearest non-empty one.
    for offset in range(1, leaves):
        if leaf - offset >= 0 and tree[leaves + leaf - offset] > 0.0:
            return leaf - offset
        if leaf + offset < leaves and tree[leaves + leaf + offset] > 0.0:
            return leaf + offset
    return -1


@njit_cached
def tree_sample_stratified(tree, uniforms, out):
    """Draw len(out) leaves, one from each of as many equal slices of the total mass
    (stratified: lower variance than independent draws); `uniforms` are in [0, 1)."""
    batch = out.shape[0]
    total = tree[1]
    for b in range(batch):
        mass = (b + uniforms[b]) * total / batch
        if mass >= total:
            mass = total * (1.0 - 1e-12)
        out[b] = tree_find(tree, mass)
