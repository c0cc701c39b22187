"""Checkpoint I/O: atomic safetensors + JSON, validated loads, optimizer state round trip."""

from __future__ import annotations

import json

import pytest
import torch

from ponder.checkpoint import (
    load_checkpoint,
    load_state_dict_checked,
    optimizer_state_to_tensors,
    save_checkpoint,
    tensors_to_optimizer_state,
)
from ponder.errors import PonderError
from ponder.rundir import RunDir, is_log_spaced


def tiny_net(width: int = 4) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(3, width), torch.nn.ReLU(), torch.nn.Linear(width, 2)
    )


def test_round_trip_and_metadata(tmp_path):
    net = tiny_net()
    stem = save_checkpoint(tmp_path / "ckpt", net.state_dict(), {"game": "tic_tac_toe", "step": 3})
    ckpt = load_checkpoint(stem.with_suffix(".safetensors"), expect={"game": "tic_tac_toe"})
    assert ckpt.metadata["step"] == 3 and ckpt.metadata["format_version"] == 1
    other = tiny_net()
    load_state_dict_checked(other, ckpt.tensors, "ckpt")
    for a, b in zip(net.parameters(), other.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not list(tmp_path.glob("*.tmp")), "temporary files must not be left behind"


def test_wrong_game_truncated_corrupted_missing(tmp_path):
    stem = save_checkpoint(tmp_path / "ckpt", tiny_net().state_dict(), {"game": "hex_5"})
    with pytest.raises(PonderError, match="game='hex_5', expected 'connect_four'"):
        load_checkpoint(stem, expect={"game": "connect_four"})
    weights = stem.with_suffix(".safetensors")
    blob = weights.read_bytes()
    weights.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(PonderError, match="truncated or corrupted"):
        load_checkpoint(stem)
    weights.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(PonderError, match="truncated or corrupted"):
        load_checkpoint(stem)
    stem.with_suffix(".json").write_text("{not json")
    with pytest.raises(PonderError, match="not valid JSON"):
        load_checkpoint(stem)
    with pytest.raises(PonderError, match="not found"):
        load_checkpoint(tmp_path / "absent")


def test_shape_mismatch_names_the_tensor(tmp_path):
    stem = save_checkpoint(tmp_path / "ckpt", tiny_net(4).state_dict(), {})
    with pytest.raises(PonderError, match=r"tensor '0.weight' has shape \(4, 3\)"):
        load_state_dict_checked(tiny_net(8), load_checkpoint(stem).tensors, "ckpt")


def test_optimizer_state_round_trip(tmp_path):
    net = tiny_net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        net(torch.randn(5, 3)).pow(2).mean().backward()
        opt.step()
    tensors, extra = optimizer_state_to_tensors(opt.state_dict())
    stem = save_checkpoint(tmp_path / "ckpt", tensors, {"optimizer": extra})
    ckpt = load_checkpoint(stem)
    restored = tensors_to_optimizer_state(ckpt.tensors, json.loads(json.dumps(extra)))
    opt2 = torch.optim.Adam(tiny_net().parameters(), lr=1e-2)
    opt2.load_state_dict(restored)
    for pid, slots in opt.state_dict()["state"].items():
        for name, value in slots.items():
            assert torch.equal(
                torch.as_tensor(value), torch.as_tensor(opt2.state_dict()["state"][pid][name])
            )


def test_rundir_latest_pointer_survives_torn_write(tmp_path):
    run = RunDir.create(tmp_path / "run", "test")
    run.write_config("game: tic_tac_toe\n")
    run.save_checkpoint(10, tiny_net().state_dict(), {"game": "tic_tac_toe", "step": 10})
    # A kill in the middle of the next save leaves a partial weights file and no metadata:
    (run.checkpoints / "ckpt_000000020.safetensors").write_bytes(b"\x00" * 10)
    assert run.latest_checkpoint().name == "ckpt_000000010"
    assert run.load_latest(expect={"game": "tic_tac_toe"}).metadata["step"] == 10
    for step in (20, 30, 40):
        run.save_checkpoint(step, tiny_net().state_dict(), {"step": step}, keep=2)
    assert sorted(p.name for p in run.checkpoints.glob("ckpt_*.json")) == [
        "ckpt_000000030.json",
        "ckpt_000000040.json",
    ]
    run.log(1, {"loss": 0.5, "note": "x"})
    assert run.read_metrics()[0]["loss"] == 0.5
    run.close()
    with pytest.raises(PonderError, match="not empty"):
        RunDir.create(tmp_path / "run", "test")
    with pytest.raises(PonderError, match="not a ponder run directory"):
        RunDir.open(tmp_path / "elsewhere")


def test_log_spaced_keep_policy_keeps_two_per_doubling(tmp_path):
    assert [n for n in range(1, 50) if is_log_spaced(n)] == [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48]
    run = RunDir.create(tmp_path / "run", "test")
    for step in range(10, 410, 10):  # 40 checkpoints, cadence 10
        run.save_checkpoint(step, tiny_net().state_dict(), {"step": step}, 2, log_spaced_every=10)
    kept = sorted(int(p.stem.removeprefix("ckpt_")) for p in run.checkpoints.glob("ckpt_*.json"))
    assert kept == [10, 20, 30, 40, 60, 80, 120, 160, 240, 320, 390, 400]
    run.close()
