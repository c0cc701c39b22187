"""`njit_cached` invalidates numba's disk cache when a helper in another module or folder
changes, which numba's own `cache=True` misses (checked side by side in fresh processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HELPER = {
    "ponder": "from ponder.envs.jit_cache import njit_cached\n\n@njit_cached\n",
    "numba": "from numba import njit\n\n@njit(cache=True)\n",
}
MAIN = """
from helpers.helper import value
{header}def outer():
    return value() + 100
"""
RUN = """
import main
print(main.outer(), sum(main.outer.stats.cache_hits.values()))
"""


def _project(tmp_path: Path, flavour: str) -> dict[str, str]:
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "__init__.py").write_text("")
    (tmp_path / "main.py").write_text(MAIN.format(header=HELPER[flavour]))
    _write_helper(tmp_path, flavour, 1)
    return {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(tmp_path)}


def _write_helper(tmp_path: Path, flavour: str, result: int) -> None:
    path = tmp_path / "helpers" / "helper.py"
    path.write_text(f"{HELPER[flavour]}def value():\n    return {result}\n")
    stamp = 1_700_000_000 + result  # a distinct mtime even within one clock tick
    os.utime(path, (stamp, stamp))


def _run(tmp_path: Path, env: dict[str, str]) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", RUN], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    value, hits = out.stdout.split()
    return int(value), int(hits)


def test_an_edited_helper_is_recompiled_into_its_cached_caller(tmp_path: Path) -> None:
    env = _project(tmp_path, "ponder")
    assert _run(tmp_path, env) == (101, 0)  # compiled and saved
    assert _run(tmp_path, env) == (101, 1)  # loaded from the disk cache
    _write_helper(tmp_path, "ponder", 2)
    assert _run(tmp_path, env) == (102, 0)  # the caller's key changed with the helper's folder
    assert _run(tmp_path, env) == (102, 1)


def test_numbas_own_cache_keeps_the_stale_helper(tmp_path: Path) -> None:
    """The reason for `njit_cached`: numba checks only the cached function's own file."""
    env = _project(tmp_path, "numba")
    assert _run(tmp_path, env)[0] == 101
    _write_helper(tmp_path, "numba", 2)
    assert _run(tmp_path, env) == (101, 1)


def test_ponder_caches_kernels_only_through_jit_cache() -> None:
    plain = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("envs", "search", "agents", "selfplay", "arena")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "jit_cache.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "njit(cache=True" in line.replace(" ", "")
    ]
    assert plain == []
