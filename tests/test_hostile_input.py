"""Hostile input at the front door: every case a reviewer found ends as one line on stderr with
exit code 2, before anything is written (the run directory byte-for-byte unchanged)."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from az_pipeline_support import tiny_config, write_config
from hostile_support import (
    assert_one_line_error,
    make_run,
    run_cli,
    snapshot,
    stop_before_games,
    stop_before_ray,
)

from ponder.checkpoint import atomic_write_json, save_checkpoint
from ponder.errors import PonderError


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("pristine") / "run")


@pytest.fixture
def run_copy(pristine, tmp_path):
    path = tmp_path / "run"
    shutil.copytree(pristine, path)
    return path


@pytest.fixture
def config(tmp_path):
    return write_config(tmp_path / "c.yaml", tiny_config())


def ckpt(run: Path) -> Path:
    return run / "checkpoints" / "ckpt_000000000"


# -- usage errors: typer's box becomes one line ---------------------------------------------
@pytest.mark.parametrize(
    "args, fragment",
    [
        (["train", "az", "--workers", "0"], "--workers"),
        (["pit", "random", "random", "-g", "tic_tac_toe", "--games", "0"], "--games"),
        (["pit", "random", "random"], "--game"),
        (["frobnicate"], "No such command"),
        (["train", "az", "--bogus"], "--bogus"),
        (["pit", "random", "random", "-g", "tic_tac_toe", "--seed", "x"], "--seed"),
    ],
)
def test_usage_errors_are_one_line(capsys, args, fragment):
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, fragment)


# -- configs and overrides ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "content, fragment",
    [
        (bytes(range(256)) * 4, "not text"),
        (b"game: tic_tac_toe\ngame: connect_four\n", "given twice"),
        (b"train: {lr: 1, lr: 2}\ngame: tic_tac_toe\n", "given twice"),
        (b"\x00\x01", "NUL"),
        (b"[1, 2", "not valid YAML"),
        (b"- a\n- b\n", "mapping"),
    ],
)
def test_bad_config_files(capsys, tmp_path, monkeypatch, content, fragment):
    stop_before_ray(monkeypatch)
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    code, _, err = run_cli(capsys, "train", "az", "-c", str(path), "--out", str(tmp_path / "r"))
    assert_one_line_error(code, err, fragment)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("run.seed=-1", "seed"),
        ("train.lr=.inf", "train.lr"),
        ("train.lr=.nan", "train.lr"),
        ("run.stop_when={solver_los_rate: 0.0}", "solver_los_rate"),
        ("run.stop_when={solver_loss_rate: .inf}", "stop_when"),
        ("train.replay_window=10000000000000", "replay_window"),
        ("eval.simulations=100000000000", "eval.simulations"),
        ("selfplay.search.num_simulations=99999999999", "num_simulations"),
        ("eval.exhaustive=true", "connect_four"),
        ("=3", "key"),
        ("a..b=3", "key"),
        ("run.seed=[", "cannot parse"),
        ("eval.openings=all:x", "openings"),
    ],
)
def test_bad_overrides(capsys, tmp_path, monkeypatch, config, override, fragment):
    stop_before_ray(monkeypatch)
    extra = ["--set", "game=connect_four", "--set", "eval.solver=false"]
    if "exhaustive" not in override:
        extra = []
    out = tmp_path / "r"
    code, _, err = run_cli(
        capsys, "train", "az", "-c", str(config), "--out", str(out), "--set", override, *extra
    )
    assert_one_line_error(code, err, fragment)
    assert not out.exists()


def test_an_evaluation_size_the_machine_cannot_hold_is_refused_up_front(
    capsys, tmp_path, monkeypatch, config
):
    stop_before_ray(monkeypatch)
    monkeypatch.setattr("ponder.config.physical_memory_bytes", lambda: 2**30)
    out = tmp_path / "r"
    code, _, err = run_cli(
        capsys,
        "train",
        "az",
        "-c",
        str(config),
        "--out",
        str(out),
        "--set",
        "eval.simulations=10000000",
    )
    assert_one_line_error(code, err, "evaluation search trees", "GiB")
    assert not out.exists()


def test_dqn_replay_capacity_beyond_any_machine(capsys, tmp_path):
    root = Path(__file__).resolve().parent.parent
    code, _, err = run_cli(
        capsys,
        "train",
        "dqn",
        "-c",
        str(root / "configs/classic/cartpole_dqn.yaml"),
        "--out",
        str(tmp_path / "r"),
        "--set",
        "replay.capacity=1e13",
    )
    assert_one_line_error(code, err, "replay.capacity")
    assert not (tmp_path / "r").exists()


def test_dqn_replay_beyond_this_machine_is_refused_before_the_run_exists(capsys, tmp_path):
    """Within the config's bounds but beyond the machine: one line, and no run directory (the
    replay used to refuse it only after the run had started)."""
    root = Path(__file__).resolve().parent.parent
    code, _, err = run_cli(
        capsys,
        "train",
        "dqn",
        "-c",
        str(root / "configs/atari/pong.yaml"),
        "--out",
        str(tmp_path / "r"),
        "--set",
        "replay.capacity=1000000000",
    )
    assert_one_line_error(code, err, "replay.capacity=1,000,000,000", "GiB")
    assert not (tmp_path / "r").exists()


# -- paths -------------------------------------------------------------------------------------
def test_over_long_paths_and_specs(capsys, tmp_path, monkeypatch, config):
    stop_before_ray(monkeypatch)
    stop_before_games(monkeypatch)
    long = "x" * 5000
    code, _, err = run_cli(capsys, "train", "az", "-c", long)
    assert_one_line_error(code, err, "config file")
    code, _, err = run_cli(capsys, "train", "az", "-c", str(config), "--out", str(tmp_path / long))
    assert_one_line_error(code, err, "too long")
    code, _, err = run_cli(capsys, "pit", "a" * 300, "random", "-g", "tic_tac_toe")
    assert_one_line_error(code, err, "player spec")
    code, _, err = run_cli(capsys, "pit", long + "@3", "random", "-g", "tic_tac_toe")
    assert_one_line_error(code, err)
    code, _, err = run_cli(capsys, "train", "az", "--resume", str(tmp_path / long))
    assert_one_line_error(code, err)
    assert len(err) < 800  # the message names the culprit without quoting it whole


def test_out_naming_a_file(capsys, tmp_path, monkeypatch, config):
    stop_before_ray(monkeypatch)
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    code, _, err = run_cli(capsys, "train", "az", "-c", str(config), "--out", str(target))
    assert_one_line_error(code, err, "is a file")
    assert target.read_text() == "keep me"
    code, _, err = run_cli(capsys, "train", "az", "-c", str(config), "--out", str(target / "sub"))
    assert_one_line_error(code, err, "not a directory")


def test_pit_json_naming_a_directory_fails_before_any_game(capsys, tmp_path, monkeypatch):
    stop_before_games(monkeypatch)  # a game would raise Reached: the error must come first
    for option in ("--json", "--csv", "--games-out", "--ratings-file"):
        code, _, err = run_cli(
            capsys, "pit", "random", "random", "-g", "tic_tac_toe", option, str(tmp_path)
        )
        assert_one_line_error(code, err, option, "directory")


def test_an_address_where_no_ray_listens(capsys, tmp_path, config):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "r"
    start = time.monotonic()
    code, _, err = run_cli(
        capsys,
        "train",
        "az",
        "-c",
        str(config),
        "--out",
        str(out),
        "--address",
        f"127.0.0.1:{port}",
    )
    assert_one_line_error(code, err, "no Ray cluster answers")
    assert time.monotonic() - start < 20
    assert not out.exists()


# -- player specs ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("uct:١٠", "simulations"),
        ("uct:²", "simulations"),
        ("uct:10:c=nan", "c="),
        ("uct:10:c=inf", "c="),
        ("uct:10:c=1e999", "finite"),
        ("uct:10:rollouts=٣", "rollouts"),
        ("uct:100000000000", "limit"),
        ("openspiel:mcts:10:c=nan", "c="),
        ("uct:10\x00", "control"),
    ],
)
def test_bad_player_specs(capsys, monkeypatch, spec, fragment):
    stop_before_games(monkeypatch)
    start = time.monotonic()
    code, _, err = run_cli(capsys, "pit", spec, "random", "-g", "tic_tac_toe")
    assert_one_line_error(code, err, fragment)
    assert time.monotonic() - start < 30  # uct:10:c=nan used to loop forever


def test_checkpoint_specs_with_non_ascii_digits(capsys, pristine):
    code, _, err = run_cli(capsys, "pit", f"{ckpt(pristine)}@١٠", "random", "-g", "tic_tac_toe")
    assert_one_line_error(code, err, "PATH@N")


def test_openings_with_non_ascii_digits(capsys, monkeypatch):
    stop_before_games(monkeypatch)
    code, _, err = run_cli(
        capsys, "pit", "random", "random", "-g", "tic_tac_toe", "--openings", "all:٢"
    )
    assert code in (2, -1)
    if code == 2:
        assert_one_line_error(code, err, "openings")


# -- run directories: pointers, metadata, weights ----------------------------------------------
def resume(capsys, monkeypatch, run, *extra):
    stop_before_ray(monkeypatch)
    before = snapshot(run)
    code, out, err = run_cli(capsys, "train", "az", "--resume", str(run), *extra)
    assert snapshot(run) == before, "a refused resume changed the run directory"
    return code, out, err


@pytest.mark.parametrize(
    "pointer, fragment",
    [
        (b"[]", "does not hold"),
        (bytes(range(256)), "unreadable"),
        (b'{"checkpoint": "../../config"}', "refusing to follow"),
        (b'{"checkpoint": "/etc/passwd"}', "refusing to follow"),
        (b'{"checkpoint": 7}', "refusing to follow"),
        (b'{"checkpoint": "ckpt_000000009"}', "not found"),
        (b"[" * 100000, "unreadable"),
    ],
)
def test_hostile_latest_pointer(capsys, monkeypatch, run_copy, pointer, fragment):
    (run_copy / "checkpoints" / "latest.json").write_bytes(pointer)
    code, _, err = resume(capsys, monkeypatch, run_copy)
    assert_one_line_error(code, err, fragment)


def edit_meta(run, change):
    path = ckpt(run).with_suffix(".json")
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda m: m.pop("trainer"), "weights only"),
        (lambda m: m["trainer"].pop("step"), "'trainer.step' is missing"),
        (lambda m: m["trainer"].update(step="12"), "trainer.step"),
        (lambda m: m["trainer"].update(augment_rng=[]), "trainer.augment_rng"),
        (lambda m: m.update(step=-4), "'step'"),
        (lambda m: m.update(network={"channels": "many"}), "network.channels"),
        (lambda m: m.update(weights_bytes="12"), "weights_bytes"),
        (lambda m: m.update(pipeline=[1, 2]), "pipeline"),
        (lambda m: m["pipeline"].update(games="lots"), "pipeline.games"),
        (lambda m: m["pipeline"].update(games=-1), "pipeline.games"),
        (lambda m: m.update(algorithm="dqn"), "algorithm"),
        (lambda m: m.pop("network"), "'network' is missing"),
    ],
)
def test_hostile_metadata_on_resume(capsys, monkeypatch, run_copy, change, fragment):
    edit_meta(run_copy, change)
    code, _, err = resume(capsys, monkeypatch, run_copy)
    assert_one_line_error(code, err, fragment)


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda m: m.pop("network"), "'network' is missing"),
        (lambda m: m.update(network={"blocks": -1}), "network.blocks"),
        (lambda m: m.update(format_version="1"), "unknown metadata format"),
        (lambda m: m.update(weights_sha256="zz"), "weights_sha256"),
    ],
)
def test_hostile_metadata_in_a_player(capsys, monkeypatch, run_copy, change, fragment):
    stop_before_games(monkeypatch)
    edit_meta(run_copy, change)
    code, _, err = run_cli(capsys, "pit", f"{ckpt(run_copy)}@2", "random", "-g", "tic_tac_toe")
    assert_one_line_error(code, err, fragment)


def test_resume_with_a_network_override_leaves_the_run_unchanged(capsys, monkeypatch, run_copy):
    """The 69-line ActorDiedError case: the shape mismatch is found before any actor starts,
    and config.yaml is not rewritten, so a plain --resume still works afterwards."""
    code, _, err = resume(capsys, monkeypatch, run_copy, "--set", "network.channels=64")
    assert_one_line_error(code, err, "network channels=16 does not match the config's 64")
    code, _, _ = resume(capsys, monkeypatch, run_copy)
    assert code == -1  # the plain resume passes every check and would start Ray


def test_resume_with_mismatched_tensor_shapes(capsys, monkeypatch, run_copy):
    from safetensors.torch import load_file

    from ponder.checkpoint import read_metadata

    meta = read_metadata(ckpt(run_copy))
    tensors = load_file(str(ckpt(run_copy).with_suffix(".safetensors")))
    name = next(k for k in tensors if k.endswith("policy_fc.weight"))
    tensors[name] = torch.zeros(3, 3)
    save_checkpoint(ckpt(run_copy), tensors, meta)
    code, _, err = resume(capsys, monkeypatch, run_copy)
    assert_one_line_error(code, err, "policy_fc.weight", "has shape (3, 3)")


def test_nan_weights_are_refused_as_a_player_and_on_resume(capsys, monkeypatch, run_copy):
    from safetensors.torch import load_file, save_file

    from ponder.checkpoint import read_metadata

    stop_before_games(monkeypatch)
    meta = read_metadata(ckpt(run_copy))
    tensors = load_file(str(ckpt(run_copy).with_suffix(".safetensors")))
    name = next(k for k in tensors if k.startswith("model/") and k.endswith("weight"))
    tensors[name] = torch.full_like(tensors[name], float("nan"))
    # save_checkpoint refuses NaN (the learner cannot write one): forge it the way a disk would.
    path = ckpt(run_copy).with_suffix(".safetensors")
    save_file(tensors, str(path))
    import hashlib

    blob = path.read_bytes()
    meta.update(weights_sha256=hashlib.sha256(blob).hexdigest(), weights_bytes=len(blob))
    atomic_write_json(ckpt(run_copy).with_suffix(".json"), meta)
    code, _, err = run_cli(capsys, "pit", f"{ckpt(run_copy)}@4", "random", "-g", "tic_tac_toe")
    assert_one_line_error(code, err, "NaN")
    code, _, err = resume(capsys, monkeypatch, run_copy)
    assert_one_line_error(code, err, "NaN")


def test_truncated_weights(capsys, monkeypatch, run_copy):
    stop_before_games(monkeypatch)
    path = ckpt(run_copy).with_suffix(".safetensors")
    path.write_bytes(path.read_bytes()[:100])
    code, _, err = run_cli(capsys, "pit", f"{ckpt(run_copy)}@4", "random", "-g", "tic_tac_toe")
    assert_one_line_error(code, err, "truncated or corrupted")
    code, _, err = resume(capsys, monkeypatch, run_copy)
    assert_one_line_error(code, err, "truncated or corrupted")


# -- non-finite numbers where they appear ------------------------------------------------------
def test_a_non_finite_loss_stops_training_before_the_weights_change():
    from ponder.agents.alphazero.config import AZConfig
    from ponder.agents.alphazero.learner import AZLearner
    from ponder.agents.alphazero.samples import Samples
    from ponder.envs.registry import get_game

    game = get_game("tic_tac_toe")
    trainer = AZLearner(game, AZConfig.model_validate(tiny_config()))
    n = 8
    batch = Samples(
        planes=np.full((n, *game.obs_shape), np.nan, dtype=np.float32),
        policy=np.full((n, game.num_actions), 1 / game.num_actions, dtype=np.float32),
        value=np.zeros(n, dtype=np.float32),
        legal=np.ones((n, game.num_actions), dtype=np.bool_),
        policy_weight=np.ones(n, dtype=np.float32),
    )
    before = {k: v.clone() for k, v in trainer.weights().items()}
    with pytest.raises(PonderError, match="training diverged at learner step 0"):
        trainer.train_step(batch)
    after = trainer.weights()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert trainer.step == 0


def test_nan_tensors_are_never_written_and_json_stays_json(tmp_path):
    from ponder.rundir import RunDir

    with pytest.raises(PonderError, match="NaN or infinite"):
        save_checkpoint(tmp_path / "c", {"model/w": torch.tensor([1.0, float("inf")])}, {})
    assert not (tmp_path / "c.json").exists()
    run = RunDir.create(tmp_path / "run", prefix="x")
    run.log(1, {"loss": float("nan"), "lr": float("inf"), "ok": 1.0})
    line = (run.path / "metrics.jsonl").read_text()
    assert json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))["loss"] is None
    atomic_write_json(tmp_path / "x.json", {"elo": float("inf")})
    assert "Infinity" not in (tmp_path / "x.json").read_text()


def test_a_network_that_outputs_nan_is_refused_as_a_player():
    from ponder.agents.alphazero.config import NetworkConfig
    from ponder.agents.alphazero.network import PolicyValueNet
    from ponder.agents.alphazero.player import network_player
    from ponder.envs.registry import get_game

    game = get_game("tic_tac_toe")
    net = PolicyValueNet(game, NetworkConfig(blocks=1, channels=8, value_hidden=8))
    with torch.no_grad():
        next(net.parameters()).fill_(float("nan"))
    with pytest.raises(PonderError, match="outputs NaN"):
        network_player(net, game, NetworkConfig(), 4, 0.0, "nan-net")


def test_user_errors_inside_ray_actors_are_found():
    """Ray's wrappers: a task error's cause, and the text of an ActorDiedError whose actor
    failed in its constructor (the cause itself is not kept)."""
    from ponder.errors import user_error_in

    class ActorDiedError(Exception):
        pass

    died = ActorDiedError(
        "The actor died because of an error raised in its creation task, ray::Learner.__init__"
        "\nTraceback (most recent call last):\n  File x\nponder.errors.PonderError: checkpoint "
        "c: network channels=16 does not match the config's 64\n"
    )
    found = user_error_in(died)
    assert found is not None and str(found).startswith("checkpoint c: network channels=16")

    class RayTaskError(Exception):
        def __init__(self, cause):
            super().__init__("Traceback ...\nlots of lines")
            self.cause = cause

    assert str(user_error_in(RayTaskError(PonderError("bad spec")))) == "bad spec"
    assert user_error_in(RayTaskError(ValueError("a bug"))) is None


# -- found while probing the other commands (not in the review's list) -------------------------
@pytest.mark.parametrize(
    "args, fragment",
    [
        (["pit", "random", "random", "-g", "tic_tac_toe", "-n", "2", "--seed", "-1"], "seed -1"),
        (["play", "random", "-g", "tic_tac_toe", "--seed", "-1"], "seed -1"),
        (["watch", "random", "random", "-g", "tic_tac_toe", "--seed", "-3"], "seed -3"),
        (
            ["pit", "random", "random", "-g", "tic_tac_toe", "--openings", "random:2:100000000"],
            "give 1 to",
        ),
        (["pit", "random", "random", "-g", "tic_tac_toe", "--sprt", "elo0=nan,elo1=5"], "finite"),
        (["pit", "random", "uct:5", "-g", "tic_tac_toe", "--bootstrap", "10000000000"], "100000"),
        (["watch", "random", "random", "-g", "tic_tac_toe", "--delay", "inf"], "--delay"),
        (["pit", "random", "random", "-g", "openspiel:tic_tac_toe(x=1)"], "Unknown parameter"),
        (["pit", "random", "random", "-g", "tic_tac_toe", "-n", "99999999999999"], "limit"),
    ],
)
def test_more_hostile_options(capsys, args, fragment):
    start = time.monotonic()
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, fragment)
    assert time.monotonic() - start < 60  # the openings and game counts used to run for ever


# -- DQN run directories -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def dqn_run(tmp_path_factory):
    from ponder import cli

    root = Path(__file__).resolve().parent.parent
    out = tmp_path_factory.mktemp("dqn") / "run"
    with pytest.raises(SystemExit) as info:
        cli.main(
            [
                *("train", "dqn", "-c", str(root / "configs/classic/cartpole_dqn.yaml")),
                *("--out", str(out), "--quiet"),
                *("--set", "run.steps=300", "--set", "train.learning_starts=100"),
                *("--set", "checkpoint.every=300", "--set", "eval.every=300"),
                *("--set", "eval.episodes=1"),
            ]
        )
    assert info.value.code == 0
    return out


@pytest.mark.parametrize(
    "change, fragment, watch_fails",
    [
        (lambda m: m.pop("counters"), "weights only", False),
        (lambda m: m["counters"].update(step="many"), "counters.step", False),
        (lambda m: m["network"].update(stack=0), "network.stack", True),
        (lambda m: m.update(env=[]), "'env'", True),
        (lambda m: m["learner"].pop("updates"), "'learner.updates' is missing", True),
        (lambda m: m.update(rng={"state": 1}), "'rng'", False),
        (lambda m: m.update(last_eval={"step": 1}), "last_eval", False),
    ],
)
def test_hostile_dqn_metadata(capsys, tmp_path, dqn_run, change, fragment, watch_fails):
    run = tmp_path / "run"
    shutil.copytree(dqn_run, run)
    meta_path = next((run / "checkpoints").glob("ckpt_*.json"))
    meta = json.loads(meta_path.read_text())
    change(meta)
    meta_path.write_text(json.dumps(meta))
    before = snapshot(run)
    code, _, err = run_cli(capsys, "train", "dqn", "--resume", str(run), "--set", "run.seed=3")
    assert_one_line_error(code, err, fragment)
    assert snapshot(run) == before  # config.yaml not rewritten with seed=3
    if watch_fails:
        code, _, err = run_cli(capsys, "watch", str(run))
        assert_one_line_error(code, err, fragment)


def test_dqn_address_is_checked_before_the_run_directory(capsys, tmp_path):
    root = Path(__file__).resolve().parent.parent
    config = str(root / "configs/classic/cartpole_dqn.yaml")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "r"
    code, _, err = run_cli(
        capsys, "train", "dqn", "-c", config, "--out", str(out), "--address", f"127.0.0.1:{port}"
    )
    assert_one_line_error(code, err, "--actors N")
    code, _, err = run_cli(
        capsys,
        *("train", "dqn", "-c", config, "--out", str(out), "--actors", "1"),
        *("--address", f"127.0.0.1:{port}"),
    )
    assert_one_line_error(code, err, "no Ray cluster answers")
    assert not out.exists()


def test_outputs_that_are_not_regular_files_are_refused(capsys, tmp_path, monkeypatch):
    """Outputs are renamed into place: a FIFO (or, run as root, /dev/full) would be replaced."""
    import os

    stop_before_games(monkeypatch)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = run_cli(
        capsys, "pit", "random", "random", "-g", "tic_tac_toe", "--json", str(fifo)
    )
    assert_one_line_error(code, err, "not a regular file")
    assert fifo.is_fifo()
