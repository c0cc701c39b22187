"""The replay buffer: a sliding window of the most recent self-play positions.

Positions live in preallocated numpy rings (one per field of `Samples`), so adding a game is a
slice copy and a uniform sample is one fancy-index gather: no Python object per position. The
driver runs it as a Ray actor (`ray.remote(ReplayBuffer)`); workers' samples reach it through
the object store without passing through the driver.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

FIELDS = ("planes", "policy", "value", "legal", "policy_weight")


def snapshot_problem(arrays: dict[str, Any], meta: dict[str, Any], game: Any) -> str | None:
    """Why a saved snapshot (read back from disk) cannot be restored into a buffer for `game`,
    or None when it can: counters, array names, shapes and values are all checked, since the
    files may have been damaged or edited."""
    ints = ("capacity", "rows", "cursor", "added", "sampled", "games")
    for key in ints:
        value = meta.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"replay field {key!r} is {value!r}, not a whole number >= 0"
    if not isinstance(meta.get("rng"), dict):
        return "replay field 'rng' is not a generator state"
    try:
        np.random.default_rng(0).bit_generator.state = meta["rng"]
    except (TypeError, ValueError, KeyError) as exc:
        return f"replay field 'rng' is not a generator state ({exc})"
    rows, capacity = meta["rows"], meta["capacity"]
    if capacity < 1 or rows > capacity or (rows and meta["cursor"] >= capacity):
        return f"replay rows {rows}, cursor {meta['cursor']} do not fit capacity {capacity}"
    if not rows:
        return None
    shapes = {
        "planes": (rows, *game.obs_shape),
        "policy": (rows, game.num_actions),
        "legal": (rows, game.num_actions),
        "value": (rows,),
        "policy_weight": (rows,),
    }
    for name, shape in shapes.items():
        array = arrays.get(name)
        if array is None:
            return f"replay array {name!r} is missing"
        if tuple(array.shape) != tuple(int(d) for d in shape):
            return f"replay array {name!r} has shape {tuple(array.shape)}, expected {shape}"
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            return f"replay array {name!r} holds NaN or infinite values"
    return None


def growing_window(added: int, start: int, capacity: int) -> int:
    """KataGo's replay window after `added` positions: all of them up to `start`, then
    start * (1 + 0.4 * ((added / start) ** 0.75 - 1) / 0.75), at most `capacity`."""
    if added <= start:
        return min(added, capacity)
    grown = start * (1.0 + 0.4 * ((added / start) ** 0.75 - 1.0) / 0.75)
    return min(int(grown), capacity)


class ReplayBuffer:
    """Keep the last `capacity` positions; sample uniformly with replacement, from all of them
    or, with `window_start`, from the newest `growing_window(...)` of them."""

    def __init__(self, capacity: int, seed: int = 0, window_start: int = 0):
        self.capacity = int(capacity)
        self.window_start = int(window_start)
        self.rng = np.random.default_rng(seed)
        self.arrays: dict[str, np.ndarray] | None = None  # allocated on the first add
        self.size = 0
        self.cursor = 0  # next row to overwrite
        self.added = 0  # positions ever added (the generated-samples count of this buffer)
        self.sampled = 0  # positions ever handed out
        self.games = 0

    def _allocate(self, samples: Any) -> None:
        self.arrays = {}
        for name in FIELDS:
            column = np.asarray(getattr(samples, name))
            self.arrays[name] = np.zeros((self.capacity, *column.shape[1:]), dtype=column.dtype)

    def add(self, samples: Any, games: int = 0) -> int:
        """Append every row of a `Samples`; the oldest rows fall out. Returns `added`."""
        n = len(samples.value)
        self.games += games
        if n == 0:
            return self.added
        if self.arrays is None:
            self._allocate(samples)
        assert self.arrays is not None
        keep = min(n, self.capacity)  # only the newest `capacity` rows can survive anyway
        columns = {name: np.asarray(getattr(samples, name))[n - keep :] for name in FIELDS}
        first = min(keep, self.capacity - self.cursor)
        for name, column in columns.items():
            self.arrays[name][self.cursor : self.cursor + first] = column[:first]
            self.arrays[name][: keep - first] = column[first:]
        self.cursor = (self.cursor + keep) % self.capacity
        self.size = min(self.capacity, self.size + keep)
        self.added += n
        return self.added

    def sample(self, batch_size: int, batches: int = 1) -> list[dict[str, np.ndarray]]:
        """`batches` independent uniform batches, each a dict of the `Samples` fields."""
        if self.size == 0 or self.arrays is None:
            raise ValueError("cannot sample from an empty replay buffer")
        window = self.window()
        out = []
        for _ in range(batches):
            if window == self.size:
                rows = self.rng.integers(0, self.size, size=batch_size)
            else:  # the newest `window` rows end just before the cursor
                back = self.rng.integers(1, window + 1, size=batch_size)
                rows = (self.cursor - back) % self.capacity
            out.append({name: self.arrays[name][rows] for name in FIELDS})
        self.sampled += batch_size * batches
        return out

    def window(self) -> int:
        """How many of the newest rows batches are drawn from."""
        if not self.window_start:
            return self.size
        return max(1, min(self.size, growing_window(self.added, self.window_start, self.capacity)))

    def snapshot(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The stored rows as they lie in the ring, with the cursor, counters and sampling RNG
        state (JSON): restored into the same capacity, the next batches are the ones this
        buffer would have drawn."""
        arrays = {} if self.arrays is None else {n: a[: self.size] for n, a in self.arrays.items()}
        meta = {
            "capacity": self.capacity,
            "rows": self.size,
            "cursor": self.cursor,
            "added": self.added,
            "sampled": self.sampled,
            "games": self.games,
            "rng": self.rng.bit_generator.state,
        }
        return arrays, meta

    def restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> int:
        """Refill from a `snapshot`; under another capacity the rows are re-added oldest first
        (a smaller window keeps the newest). Returns the number of rows now held."""
        self.arrays, self.size, self.cursor = None, 0, 0
        rows = int(meta["rows"])
        if rows:
            columns = {name: np.asarray(arrays[name]) for name in FIELDS}
            if meta["capacity"] == self.capacity:
                self._allocate(SimpleNamespace(**columns))
                assert self.arrays is not None
                for name, column in columns.items():
                    self.arrays[name][:rows] = column
                self.size, self.cursor = rows, int(meta["cursor"])
            else:
                order = np.arange(rows)
                if rows == meta["capacity"]:  # a full ring: the oldest row is at the cursor
                    order = (order + int(meta["cursor"])) % rows
                self.add(SimpleNamespace(**{n: c[order] for n, c in columns.items()}))
        self.added, self.sampled, self.games = meta["added"], meta["sampled"], meta["games"]
        self.rng.bit_generator.state = meta["rng"]
        return self.size

    def stats(self) -> dict[str, Any]:
        """Counters and a glance at the value targets (a drift towards one side shows here)."""
        stats: dict[str, Any] = {
            "replay_size": self.size,
            "replay_capacity": self.capacity,
            "replay_window": self.window(),
            "replay_added": self.added,
            "replay_sampled": self.sampled,
            "replay_games": self.games,
        }
        if self.size and self.arrays is not None:
            values = self.arrays["value"][: self.size]
            stats["replay_value_mean"] = float(values.mean())
            stats["replay_draw_share"] = float(np.mean(np.abs(values) < 1e-6))
            weights = self.arrays["policy_weight"][: self.size]
            stats["replay_full_search_share"] = float(np.mean(weights > 0))
        return stats
