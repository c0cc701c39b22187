"""AZLearner: it learns a tiny batch, resumes bit-exactly, and rejects foreign checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from az_core_support import one_torch_thread, random_positions  # noqa: F401

from ponder.agents.alphazero.config import AZConfig
from ponder.agents.alphazero.learner import AZLearner, checkpoint_metadata, lr_at, wdl_targets
from ponder.agents.alphazero.samples import Samples
from ponder.checkpoint import load_checkpoint, save_checkpoint
from ponder.envs.registry import get_game
from ponder.errors import PonderError


def tiny_config(**train: object) -> AZConfig:
    data = {
        "game": "tic_tac_toe",
        "network": {"blocks": 1, "channels": 16, "value_hidden": 16},
        "train": {"batch_size": 16, "lr": 3e-3, **train},
    }
    if train.get("value_loss") == "wdl":
        data["network"]["value_head"] = "wdl"
    return AZConfig.model_validate(data)


def tiny_batch(game, n: int, seed: int) -> Samples:
    """Random tic-tac-toe positions with random (normalised, legal) targets and results."""
    rng = np.random.default_rng(seed)
    states, legal = random_positions(game, n, seed, max_plies=4)
    policy = rng.random((n, game.num_actions)) * legal
    policy /= policy.sum(axis=1, keepdims=True)
    return Samples(
        planes=game.encode_batch(states),
        policy=policy.astype(np.float32),
        value=rng.choice([-1.0, 0.0, 1.0], size=n).astype(np.float32),
        legal=legal,
        policy_weight=np.ones(n, np.float32),
    )


@pytest.mark.parametrize("value_loss", ["mse", "wdl"])
def test_overfits_a_tiny_batch(value_loss: str) -> None:
    game = get_game("tic_tac_toe")
    trainer = AZLearner(game, tiny_config(value_loss=value_loss, augment=False))
    batch = tiny_batch(game, 16, seed=1)
    first = trainer.train_step(batch)
    for _ in range(150):
        last = trainer.train_step(batch)
    assert last["value_loss"] < 0.2 * first["value_loss"]
    # The policy loss cannot drop below the targets' entropy; it must approach it.
    entropy = -(batch.policy * np.log(np.where(batch.policy > 0, batch.policy, 1))).sum(1).mean()
    assert last["policy_loss"] - entropy < 0.3 * (first["policy_loss"] - entropy)
    assert trainer.step == 151 and trainer.samples_trained == 151 * 16


def test_policy_weight_zero_removes_policy_gradient() -> None:
    game = get_game("tic_tac_toe")
    batch = tiny_batch(game, 8, seed=2)
    batch.policy_weight[:] = 0.0
    trainer = AZLearner(game, tiny_config(augment=False))
    losses = trainer.train_step(batch)
    assert losses["policy_loss"] == 0.0
    assert losses["total"] == pytest.approx(losses["value_loss"])


def test_lr_schedule_and_wdl_targets() -> None:
    cfg = tiny_config(lr=0.1, lr_schedule=[(10, 0.01), (20, 0.001)])
    assert [lr_at(cfg, s) for s in (0, 9, 10, 19, 20, 10_000)] == [
        0.1,
        0.1,
        0.01,
        0.01,
        0.001,
        0.001,
    ]
    targets = wdl_targets(torch.tensor([1.0, 0.0, -1.0]))
    assert torch.equal(targets, torch.eye(3))


def test_checkpoint_round_trip_gives_identical_next_step(tmp_path) -> None:
    game = get_game("tic_tac_toe")
    cfg = tiny_config(optimizer="adam", augment=True)
    trainer = AZLearner(game, cfg)
    for seed in range(3):
        trainer.train_step(tiny_batch(game, 16, seed=seed))
    tensors, meta = trainer.checkpoint({"positions": 123})
    assert meta["game"] == "tic_tac_toe" and meta["algorithm"] == "alphazero"
    assert meta["step"] == 3 and meta["compute"] == {"positions": 123}
    save_checkpoint(tmp_path / "ckpt", tensors, meta)

    resumed = AZLearner(
        game, cfg.model_copy(update={"run": cfg.run.model_copy(update={"seed": 99})})
    )
    resumed.restore(load_checkpoint(tmp_path / "ckpt"))
    assert resumed.step == 3 and resumed.samples_trained == 48

    batch = tiny_batch(game, 16, seed=10)
    want = trainer.train_step(batch)
    got = resumed.train_step(batch)
    assert got == want
    for key, value in trainer.net.state_dict().items():
        assert torch.equal(value, resumed.net.state_dict()[key]), key


def test_sgd_restore_and_mismatches(tmp_path) -> None:
    game = get_game("tic_tac_toe")
    cfg = tiny_config(optimizer="sgd")
    trainer = AZLearner(game, cfg)
    trainer.train_step(tiny_batch(game, 16, seed=0))
    tensors, extra = trainer.checkpoint_tensors()
    meta = checkpoint_metadata(game, cfg, trainer.step, {}, trainer_state=extra)
    save_checkpoint(tmp_path / "good", tensors, meta)

    wider = cfg.model_copy(update={"network": cfg.network.model_copy(update={"channels": 32})})
    with pytest.raises(PonderError, match="channels"):
        AZLearner(game, wider).restore(load_checkpoint(tmp_path / "good"))

    adam = cfg.model_copy(update={"train": cfg.train.model_copy(update={"optimizer": "adam"})})
    with pytest.raises(PonderError, match="optimizer 'sgd'"):
        AZLearner(game, adam).restore(load_checkpoint(tmp_path / "good"))

    other_game = {**meta, "game": "connect_four"}
    save_checkpoint(tmp_path / "other", tensors, other_game)
    with pytest.raises(PonderError, match="connect_four"):
        AZLearner(game, cfg).restore(load_checkpoint(tmp_path / "other"))

    weights_only = {k: v for k, v in meta.items() if k != "trainer"}
    save_checkpoint(tmp_path / "weights", tensors, weights_only)
    with pytest.raises(PonderError, match="no trainer state"):
        AZLearner(game, cfg).restore(load_checkpoint(tmp_path / "weights"))


def test_mixed_precision_stays_off_on_the_cpu() -> None:
    game = get_game("tic_tac_toe")
    trainer = AZLearner(game, tiny_config(mixed_precision=True), device="cpu")
    assert trainer.amp_dtype is None and not trainer.scaler.is_enabled()
    losses = trainer.train_step(tiny_batch(game, 8, seed=0))
    assert all(np.isfinite(v) for v in losses.values())
    assert trainer.checkpoint_tensors()[1]["scaler"] is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_mixed_precision_learns_and_matches_cpu_outputs() -> None:
    from ponder.agents.alphazero.evaluator import TorchEvaluator

    game = get_game("tic_tac_toe")
    trainer = AZLearner(game, tiny_config(mixed_precision=True, augment=False), device="cuda")
    assert trainer.amp_dtype in (torch.bfloat16, torch.float16)
    batch = tiny_batch(game, 16, seed=1)
    first = trainer.train_step(batch)
    for _ in range(100):
        last = trainer.train_step(batch)
    assert last["total"] < first["total"]
    cpu_net = AZLearner(game, tiny_config()).net
    cpu_net.load_state_dict(trainer.weights())
    on_gpu = TorchEvaluator(trainer.net, device="cuda")(batch.planes, batch.legal)
    on_cpu = TorchEvaluator(cpu_net, device="cpu")(batch.planes, batch.legal)
    np.testing.assert_allclose(on_gpu[0], on_cpu[0], atol=0.05)
    np.testing.assert_allclose(on_gpu[1], on_cpu[1], atol=0.05)
