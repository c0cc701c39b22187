"""The shared inference actor answers exactly what a local evaluator would, merging requests."""

from __future__ import annotations

import numpy as np
import pytest
import ray  # a hard dependency: a broken install must fail, not skip
import torch

from ponder.agents.alphazero.config import NetworkConfig
from ponder.agents.alphazero.evaluator import TorchEvaluator
from ponder.agents.alphazero.network import PolicyValueNet
from ponder.envs.registry import get_game


@pytest.fixture(scope="module")
def local_ray():
    from ponder.selfplay.cluster import ensure_ray

    ensure_ray(num_cpus=2)
    yield
    # Later test modules may reuse the same Ray; it ends with the test process.


def test_server_matches_local_evaluator_and_merges_concurrent_requests(local_ray):
    from ponder.selfplay.inference import InferenceServer, RemoteEvaluator

    game = get_game("tic_tac_toe")
    net_cfg = NetworkConfig(blocks=1, channels=8, value_hidden=8)
    torch.manual_seed(0)
    net = PolicyValueNet(game, net_cfg)
    weights = {k: v.clone() for k, v in net.state_dict().items()}
    local = TorchEvaluator(net, device="cpu", mixed_precision=False)

    server = (
        ray.remote(InferenceServer)
        .options(num_cpus=0, max_concurrency=100)
        .remote("tic_tac_toe", net_cfg.model_dump(), "cpu", False, 50.0)
    )
    ray.get(server.set_weights.remote(weights, 7))

    rng = np.random.default_rng(0)
    states = game.new_states(24)
    for row in states:  # a few random plies so positions differ
        for _ in range(rng.integers(0, 5)):
            legal = game.legal_actions(row)
            if len(legal) and not game.is_terminal(row):
                game.play(row, int(rng.choice(legal)))
    planes = game.encode_batch(states)
    legal = np.stack([np.isin(np.arange(9), game.legal_actions(s)) for s in states])

    want_p, want_v = local(planes, legal)
    # Three requests in flight at once: with a 50 ms gathering window they share a forward pass.
    refs = [server.evaluate.remote(planes[i : i + 8], legal[i : i + 8]) for i in (0, 8, 16)]
    parts = ray.get(refs)
    got_p = np.concatenate([p for p, _ in parts])
    got_v = np.concatenate([v for _, v in parts])
    np.testing.assert_allclose(got_p, want_p, atol=1e-5)
    np.testing.assert_allclose(got_v, want_v, atol=1e-5)
    assert np.all(got_p[~legal] == 0)

    stats = ray.get(server.stats.remote())
    assert stats["inference_requests"] == 3
    assert stats["inference_evaluations"] == 24
    assert stats["inference_forward_passes"] < 3
    assert stats["inference_weights_step"] == 7

    remote = RemoteEvaluator(server)
    p, v = remote(planes[:5], legal[:5])
    np.testing.assert_allclose(v, want_v[:5], atol=1e-5)
    np.testing.assert_allclose(p, want_p[:5], atol=1e-5)
    assert remote.evaluations == 5
    ray.kill(server)
