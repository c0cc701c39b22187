"""Prioritized replay that stores ONE frame per agent step and stacks frames at sample time.

Storage is split into streams, one per environment, each a ring of `per_stream` slots, so that
consecutive steps of one env sit in consecutive slots. Slot t of a stream holds the frame the
agent saw at step t, the action it took, the unclipped reward it got, and flags:

    FIRST     the frame begins an episode (stacks never reach back past it: older frames are 0)
    FINAL     the frame is an episode's last observation; no action was taken from it, so it is
              never a transition's start, only a bootstrap target (after a time-limit truncation)
    TERMINAL  the step taken from this frame ended the episode for learning (game over, or a
              lost life under the nature protocol): returns do not bootstrap past it
    BROKEN    the stream was cut after this slot (a resume or an actor restart lost the frame
              that followed): no transition whose return passes through it is ever sampled

The agent's own 4-frame stack for acting is read from the same storage (`head_stacks`), so
acting and learning see identical stacks and no frame is kept twice: 1M transitions of 84x84
frames take 7.06 GB plus 6 bytes a slot and a 16 MB sum-tree.

A transition becomes sampleable when the frame n steps after it has been written; until then,
and once the ring starts overwriting its history, its priority is 0. With `prioritized=False`
every sampleable transition has priority 1, so the same sum-tree samples uniformly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ponder.agents.dqn.sumtree import new_tree, tree_sample_stratified, tree_set, tree_set_one
from ponder.checkpoint import load_array_folder, save_array_folder
from ponder.config import check_allocation
from ponder.envs.jit_cache import njit_cached
from ponder.errors import PonderError


def replay_bytes(capacity: int, frame_shape: tuple[int, ...], frame_dtype: Any) -> float:
    """Bytes a full replay of `capacity` transitions holds: one frame, the action, reward and
    flags per slot, and the sum-tree's share."""
    frame = int(np.prod(frame_shape)) * np.dtype(frame_dtype).itemsize
    return float(capacity) * (frame + 6 + 16)


FIRST = np.uint8(1)
FINAL = np.uint8(2)
TERMINAL = np.uint8(4)
BROKEN = np.uint8(8)

REPLAY_FORMAT = 1
REPLAY_META = "replay.json"
SAVED_ARRAYS = ("frames", "actions", "rewards", "flags", "heads", "counts", "tree")


# -- kernels ----------------------------------------------------------------------------------
@njit_cached
def _gather_stack(frames, flags, base, pos, per, stack, out):
    """out[stack-1] = frame at pos, out[stack-1-j] = j frames earlier, zeros before the
    episode's FIRST frame."""
    cur = pos
    out[stack - 1, :] = frames[base + cur, :]
    alive = True
    for j in range(1, stack):
        if alive and (flags[base + cur] & 1) != 0:
            alive = False
        if alive:
            cur = (cur - 1 + per) % per
            out[stack - 1 - j, :] = frames[base + cur, :]
        else:
            out[stack - 1 - j, :] = 0


@njit_cached
def _n_step(flags, rewards, base, pos, per, n_step, gamma, clip):
    """(return, discount, bootstrap slot) of the n-step transition starting at `pos`.

    The return stops early at a TERMINAL step (discount 0) or before a FINAL frame (bootstrap
    from that frame: the episode was truncated, not lost)."""
    ret = 0.0
    disc = 1.0
    for k in range(n_step):
        j = (pos + k) % per
        r = rewards[base + j]
        if clip:
            r = min(max(r, -1.0), 1.0)
        ret += disc * r
        disc *= gamma
        if (flags[base + j] & 4) != 0:
            return ret, 0.0, j
        nxt = (j + 1) % per
        if (flags[base + nxt] & 2) != 0:
            return ret, disc, nxt
    return ret, disc, (pos + n_step) % per


@njit_cached
def _sampleable(flags, base, pos, per, n_step):
    """Whether the complete transition at `pos` may be sampled: not a FINAL frame and its
    n-step path crosses no BROKEN slot."""
    if (flags[base + pos] & 2) != 0:
        return False
    for k in range(n_step):
        j = (pos + k) % per
        if (flags[base + j] & 8) != 0:
            return False
        if (flags[base + j] & 4) != 0:
            return True
        if (flags[base + (j + 1) % per] & 2) != 0:
            return True
    return True


@njit_cached
def _begin(
    frames,
    flags,
    tree,
    heads,
    counts,
    streams,
    new_frames,
    new_flags,
    per,
    stack,
    n_step,
    ready_value,
):
    """Write each stream's newest frame at its head slot (not yet committed)."""
    for k in range(streams.shape[0]):
        s = streams[k]
        pos = heads[s]
        base = s * per
        frames[base + pos, :] = new_frames[k, :]
        flags[base + pos] = new_flags[k]
        # The head slot is incomplete and the next stack-1 slots just lost history they need.
        for j in range(stack):
            leaf = base + (pos + j) % per
            if tree[tree.shape[0] // 2 + leaf] != 0.0:
                tree_set_one(tree, leaf, 0.0)
        if counts[s] >= n_step:
            q = (pos - n_step + per) % per
            if _sampleable(flags, base, q, per, n_step):
                tree_set_one(tree, base + q, ready_value)


@njit_cached
def _commit(
    actions, rewards, flags, heads, counts, streams, new_actions, new_rewards, terminal, per
):
    """Record the action taken from each head frame and what it earned; advance the heads."""
    for k in range(streams.shape[0]):
        s = streams[k]
        slot = s * per + heads[s]
        actions[slot] = new_actions[k]
        rewards[slot] = new_rewards[k]
        if terminal[k]:
            flags[slot] |= 4
        heads[s] = (heads[s] + 1) % per
        counts[s] += 1


@njit_cached
def _extend(
    frames,
    flags,
    actions,
    rewards,
    tree,
    heads,
    counts,
    streams,
    chunk_frames,
    chunk_flags,
    chunk_actions,
    chunk_rewards,
    per,
    stack,
    n_step,
    ready_value,
):
    """Append T committed slots to each of the streams (Ape-X actors ship data this way)."""
    one = np.zeros(1, dtype=streams.dtype)
    frame = np.empty((1, frames.shape[1]), dtype=frames.dtype)
    flag = np.zeros(1, dtype=np.uint8)
    act = np.zeros(1, dtype=actions.dtype)
    rew = np.zeros(1, dtype=np.float32)
    term = np.zeros(1, dtype=np.bool_)
    for t in range(chunk_flags.shape[1]):
        for k in range(streams.shape[0]):
            one[0] = streams[k]
            frame[0, :] = chunk_frames[k, t, :]
            flag[0] = chunk_flags[k, t] & 3
            _begin(
                frames,
                flags,
                tree,
                heads,
                counts,
                one,
                frame,
                flag,
                per,
                stack,
                n_step,
                ready_value,
            )
            act[0] = chunk_actions[k, t]
            rew[0] = chunk_rewards[k, t]
            term[0] = (chunk_flags[k, t] & 4) != 0
            _commit(actions, rewards, flags, heads, counts, one, act, rew, term, per)


@njit_cached
def _head_stacks(frames, flags, heads, streams, per, stack, out):
    for k in range(streams.shape[0]):
        s = streams[k]
        _gather_stack(frames, flags, s * per, heads[s], per, stack, out[k])


@njit_cached
def _sample(
    tree,
    uniforms,
    frames,
    flags,
    actions,
    rewards,
    per,
    stack,
    n_step,
    gamma,
    clip,
    out_index,
    out_obs,
    out_next,
    out_action,
    out_return,
    out_discount,
    out_prob,
):
    tree_sample_stratified(tree, uniforms, out_index)
    leaves = tree.shape[0] // 2
    total = tree[1]
    for b in range(out_index.shape[0]):
        leaf = out_index[b]
        s = leaf // per
        pos = leaf % per
        base = s * per
        _gather_stack(frames, flags, base, pos, per, stack, out_obs[b])
        ret, disc, boot = _n_step(flags, rewards, base, pos, per, n_step, gamma, clip)
        if disc > 0.0:
            _gather_stack(frames, flags, base, boot, per, stack, out_next[b])
        else:
            out_next[b, :, :] = 0
        out_action[b] = actions[base + pos]
        out_return[b] = ret
        out_discount[b] = disc
        out_prob[b] = tree[leaves + leaf] / total


@njit_cached
def _export(
    frames,
    flags,
    actions,
    rewards,
    heads,
    counts,
    exported,
    streams,
    per,
    length,
    out_frames,
    out_flags,
    out_actions,
    out_rewards,
):
    """Copy the `length` slots committed after `exported` from each stream (oldest first)."""
    for k in range(streams.shape[0]):
        s = streams[k]
        base = s * per
        start = (heads[s] - (counts[s] - exported[s]) + per) % per
        for t in range(length):
            slot = base + (start + t) % per
            out_frames[k, t, :] = frames[slot, :]
            out_flags[k, t] = flags[slot]
            out_actions[k, t] = actions[slot]
            out_rewards[k, t] = rewards[slot]
        exported[s] += length


# -- the buffer -------------------------------------------------------------------------------
class Batch:
    """One sampled minibatch; arrays are reused by the next `sample` call."""

    __slots__ = ("actions", "discounts", "index", "next_obs", "obs", "probs", "returns", "weights")

    def __init__(self, **arrays: np.ndarray):
        for key, value in arrays.items():
            setattr(self, key, value)


class FrameReplay:
    def __init__(
        self,
        capacity: int,
        num_streams: int,
        frame_shape: tuple[int, ...],
        frame_dtype: Any,
        *,
        stack: int,
        n_step: int,
        gamma: float,
        prioritized: bool = True,
        alpha: float = 0.5,
        priority_eps: float = 1e-6,
        reward_clip: bool = False,
        num_actions: int = 256,
    ):
        per = capacity // num_streams
        if per < stack + n_step + 2:
            raise PonderError(
                f"replay capacity {capacity} is too small for {num_streams} envs: each env "
                f"needs at least {stack + n_step + 2} slots"
            )
        if num_actions > 256:
            raise PonderError(f"replay stores actions as uint8; {num_actions} actions is too many")
        self.per = per
        self.num_streams = num_streams
        self.capacity = per * num_streams
        self.frame_shape = tuple(frame_shape)
        self.frame_size = int(np.prod(frame_shape))
        self.stack, self.n_step, self.gamma = stack, n_step, gamma
        self.prioritized, self.alpha, self.priority_eps = prioritized, alpha, priority_eps
        self.reward_clip = reward_clip
        check_allocation(
            replay_bytes(self.capacity, frame_shape, frame_dtype),
            f"a replay of {self.capacity:,} transitions",
        )
        # np.zeros maps pages lazily: memory grows as the ring fills, not at start.
        self.frames = np.zeros((self.capacity, self.frame_size), dtype=frame_dtype)
        self.actions = np.zeros(self.capacity, dtype=np.uint8)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.flags = np.zeros(self.capacity, dtype=np.uint8)
        self.heads = np.zeros(num_streams, dtype=np.int64)
        self.counts = np.zeros(num_streams, dtype=np.int64)  # slots committed, ever
        self.tree = new_tree(self.capacity)
        self.max_priority = 1.0
        self._batches: dict[int, Batch] = {}
        self._stacks: dict[int, np.ndarray] = {}

    # -- writing ------------------------------------------------------------------------------
    def _ready_value(self) -> float:
        return self.max_priority**self.alpha if self.prioritized else 1.0

    def begin(
        self, streams: np.ndarray, frames: np.ndarray, first: np.ndarray, final: np.ndarray
    ) -> None:
        """Store each stream's newest frame at its head; the agent acts on it next."""
        flags = first.astype(np.uint8) * FIRST | final.astype(np.uint8) * FINAL
        _begin(
            self.frames,
            self.flags,
            self.tree,
            self.heads,
            self.counts,
            np.asarray(streams, dtype=np.int64),
            frames.reshape(len(streams), -1),
            flags,
            self.per,
            self.stack,
            self.n_step,
            self._ready_value(),
        )

    def commit(
        self, streams: np.ndarray, actions: np.ndarray, rewards: np.ndarray, terminal: np.ndarray
    ) -> None:
        """Record the actions taken from the head frames and their unclipped rewards."""
        _commit(
            self.actions,
            self.rewards,
            self.flags,
            self.heads,
            self.counts,
            np.asarray(streams, dtype=np.int64),
            actions.astype(np.uint8),
            rewards.astype(np.float32),
            terminal.astype(np.bool_),
            self.per,
        )

    def extend(
        self,
        streams: np.ndarray,
        frames: np.ndarray,
        flags: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
    ) -> None:
        """Append (streams, T) committed slots, as `export` produces them."""
        count = len(streams)
        _extend(
            self.frames,
            self.flags,
            self.actions,
            self.rewards,
            self.tree,
            self.heads,
            self.counts,
            np.asarray(streams, dtype=np.int64),
            frames.reshape(count, flags.shape[1], -1),
            flags.astype(np.uint8),
            actions.astype(np.uint8),
            rewards.astype(np.float32),
            self.per,
            self.stack,
            self.n_step,
            self._ready_value(),
        )

    def export(self, streams: np.ndarray, exported: np.ndarray) -> dict[str, np.ndarray]:
        """The slots each stream committed since `exported[s]` (updated in place); every
        stream must have committed the same number."""
        streams = np.asarray(streams, dtype=np.int64)
        lengths = self.counts[streams] - exported[streams]
        length = int(lengths[0]) if len(lengths) else 0
        if np.any(lengths != length) or length > self.per - self.stack - self.n_step:
            raise ValueError("streams must be exported in lockstep, within one ring's length")
        out = {
            "frames": np.empty((len(streams), length, self.frame_size), self.frames.dtype),
            "flags": np.empty((len(streams), length), np.uint8),
            "actions": np.empty((len(streams), length), np.uint8),
            "rewards": np.empty((len(streams), length), np.float32),
        }
        _export(
            self.frames,
            self.flags,
            self.actions,
            self.rewards,
            self.heads,
            self.counts,
            exported,
            streams,
            self.per,
            length,
            out["frames"],
            out["flags"],
            out["actions"],
            out["rewards"],
        )
        return out

    def mark_broken(self, streams: np.ndarray) -> None:
        """The streams lost continuity after their last committed slot (a resume, a restarted
        actor): transitions whose return would cross the gap are never sampled. The next
        `begin` on each stream must be a FIRST frame."""
        for s in np.asarray(streams, dtype=np.int64):
            if self.counts[s] > 0:
                last = s * self.per + (self.heads[s] - 1) % self.per
                self.flags[last] |= BROKEN
                if self.tree[len(self.tree) // 2 + last] != 0.0:
                    tree_set_one(self.tree, last, 0.0)

    # -- reading ------------------------------------------------------------------------------
    def head_stacks(self, streams: np.ndarray) -> np.ndarray:
        """The stacked observation at each stream's head: what the agent acts on. Reused."""
        count = len(streams)
        out = self._stacks.get(count)
        if out is None:
            out = self._stacks[count] = np.zeros(
                (count, self.stack, self.frame_size), self.frames.dtype
            )
        _head_stacks(
            self.frames,
            self.flags,
            self.heads,
            np.asarray(streams, dtype=np.int64),
            self.per,
            self.stack,
            out,
        )
        return out.reshape(count, self.stack, *self.frame_shape)

    @property
    def size(self) -> int:
        """Slots holding committed data (learning starts count these)."""
        return int(np.minimum(self.counts, self.per).sum())

    @property
    def sampleable_mass(self) -> float:
        return float(self.tree[1])

    def sample(
        self, batch_size: int, rng: np.random.Generator, beta: float = 1.0, slot: int = 0
    ) -> Batch:
        """A stratified draw by priority with n-step returns and importance weights
        w_i = (P(i) / min_batch P)^-beta, i.e. normalised by the batch's largest weight.

        The batch lives in reused arrays, one set per `slot`: a batch stays valid until the
        next sample into its slot (a learner thread holding several batches uses several)."""
        if self.tree[1] <= 0.0:
            raise RuntimeError("the replay holds no complete transition yet")
        batch = self._batches.get((batch_size, slot))
        if batch is None:
            obs_shape = (batch_size, self.stack, self.frame_size)
            batch = self._batches[(batch_size, slot)] = Batch(
                index=np.zeros(batch_size, np.int64),
                obs=np.zeros(obs_shape, self.frames.dtype),
                next_obs=np.zeros(obs_shape, self.frames.dtype),
                actions=np.zeros(batch_size, np.uint8),
                returns=np.zeros(batch_size, np.float32),
                discounts=np.zeros(batch_size, np.float32),
                probs=np.zeros(batch_size, np.float64),
                weights=np.ones(batch_size, np.float32),
            )
        uniforms = rng.random(batch_size)
        _sample(
            self.tree,
            uniforms,
            self.frames,
            self.flags,
            self.actions,
            self.rewards,
            self.per,
            self.stack,
            self.n_step,
            self.gamma,
            self.reward_clip,
            batch.index,
            batch.obs,
            batch.next_obs,
            batch.actions,
            batch.returns,
            batch.discounts,
            batch.probs,
        )
        if self.prioritized:
            weights = (batch.probs / batch.probs.min()) ** (-beta)
            batch.weights[:] = weights
        return batch

    def update_priorities(self, index: np.ndarray, td_abs: np.ndarray) -> None:
        """New priorities (|TD error| + eps)^alpha for sampled transitions still in the ring."""
        if not self.prioritized:
            return
        priority = np.abs(td_abs).astype(np.float64) + self.priority_eps
        self.max_priority = max(self.max_priority, float(priority.max()))
        leaves = len(self.tree) // 2
        alive = self.tree[leaves + index] > 0.0  # overwritten since sampling: leave at 0
        tree_set(self.tree, index[alive], priority[alive] ** self.alpha)

    def probabilities(self) -> np.ndarray:
        """P(i) for every slot (for tests and diagnostics)."""
        leaves = self.tree[len(self.tree) // 2 : len(self.tree) // 2 + self.capacity]
        return leaves / self.tree[1] if self.tree[1] > 0 else np.zeros_like(leaves)

    # -- persistence (plain .npy arrays, never pickle) ----------------------------------------
    def layout(self) -> dict[str, Any]:
        return {
            "format": REPLAY_FORMAT,
            "capacity": self.capacity,
            "num_streams": self.num_streams,
            "frame_shape": list(self.frame_shape),
            "frame_dtype": str(self.frames.dtype),
            "stack": self.stack,
        }

    def save(self, folder: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Write every array to `folder` as .npy, replacing any earlier copy atomically;
        `extra` (JSON) is stored beside the layout, e.g. the step it was saved at."""
        meta = {**self.layout(), "max_priority": self.max_priority, "extra": extra or {}}
        arrays = {name: getattr(self, name) for name in SAVED_ARRAYS}
        save_array_folder(folder, arrays, meta, REPLAY_META)

    @staticmethod
    def saved_extra(folder: str | Path) -> dict[str, Any]:
        """The `extra` a saved buffer was written with ({} when there is none)."""
        path = Path(folder) / REPLAY_META
        if not path.is_file():
            return {}
        try:
            return dict(json.loads(path.read_text()).get("extra") or {})
        except (json.JSONDecodeError, AttributeError):
            return {}

    def matches_saved(self, folder: str | Path) -> bool:
        """Whether the buffer saved in `folder` has this buffer's layout."""
        path = Path(folder) / REPLAY_META
        try:
            meta = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return False
        return all(meta.get(key) == value for key, value in self.layout().items())

    def load(self, folder: str | Path) -> None:
        """Restore arrays written by `save`; the layout must match this buffer's."""
        arrays, meta = load_array_folder(folder, REPLAY_META, list(SAVED_ARRAYS))
        for key, value in self.layout().items():
            if meta.get(key) != value:
                raise PonderError(
                    f"saved replay in {folder} has {key}={meta.get(key)!r}, "
                    f"this run needs {value!r}"
                )
        for name, data in arrays.items():
            target = getattr(self, name)
            if data.shape != target.shape or data.dtype != target.dtype:
                raise PonderError(f"saved replay array {name} in {folder} does not match")
            target[...] = data
        self.max_priority = float(meta["max_priority"])
