"""Every inference backend answers what eager float32 torch answers, within its stated
tolerance, before and after new weights arrive; bad choices fail in one line."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from az_core_support import one_torch_thread, random_positions  # noqa: F401

from ponder.agents.alphazero.config import AZConfig, NetworkConfig
from ponder.agents.alphazero.evaluator import TorchEvaluator
from ponder.agents.alphazero.inference_backends import BACKENDS, PACKAGES, make_forward
from ponder.agents.alphazero.network import PolicyValueNet
from ponder.config import load_config
from ponder.envs.registry import get_game
from ponder.errors import PonderError

# Largest |difference| from eager float32, for priors and values alike. The float32 runtimes
# differ only in summation order; bf16 keeps 8 bits of mantissa; int8 rounds the heads'
# linear layers to 256 levels per tensor.
TOLERANCE = {
    "torch_compile": 1e-5,
    "onnxruntime": 1e-5,
    "openvino": 1e-5,
    "torch_bf16": 3e-2,
    "torch_int8": 3e-2,
}
# Small enough that torch.compile's two graphs build in seconds, with every kind of layer.
NET = NetworkConfig(blocks=1, channels=8, value_hidden=8, value_channels=2)


def available(backend: str) -> bool:
    import importlib.util
    import shutil

    if backend == "torch_compile" and not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        return False  # inductor writes C++ for the CPU
    return all(importlib.util.find_spec(m) is not None for m, _ in PACKAGES.get(backend, ()))


def backend_params(names: list[str]) -> list:
    out = []
    for name in names:
        marks = [pytest.mark.skipif(not available(name), reason=f"{name}: not installed here")]
        if name == "torch_compile":
            # Inductor compiles two graphs (batches 2-15 and 16+) with g++: about 50 s on two
            # busy cores with a cold cache, a few seconds with a warm one.
            marks.append(pytest.mark.slow)
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def varied_net(game, seed: int) -> PolicyValueNet:
    """A network whose outputs are far from uniform (a fresh one's BatchNorm statistics are
    zeros and ones, and its priors nearly flat), so a wrong weight shows."""
    torch.manual_seed(seed)
    net = PolicyValueNet(game, NET)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
        for param in net.policy_fc.parameters():
            param.mul_(4.0)
    return net.eval()


def weights(net: PolicyValueNet) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in net.state_dict().items()}


@pytest.fixture(scope="module")
def batch() -> tuple[np.ndarray, np.ndarray]:
    """Connect-four positions from random play, encoded by the game; the last one is a row
    without legal moves (a terminal leaf), whose priors must come back all zero."""
    game = get_game("connect_four")
    states, legal = random_positions(game, 40, seed=0, max_plies=20)
    planes = game.encode_batch(states)
    legal[-1] = False
    return planes, legal


def reference(game, net: PolicyValueNet, planes, legal) -> tuple[np.ndarray, np.ndarray]:
    evaluator = TorchEvaluator(PolicyValueNet(game, NET), mixed_precision=False)
    evaluator.load_weights(weights(net))
    return evaluator(planes, legal)


@pytest.mark.parametrize("backend", backend_params(list(TOLERANCE)))
def test_backend_matches_float32_and_follows_new_weights(backend: str, batch) -> None:
    game = get_game("connect_four")
    planes, legal = batch
    first, second = varied_net(game, 1), varied_net(game, 2)
    want_p, want_v = reference(game, first, planes, legal)
    want_p2, want_v2 = reference(game, second, planes, legal)
    tol = TOLERANCE[backend]
    assert np.abs(want_p2 - want_p).max() > 10 * tol  # the two networks do differ

    net = PolicyValueNet(game, NET)
    net.load_state_dict(weights(first))
    evaluator = TorchEvaluator(net, mixed_precision=False, backend=backend)
    for count in (len(planes), 1, 17):  # the whole batch, a lone position, an odd size
        priors, values = evaluator(planes[:count], legal[:count])
        assert priors.dtype == np.float32 and values.dtype == np.float32
        assert priors.shape == (count, game.num_actions) and values.shape == (count,)
        np.testing.assert_allclose(priors, want_p[:count], atol=tol, rtol=0)
        np.testing.assert_allclose(values, want_v[:count], atol=tol, rtol=0)
    priors, values = evaluator(planes, legal)
    assert np.all(priors[~legal] == 0) and np.all(np.abs(values) <= 1)
    rows = legal.any(axis=1)
    np.testing.assert_allclose(priors[rows].sum(axis=1), 1.0, atol=1e-5)

    evaluator.load_weights(weights(second))
    priors, values = evaluator(planes, legal)
    np.testing.assert_allclose(priors, want_p2, atol=tol, rtol=0)
    np.testing.assert_allclose(values, want_v2, atol=tol, rtol=0)


def test_unknown_or_misplaced_backend_is_refused() -> None:
    assert set(TOLERANCE) == set(BACKENDS) - {"torch"}  # a new backend gets tested too
    with pytest.raises(PonderError, match="inference_backend"):
        load_config(AZConfig, None, ["game=tic_tac_toe", "selfplay.inference_backend=tensorrt"])
    with pytest.raises(PonderError, match=r"selfplay\.inference"):
        load_config(
            AZConfig,
            None,
            [
                "game=tic_tac_toe",
                "selfplay.inference_backend=onnxruntime",
                "selfplay.inference=actor",
            ],
        )
    ok = load_config(AZConfig, None, ["game=tic_tac_toe", "selfplay.inference_backend=torch_int8"])
    assert ok.selfplay.inference_backend == "torch_int8"
    assert AZConfig(game="tic_tac_toe").selfplay.inference_backend == "torch"

    net = PolicyValueNet(get_game("tic_tac_toe"), NET)
    with pytest.raises(PonderError, match="unknown inference backend 'tensorrt'"):
        TorchEvaluator(net, backend="tensorrt")
    # Checked before anything is built, so no GPU is needed to see the refusal.
    with pytest.raises(PonderError, match="runs on the CPU"):
        make_forward("torch_int8", net, torch.device("cuda"), None)


@pytest.mark.parametrize(
    ("backend", "missing"), [("onnxruntime", "onnxruntime"), ("openvino", "openvino")]
)
def test_missing_package_names_what_to_install(backend: str, missing: str, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # makes `import missing` fail
    net = PolicyValueNet(get_game("tic_tac_toe"), NET)
    with pytest.raises(PonderError) as info:
        TorchEvaluator(net, backend=backend)
    message = str(info.value)
    assert "\n" not in message
    assert f"needs the {missing} package: pip install {missing}" in message
    assert "ponder[cpu-inference]" in message


@pytest.mark.parametrize("backend", backend_params(["torch_int8", "onnxruntime"]))
def test_selfplay_worker_plays_with_a_backend(backend: str) -> None:
    from ponder.selfplay.worker import SelfPlayWorker

    game = get_game("tic_tac_toe")
    config = {
        "game": "tic_tac_toe",
        "network": NET.model_dump(),
        "selfplay": {
            "concurrent_games": 6,
            "search": {"num_simulations": 8, "leaves_per_step": 2},
            "resign_threshold": -1.0,
            "inference_backend": backend,
            "inference": "local",
        },
    }
    worker = SelfPlayWorker(config, worker_index=0)
    assert worker.evaluator.backend == backend
    records = worker.runner.play(3)
    assert len(records) >= 3
    worker.evaluator.load_weights(weights(varied_net(game, 4)))  # as a published update does
    records = worker.runner.play(3)
    assert len(records) >= 3 and all(len(r.moves) >= 5 for r in records)
    assert worker.evaluator.evaluations > 0
