"""benchmarks/versions.py: the pairing of two revisions' figures (the worktree and venv set-up
runs for real only when the script is used; it needs a second revision and minutes)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from versions import compare, numeric_leaves


def test_numeric_leaves_skip_context_and_flags() -> None:
    record = {
        "machine": {"cores": 2},
        "versions": {"numpy": "2.0"},
        "rate": 10,
        "quick": True,
        "rows": [{"game": "hex", "sims_per_s": 2.5}],
        "nested": {"a": {"b": 1.5}},
    }
    assert numeric_leaves(record) == {"rate": 10.0, "rows[0].sims_per_s": 2.5, "nested.a.b": 1.5}


def test_compare_takes_medians_of_shared_fields_and_their_ratio() -> None:
    base = [{"rate": 10, "only_base": 1}, {"rate": 30}, {"rate": 20}]
    head = [{"rate": 40}, {"rate": 44}, {"rate": 42, "only_head": 2}]
    fields = compare(base, head)
    assert set(fields) == {"rate"}
    assert fields["rate"] == {"base": 20.0, "head": 42.0, "ratio": pytest.approx(2.1)}
    assert compare([{"x": 0}], [{"x": 1}])["x"]["ratio"] is None
