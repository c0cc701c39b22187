"""Numba's disk cache made to miss when it should, for the two kinds of kernel ponder caches.

- `njit_cached` (plain kernels: tree operations, replay, solvers, game functions): numba checks
  only the source file of the function it caches, yet a cached kernel holds the code of every
  helper it calls or inlines and the constants it read from other modules. Edit `envs/rng.py`
  and the cached `search/tree.py` kernels would keep the old helper. Here the cache key also
  holds a hash of the source of every ponder folder the kernel reaches (its own, and those of
  the jitted functions and modules it names, followed transitively), so any such edit misses.
- `njit_closure` (kernels built per game: random playouts, search over a `BoardGame`) are
  closures over the game's dispatchers. Numba's own cache keys a closure by pickling its cell
  contents, and a pickled dispatcher carries a random per-process uuid: every process misses
  the cache and appends a new entry to the index, so the cache grows forever and never saves a
  compile. Here the key names each captured dispatcher by module, qualified name and the source
  hash above instead, which is stable across processes and changes with the source. Each
  distinct closure also gets its own symbol names and cache file (see `njit_closure`).

Numba has no public hook for a cache key; both install a `FunctionCache` subclass where
`enable_caching` would put numba's own (`Dispatcher._cache`), and tests/test_jit_cache.py checks
in fresh processes that an edited helper is recompiled.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sysconfig
import types
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit
from numba.core.caching import FunctionCache
from numba.core.dispatcher import Dispatcher
from numba.core.serialize import dumps


@functools.cache
def _folder_digest(folder: str) -> str:
    """Hash of every .py file in `folder` (read once per process)."""
    digest = hashlib.sha256()
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                digest.update(name.encode() + b"\0" + handle.read())
    except OSError:
        return "unreadable"
    return digest.hexdigest()


# Installed packages (numpy, numba, the standard library) change only with their version, which
# numba's own key covers through the compiled code; hashing their folders would only cost time.
_INSTALLED = tuple(
    sorted(
        {
            os.path.abspath(sysconfig.get_paths()[key])
            for key in ("purelib", "platlib", "stdlib", "platstdlib")
        }
    )
)


def _own_source(folder: str) -> bool:
    return not any(folder == path or folder.startswith(path + os.sep) for path in _INSTALLED)


def _source_folders(func: Callable, seen: set[int] | None = None) -> set[str]:
    """The source folders (outside installed packages) whose code `func` may have compiled in:
    its own, and those of the jitted functions and modules it names or closes over, followed
    transitively."""
    seen = set() if seen is None else seen
    if id(func) in seen:
        return set()
    seen.add(id(func))
    folders = {os.path.dirname(os.path.abspath(func.__code__.co_filename))}
    names: list[str] = []
    codes = [func.__code__]
    while codes:  # nested code objects (comprehensions, inner functions) name globals too
        code = codes.pop()
        names.extend(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    values = [func.__globals__.get(name) for name in names]
    for cell in func.__closure__ or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:  # a cell not bound yet holds nothing to follow
            continue
    for value in values:
        if isinstance(value, Dispatcher):
            folders |= _source_folders(value.py_func, seen)
        elif isinstance(value, types.ModuleType) and getattr(value, "__file__", None):
            folders.add(os.path.dirname(os.path.abspath(value.__file__)))
    return {folder for folder in folders if _own_source(folder)}


def source_digest(func: Callable) -> str:
    """A hash of the source of every folder `_source_folders` finds for `func`."""
    # Contents only, not paths: a checkout moved elsewhere keeps its cache.
    parts = sorted(_folder_digest(folder) for folder in _source_folders(func))
    return hashlib.sha256("".join(parts).encode()).hexdigest()


class _SourceKeyedCache(FunctionCache):
    """Numba's cache with `source_digest` in the key, computed at the first compile (when every
    global the kernel names is defined)."""

    def _index_key(self, sig, codegen):
        return (*super()._index_key(sig, codegen), source_digest(self._py_func))


def njit_cached(func: Callable | None = None, **options: Any) -> Any:
    """`njit(cache=True, **options)` whose cache misses when any source it may hold changes;
    use as `@njit_cached` or `@njit_cached(nogil=True)`."""

    def wrap(f: Callable) -> Dispatcher:
        dispatcher = njit(f, **options)
        dispatcher._cache = _SourceKeyedCache(f)
        return dispatcher

    return wrap(func) if func is not None else wrap


def _stable_token(value: Any) -> Any:
    """A picklable description of a closure variable that is the same in every process."""
    if isinstance(value, Dispatcher):
        func = value.py_func
        inner = tuple(_stable_token(c.cell_contents) for c in func.__closure__ or ())
        return (
            "dispatcher",
            func.__module__,
            func.__qualname__,
            source_digest(func),
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
    code += source_digest(func)
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
