"""The DQN update against hand-computed targets (vanilla and Double DQN), the dueling head,
target-network updates (hard and Polyak), importance weights, and an exact learner resume
through a safetensors checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ponder.agents.dqn.config import DQNConfig
from ponder.agents.dqn.learner import DQNLearner, epsilon_greedy
from ponder.agents.dqn.replay import Batch
from ponder.checkpoint import load_checkpoint, save_checkpoint

ACTIONS = 3


def config(**agent) -> DQNConfig:
    return DQNConfig.model_validate(
        {
            "run": {"device": "cpu"},
            "env": {"type": "classic", "game": "CartPole-v1"},
            "network": {"torso": "mlp", "mlp_hidden": [16], "head_hidden": 8, "dueling": True},
            "agent": {"lr": 1e-2, "max_grad_norm": None, **agent},
        }
    )


def batch(seed=0, size=16) -> Batch:
    rng = np.random.default_rng(seed)
    return Batch(
        index=np.arange(size),
        obs=rng.normal(size=(size, 1, 4)).astype(np.float32),
        next_obs=rng.normal(size=(size, 1, 4)).astype(np.float32),
        actions=rng.integers(0, ACTIONS, size).astype(np.uint8),
        returns=rng.normal(size=size).astype(np.float32),
        discounts=rng.choice([0.0, 0.9, 0.81], size).astype(np.float32),
        probs=np.full(size, 1.0 / size),
        weights=rng.uniform(0.2, 1.0, size).astype(np.float32),
    )


def learner(**agent) -> DQNLearner:
    torch.manual_seed(0)
    out = DQNLearner(config(**agent), 1, (4,), ACTIONS)
    # A target net that differs from the online one, so vanilla and double targets differ.
    with torch.no_grad():
        for p in out.target.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    return out


def expected_td(model: DQNLearner, b: Batch, double: bool) -> tuple[np.ndarray, float]:
    obs, nxt = torch.from_numpy(b.obs), torch.from_numpy(b.next_obs)
    with torch.no_grad():
        q_all = model.online(obs).numpy()
        q_next_online = model.online(nxt).numpy()
        q_next_target = model.target(nxt).numpy()
    rows = np.arange(len(b.actions))
    q = q_all[rows, b.actions]
    pick = q_next_online.argmax(1) if double else q_next_target.argmax(1)
    y = b.returns + b.discounts * q_next_target[rows, pick]
    td = y - q
    huber = np.where(np.abs(td) < 1, 0.5 * td**2, np.abs(td) - 0.5)
    return np.abs(td), float(np.mean(b.weights * huber))


@pytest.mark.parametrize("double", [False, True])
def test_update_matches_hand_computed_targets(double):
    model = learner(double=double)
    b = batch()
    want_td, want_loss = expected_td(model, b, double)
    td, loss = model.update(b)
    np.testing.assert_allclose(td, want_td, rtol=1e-5, atol=1e-6)
    assert loss == pytest.approx(want_loss, rel=1e-5)


def test_double_and_vanilla_targets_differ_when_the_nets_disagree():
    b = batch(seed=1)
    td_double, _ = expected_td(learner(double=True), b, True)
    td_vanilla, _ = expected_td(learner(double=False), b, False)
    assert not np.allclose(td_double, td_vanilla)


def test_dueling_head_centres_the_advantages():
    model = learner()
    x = torch.randn(5, 1, 4)
    with torch.no_grad():
        features = model.online.torso(x)
        value = model.online.value(features)
        advantage = model.online.advantage(features)
        q = model.online(x)
    torch.testing.assert_close(q, value + advantage - advantage.mean(1, keepdim=True))


def test_hard_target_copies_every_period_and_polyak_blends_each_update():
    model = learner(target_update="hard", target_period=3)
    b = batch()
    for k in range(1, 7):
        model.update(b)
        same = all(
            torch.equal(p, q)
            for p, q in zip(model.online.parameters(), model.target.parameters(), strict=True)
        )
        assert same == (k % 3 == 0)

    model = learner(target_update="polyak", target_tau=0.25)
    before = [p.clone() for p in model.target.parameters()]
    model.update(b)
    for old, new, online in zip(
        before, model.target.parameters(), model.online.parameters(), strict=True
    ):
        torch.testing.assert_close(new, 0.75 * old + 0.25 * online)


def test_zero_importance_weight_removes_a_sample_from_the_gradient():
    b = batch(size=4)
    b.weights[:] = [1.0, 0.0, 0.0, 0.0]
    first = learner()
    first.update(b)
    only = batch(size=4)
    for name in ("obs", "next_obs", "actions", "returns", "discounts"):
        getattr(only, name)[1:] = getattr(only, name)[0]  # three copies of sample 0 ...
    only.weights[:] = [1.0, 0.0, 0.0, 0.0]
    second = learner()
    second.update(only)  # ... weighted out: same gradient as above
    for p, q in zip(first.online.parameters(), second.online.parameters(), strict=True):
        torch.testing.assert_close(p, q)


def test_epsilon_greedy_per_env_rates():
    q = torch.tensor([[0.0, 1.0, 0.0]] * 2000)
    rng = np.random.default_rng(0)
    eps = np.where(np.arange(2000) < 1000, 0.0, 1.0)
    actions = epsilon_greedy(q, eps, rng)
    assert (actions[:1000] == 1).all()
    assert abs((actions[1000:] == 1).mean() - 1 / 3) < 0.06


def test_checkpoint_round_trip_resumes_the_learner_exactly(tmp_path):
    model = learner(target_update="polyak")
    for k in range(5):
        model.update(batch(seed=k))
    tensors, meta = model.state_tensors()
    save_checkpoint(tmp_path / "ckpt", tensors, {"learner": meta})
    rng_state = torch.get_rng_state()

    copy = learner(target_update="polyak")
    copy.load_state(load_checkpoint(tmp_path / "ckpt"))
    assert copy.updates == model.updates
    assert torch.equal(torch.get_rng_state(), rng_state)
    next_batch = batch(seed=99)
    td_a, loss_a = model.update(next_batch)
    td_b, loss_b = copy.update(next_batch)
    assert loss_a == loss_b
    np.testing.assert_array_equal(td_a, td_b)
    for net in ("online", "target"):
        for p, q in zip(
            getattr(model, net).parameters(), getattr(copy, net).parameters(), strict=True
        ):
            assert torch.equal(p, q)


def test_random_shift_matches_a_padded_random_crop():
    from ponder.agents.dqn.learner import random_shift

    frames = torch.randint(0, 256, (6, 4, 84, 84), dtype=torch.uint8)
    generator = torch.Generator().manual_seed(3)
    shifted = random_shift(frames, 4, generator)
    offsets = torch.randint(-4, 5, (2, 6), generator=torch.Generator().manual_seed(3))
    padded = torch.nn.functional.pad(frames.float(), (4, 4, 4, 4), mode="replicate")
    for b in range(6):
        top, left = 4 + int(offsets[0, b]), 4 + int(offsets[1, b])
        crop = padded[b, :, top : top + 84, left : left + 84].to(torch.uint8)
        assert torch.equal(shifted[b], crop)
    assert shifted.dtype == torch.uint8 and not torch.equal(shifted, frames)


def test_augmented_update_runs_and_resumes_its_generator(tmp_path):
    cfg = DQNConfig.model_validate(
        {"run": {"device": "cpu"}, "agent": {"augment": "random_shift"}, "train": {"batch_size": 4}}
    )
    rng = np.random.default_rng(0)
    b = Batch(
        index=np.arange(4),
        obs=rng.integers(0, 256, (4, 4, 84 * 84), dtype=np.uint8),
        next_obs=rng.integers(0, 256, (4, 4, 84 * 84), dtype=np.uint8),
        actions=np.zeros(4, np.uint8),
        returns=np.ones(4, np.float32),
        discounts=np.full(4, 0.9, np.float32),
        probs=np.full(4, 0.25),
        weights=np.ones(4, np.float32),
    )
    torch.manual_seed(0)
    model = DQNLearner(cfg, 4, (84, 84), 4)
    model.update(b)
    tensors, meta = model.state_tensors()
    save_checkpoint(tmp_path / "ckpt", tensors, {"learner": meta})
    torch.manual_seed(1)
    copy = DQNLearner(cfg, 4, (84, 84), 4)
    copy.load_state(load_checkpoint(tmp_path / "ckpt"))
    assert model.update(b)[1] == copy.update(b)[1]
    with pytest.raises(ValueError, match="augment"):
        config(augment="random_shift")


def test_mixed_precision_on_the_cpu_tracks_float32():
    """`train.mixed_precision` runs the forward passes in bfloat16 on the CPU: the TD errors
    stay close to float32's and the weights stay float32."""
    cfg = config()
    amp_cfg = cfg.model_copy(
        update={"train": cfg.train.model_copy(update={"mixed_precision": True})}
    )
    torch.manual_seed(0)
    full = DQNLearner(cfg, 1, (4,), ACTIONS)
    torch.manual_seed(0)
    amp = DQNLearner(amp_cfg, 1, (4,), ACTIONS)
    assert amp.amp_dtype == torch.bfloat16 and full.amp_dtype is None
    b = batch(seed=3)
    td_full, loss_full = full.update(b)
    assert np.isfinite(loss_full)
    td_amp, loss_amp = amp.update(b)
    assert np.isfinite(loss_amp)
    np.testing.assert_allclose(td_amp, td_full, atol=0.05, rtol=0.05)
    assert all(p.dtype == torch.float32 for p in amp.online.parameters())
    assert amp.q_values(b.obs).dtype == torch.float32
