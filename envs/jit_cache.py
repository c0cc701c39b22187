"""`njit_closure`: jit a kernel built per game (a closure over the game's jitted functions) with
an on-disk cache that actually hits in the next process.

Kernels specialised per game (random playouts, search over a `BoardGame`) are closures over the
game's dispatchers. Numba's own cache keys a closure by pickling its cell contents, and a pickled
dispatcher carries a random per-process uuid: every process misses the cache and appends a new
entry to the index, so the cache grows forever and never saves a compile. Here the key names each
captured dispatcher by module, qualified name and a hash of the source files of its package
instead, which is stable across processes and changes when any module the kernel may inline
from changes. Each distinct closure also
gets its own symbol names and cache file (see `njit_closure`).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit
from numba.core.caching import FunctionCache
from numba.core.dispatcher import Dispatcher
from numba.core.serialize import dumps


@functools.cache
def _package_digest(path: str) -> str:
    """Hash of every .py file beside `path`: kernels inline constants and helpers from sibling
    modules (search/layout.py, search/rng.py, ...), so a change to any of them must miss."""
    folder = os.path.dirname(os.path.abspath(path))
    digest = hashlib.sha256()
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                digest.update(name.encode() + b"\0" + handle.read())
    except OSError:
        return "unreadable"
    return digest.hexdigest()


def _stable_token(value: Any) -> Any:
    """A picklable description of a closure variable that is the same in every process."""
    if isinstance(value, Dispatcher):
        func = value.py_func
        inner = tuple(_stable_token(c.cell_contents) for c in func.__closure__ or ())
        return (
            "dispatcher",
            func.__module__,
            func.__qualname__,
            _package_digest(func.__code__.co_filename),
            inner,
        )
    if value is None or isinstance(value, bool | int | float | str | np.generic):
        return repr(value)
    if isinstance(value, tuple):
        return tuple(_stable_token(v) for v in value)
    if isinstance(value, np.ndarray):
        return ("array", str(value.dtype), value.shape, hashlib.sha256(value.tobytes()).hexdigest())
    return ("pickled", hashlib.sha256(dumps(value)).hexdigest())  # numba's own (unstable) way


def _closure_digest(func: Callable) -> str:
    cvars = tuple(_stable_token(cell.cell_contents) for cell in func.__closure__ or ())
    code = hashlib.sha256(func.__code__.co_code).hexdigest()
    code += _package_digest(func.__code__.co_filename)
    return hashlib.sha256(repr((code, cvars)).encode()).hexdigest()


class _StableClosureCache(FunctionCache):
    def __init__(self, py_func: Callable, digest: str):
        super().__init__(py_func)
        self._digest = digest

    def _index_key(self, sig, codegen):
        return (sig, codegen.magic_tuple(), self._digest)


# One dispatcher per distinct closure in a process: loading one cached library twice would
# define its symbols twice.
_DISPATCHERS: dict[tuple[str, str, str], Dispatcher] = {}


def njit_closure(func: Callable, **options: Any) -> Dispatcher:
    """`njit(cache=True)` for a function that closes over other jitted functions; `options`
    go to `njit` (and into the cache key)."""
    digest = _closure_digest(func)
    if options:
        digest = hashlib.sha256(repr((digest, sorted(options.items()))).encode()).hexdigest()
    key = (func.__module__, func.__qualname__, digest)
    if key in _DISPATCHERS:
        return _DISPATCHERS[key]
    # Numba names compiled symbols after the qualified name, and every closure made by one
    # factory shares it: two of them compiled in different processes and loaded from the cache
    # into one would collide. The digest makes the name (and the cache file) per closure.
    func.__qualname__ = f"{func.__qualname__}_{digest[:16]}"
    dispatcher = njit(func, **options)
    # Numba has no public hook for the cache key; `_cache` is where enable_caching puts it.
    dispatcher._cache = _StableClosureCache(func, digest)
    _DISPATCHERS[key] = dispatcher
    return dispatcher
