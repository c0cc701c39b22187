"""`njit_closure`: jit a kernel built per game (a closure over the game's jitted functions) with
an on-disk cache that actually hits in the next process.

Kernels specialised per game (random playouts, search over a `BoardGame`) are closures over the
game's dispatchers. Numba's own cache keys a closure by pickling its cell contents, and a pickled
dispatcher carries a random per-process uuid: every process misses the cache and appends a new
entry to the index, so the cache grows forever and never saves a compile. Here the key names each
captured dispatcher by module, qualified name and a hash of its source file instead, which is
stable across processes and changes when that game's file changes.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit
from numba.core.caching import FunctionCache
from numba.core.dispatcher import Dispatcher
from numba.core.serialize import dumps


@functools.cache
def _file_digest(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return "unreadable"


def _stable_token(value: Any) -> Any:
    """A picklable description of a closure variable that is the same in every process."""
    if isinstance(value, Dispatcher):
        func = value.py_func
        inner = tuple(_stable_token(c.cell_contents) for c in func.__closure__ or ())
        return (
            "dispatcher",
            func.__module__,
            func.__qualname__,
            _file_digest(func.__code__.co_filename),
            inner,
        )
    if value is None or isinstance(value, bool | int | float | str | np.generic):
        return repr(value)
    if isinstance(value, tuple):
        return tuple(_stable_token(v) for v in value)
    if isinstance(value, np.ndarray):
        return ("array", str(value.dtype), value.shape, hashlib.sha256(value.tobytes()).hexdigest())
    return ("pickled", hashlib.sha256(dumps(value)).hexdigest())  # numba's own (unstable) way


class _StableClosureCache(FunctionCache):
    def _index_key(self, sig, codegen):
        closure = self._py_func.__closure__ or ()
        cvars = tuple(_stable_token(cell.cell_contents) for cell in closure)
        code = hashlib.sha256(self._py_func.__code__.co_code).hexdigest()
        cvar_hash = hashlib.sha256(repr(cvars).encode()).hexdigest()
        return (sig, codegen.magic_tuple(), (code, cvar_hash))


def njit_closure(func: Callable) -> Dispatcher:
    """`njit(cache=True)` for a function that closes over other jitted functions."""
    dispatcher = njit(func)
    # Numba has no public hook for the cache key; `_cache` is where enable_caching puts it.
    dispatcher._cache = _StableClosureCache(func)
    return dispatcher
