"""PolicyValueNet shapes and TorchEvaluator masking, for every native game that is present."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from az_core_support import one_torch_thread, random_positions  # noqa: F401

from ponder.agents.alphazero.config import NetworkConfig
from ponder.agents.alphazero.evaluator import TorchEvaluator
from ponder.agents.alphazero.network import PolicyValueNet, value_head_of
from ponder.agents.device import autocast_dtype, resolve_device
from ponder.envs.registry import get_game, native_game_names
from ponder.errors import PonderError

SMALL = NetworkConfig(blocks=1, channels=8, value_hidden=8)


@pytest.mark.parametrize("name", native_game_names())
@pytest.mark.parametrize("value_head", ["scalar", "wdl"])
def test_network_shapes_and_masked_priors(name: str, value_head: str) -> None:
    game = get_game(name)
    torch.manual_seed(0)
    net = PolicyValueNet(game, SMALL.model_copy(update={"value_head": value_head}))
    states, legal = random_positions(game, 6, seed=1)
    planes = game.encode_batch(states)
    logits, values = net(torch.from_numpy(planes))
    assert logits.shape == (6, game.num_actions)
    assert values.shape == (6,)
    assert torch.all(values.abs() <= 1.0)
    _, raw = net.heads(torch.from_numpy(planes))
    assert raw.shape == ((6, 3) if value_head == "wdl" else (6,))
    assert value_head_of(net.state_dict()) == value_head

    evaluator = TorchEvaluator(net)
    priors, vals = evaluator(planes, legal)
    assert priors.dtype == np.float32 and vals.dtype == np.float32
    assert np.all(priors[~legal] == 0.0)
    np.testing.assert_allclose(priors.sum(axis=1), 1.0, rtol=1e-5)
    assert evaluator.evaluations == 6 and evaluator.calls == 1


def test_evaluator_zero_priors_without_legal_moves() -> None:
    game = get_game("tic_tac_toe")
    evaluator = TorchEvaluator(PolicyValueNet(game, SMALL))
    planes = game.encode_batch(game.new_states(2))
    legal = np.zeros((2, 9), dtype=np.bool_)
    legal[1, 3] = True
    priors, _ = evaluator(planes, legal)
    assert np.all(priors[0] == 0.0)
    assert priors[1, 3] == pytest.approx(1.0)


def test_evaluator_load_weights_checks_shapes() -> None:
    game = get_game("tic_tac_toe")
    evaluator = TorchEvaluator(PolicyValueNet(game, SMALL))
    other = PolicyValueNet(game, NetworkConfig(blocks=1, channels=16, value_hidden=8))
    with pytest.raises(PonderError, match="shape"):
        evaluator.load_weights(other.state_dict())
    torch.manual_seed(3)
    same = PolicyValueNet(game, SMALL)
    evaluator.load_weights(same.state_dict())
    planes = game.encode_batch(game.new_states(1))
    legal = np.ones((1, 9), dtype=np.bool_)
    same.eval()
    with torch.no_grad():
        want = torch.softmax(same(torch.from_numpy(planes))[0], dim=1).numpy()
    np.testing.assert_allclose(evaluator(planes, legal)[0], want, rtol=1e-5)


def test_device_selection_on_this_machine() -> None:
    auto = resolve_device("auto")
    assert auto.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    # Mixed precision is a CUDA-only feature: the CPU path always runs float32.
    assert autocast_dtype(torch.device("cpu"), True) is None
    assert autocast_dtype(auto, False) is None
    with pytest.raises(PonderError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(PonderError, match="no CUDA"):
            resolve_device("cuda")
    else:
        assert autocast_dtype(resolve_device("cuda"), True) in (torch.bfloat16, torch.float16)


def test_network_on_an_openspiel_game() -> None:
    game = get_game("openspiel:breakthrough")
    state = game.init()
    planes = np.zeros((1, *game.obs_shape), np.float32)
    legal = np.zeros((1, game.num_actions), np.bool_)
    game.encode(state, planes[0])
    game.legal_mask(state, legal[0])
    priors, values = TorchEvaluator(PolicyValueNet(game, SMALL))(planes, legal)
    assert priors.shape == (1, game.num_actions) and values.shape == (1,)
    assert np.all(priors[~legal] == 0) and priors.sum() == pytest.approx(1.0, abs=1e-5)
