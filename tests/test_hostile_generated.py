"""Hostile input generated, not listed (Hypothesis, a bounded number of examples per property):
config values, `--set` strings, player specs, move text in `ponder play`, and corrupted or
truncated run-directory files. Every example ends as one line on stderr with exit code 2, or
passes every check (stopped by a stand-in where Ray or the first game would start); either
way nothing is written and the run directory is byte-for-byte unchanged."""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from az_pipeline_support import tiny_config, write_config
from hostile_support import (
    make_run,
    run_cli,
    snapshot,
    stop_before_games,
    stop_before_ray,
)

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Small, so that CI time stays bounded (each example is one in-process CLI call);
# PONDER_HYPOTHESIS_EXAMPLES=500 hunts longer.
EXAMPLES = int(os.environ.get("PONDER_HYPOTHESIS_EXAMPLES", "40"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check_outcome(code: int, err: str) -> None:
    """Refused with one line and exit 2, or passed every check (-1: stopped at Ray/games)."""
    if code == -1:
        return
    assert code == 2, (code, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("pristine") / "run")


def leaf_keys() -> list[str]:
    from ponder.agents.alphazero.config import AZConfig

    def walk(data, prefix):
        for key, value in data.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict) and value and not key.endswith("stop_when"):
                yield from walk(value, path + ".")
            else:
                yield path

    return sorted(walk(AZConfig(game="tic_tac_toe").model_dump(mode="json"), ""))


HOSTILE_SCALARS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 10**13, 1e308, -0.0, "", "nan", ".inf", None]),
    st.booleans(),
    st.text(max_size=30),
)
HOSTILE_VALUES = st.one_of(
    HOSTILE_SCALARS,
    st.lists(HOSTILE_SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=12), HOSTILE_SCALARS, max_size=3),
)


def set_key(data: dict, dotted: str, value) -> None:
    *sections, last = dotted.split(".")
    node = data
    for part in sections:
        node = node.setdefault(part, {})
    node[last] = value


@SETTINGS
@given(key=st.sampled_from(leaf_keys()), value=HOSTILE_VALUES)
def test_generated_config_values(capsys, monkeypatch, key, value):
    stop_before_ray(monkeypatch)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = tiny_config()
        set_key(cfg, key, value)
        path = Path(tmp) / "c.yaml"
        path.write_text(yaml.safe_dump(cfg))
        out = Path(tmp) / "run"
        code, _, err = run_cli(capsys, "train", "az", "-c", str(path), "--out", str(out))
        check_outcome(code, err)
        assert not out.exists()


KEY_PARTS = st.one_of(
    st.sampled_from(["train", "lr", "seed", "eval", "games", "pipeline", "stop_when", "game"]),
    st.text(max_size=8),
)
OVERRIDE = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda parts, sep, value: ".".join(parts) + sep + value,
        st.lists(KEY_PARTS, min_size=0, max_size=4),
        st.sampled_from(["=", "==", " = ", ""]),
        st.one_of(
            st.text(max_size=30),
            st.sampled_from(["[", "{a: 1", "!!python/object:os.system", "*x", "&a [*a]", ".nan"]),
        ),
    ),
)


@SETTINGS
@given(overrides=st.lists(OVERRIDE, min_size=1, max_size=3))
def test_generated_set_strings(capsys, monkeypatch, tmp_path, overrides):
    stop_before_ray(monkeypatch)
    config = write_config(tmp_path / "c.yaml", tiny_config())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        args = ["train", "az", "-c", str(config), "--out", str(out)]
        for item in overrides:
            args += ["--set", item]
        code, _, err = run_cli(capsys, *args)
        check_outcome(code, err)
        assert not out.exists()


NUMBERISH = st.one_of(
    st.integers(min_value=-5, max_value=10**15).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["١٠", "²", "0x10", "1_000", " 5", "5 ", "+3", "nan", "inf", "-0", "1e999"]),
    st.text(max_size=6),
)
SPECS = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda head, n, opts: ":".join([head, n, *opts]),
        st.sampled_from(["uct", "openspiel:mcts", "solver", "minimax", "random", "UCT"]),
        NUMBERISH,
        st.lists(
            st.builds(
                lambda k, v: f"{k}={v}",
                st.sampled_from(["c", "rollouts", "solve", "t", "x"]),
                NUMBERISH,
            ),
            max_size=3,
        ),
    ),
    st.builds(lambda path, n: f"{path}@{n}", st.text(max_size=20), NUMBERISH),
)


@SETTINGS
@given(spec=SPECS)
def test_generated_player_specs(capsys, monkeypatch, spec):
    stop_before_games(monkeypatch)
    code, _, err = run_cli(capsys, "pit", spec, "random", "-g", "tic_tac_toe", "-n", "2")
    check_outcome(code, err)


@SETTINGS
@given(
    lines=st.lists(
        st.one_of(
            st.text(max_size=12).filter(lambda t: "\n" not in t and "\r" not in t),
            st.sampled_from(["a1", "c3", "0", "8", "9", "-1", "١", "²", "b2", "x", "1" * 5000]),
        ),
        max_size=12,
    )
)
def test_generated_moves_in_play(capsys, monkeypatch, lines):
    """Any text typed at `ponder play` is answered (asked again, or played) and never crashes:
    the game ends normally, or with `quit`."""
    text = "\n".join(lines) + "\nquit\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code, out, err = run_cli(capsys, "play", "random", "-g", "tic_tac_toe")
    assert code == 0, err
    assert "Traceback" not in err
    assert "game abandoned" in out or "wins" in out or "draw" in out


FILES = [
    "checkpoints/ckpt_000000000.json",
    "checkpoints/ckpt_000000000.safetensors",
    "checkpoints/latest.json",
    "config.yaml",
    "replay/replay.json",
    "replay/value.npy",
    "replay/planes.npy",
    "replay/policy.npy",
]
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**65), max_value=2**65),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def corrupt(path: Path, how: str, data: st.DataObject) -> None:
    raw = path.read_bytes()
    if how == "truncate":
        path.write_bytes(raw[: data.draw(st.integers(0, max(len(raw) - 1, 0)))])
    elif how == "flip":
        if not raw:
            return
        at = data.draw(st.integers(0, len(raw) - 1))
        bit = 1 << data.draw(st.integers(0, 7))
        path.write_bytes(raw[:at] + bytes([raw[at] ^ bit]) + raw[at + 1 :])
    elif how == "random":
        path.write_bytes(data.draw(st.binary(max_size=200)))
    elif how == "json-field":
        try:
            doc = json.loads(raw)
        except ValueError:
            return
        if not isinstance(doc, dict) or not doc:
            return
        key = data.draw(st.sampled_from(sorted(doc)))
        target = doc
        if isinstance(doc[key], dict) and doc[key] and data.draw(st.booleans()):
            target = doc[key]
            key = data.draw(st.sampled_from(sorted(target)))
        if data.draw(st.booleans()):
            target.pop(key)
        else:
            target[key] = data.draw(JSON_VALUES)
        path.write_text(json.dumps(doc))


@SETTINGS
@given(
    name=st.sampled_from(FILES),
    how=st.sampled_from(["truncate", "flip", "random", "json-field"]),
    data=st.data(),
)
def test_generated_corrupt_run_directories(capsys, monkeypatch, pristine, name, how, data):
    from ponder.checkpoint import load_array_folder
    from ponder.envs.registry import get_game
    from ponder.errors import PonderError
    from ponder.selfplay.replay import ReplayBuffer, snapshot_problem

    stop_before_ray(monkeypatch)
    stop_before_games(monkeypatch)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        shutil.copytree(pristine, run)
        corrupt(run / name, how, data)
        before = snapshot(run)
        code, _, err = run_cli(capsys, "train", "az", "--resume", str(run))
        check_outcome(code, err)
        assert snapshot(run) == before
        spec = f"{run}/checkpoints/ckpt_000000000@2"
        code, _, err = run_cli(capsys, "pit", spec, "random", "-g", "tic_tac_toe", "-n", "2")
        check_outcome(code, err)
        assert snapshot(run) == before
        # The replay snapshot is read once actors run (and skipped, with a message, when it
        # cannot be used): the loader and the check must hold, and what passes must restore.
        try:
            arrays, meta = load_array_folder(run / "replay", "replay.json")
        except PonderError as exc:
            assert "\n" not in str(exc)
        else:
            problem = snapshot_problem(arrays, meta, get_game("tic_tac_toe"))
            if problem is None:
                ReplayBuffer(5000).restore(arrays, meta)  # the run's train.replay_window
        assert snapshot(run) == before
