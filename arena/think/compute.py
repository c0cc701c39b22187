"""Compute, counted on explicit axes: network evaluations, learner samples, multiply-accumulates.

Training compute comes from a checkpoint's metadata (self-play evaluations and learner samples
are counted by the training driver); multiply-accumulates (MACs) come from the network's own
forward pass, counted by torch's FLOP counter on one position (a MAC is two FLOPs), so no shape
arithmetic is written by hand. A learner sample costs a forward and a backward pass, taken as
three forwards (the usual estimate: the backward computes gradients for both activations and
weights). Test compute per move is measured in the games (`GameResult.evaluations_*`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from ponder.errors import PonderError

BACKWARD_FACTOR = 3.0  # forward + backward of one learner sample, in forward passes


@dataclass(frozen=True)
class TrainingCompute:
    step: int
    selfplay_evaluations: int
    selfplay_positions: int
    learner_samples: int
    wall_seconds: float
    macs_per_evaluation: int

    @property
    def macs(self) -> float:
        """Self-play forwards plus learner forwards and backwards."""
        return self.macs_per_evaluation * (
            self.selfplay_evaluations + BACKWARD_FACTOR * self.learner_samples
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "macs": self.macs}


@cache
def macs_per_evaluation(game_name: str, network_json: str) -> int:
    """Forward MACs of the AlphaZero network for one position (batch 1, eval mode)."""
    import json

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ponder.agents.alphazero.config import NetworkConfig
    from ponder.agents.alphazero.network import PolicyValueNet
    from ponder.envs.registry import get_game

    game = get_game(game_name)
    net = PolicyValueNet(game, NetworkConfig.model_validate(json.loads(network_json))).eval()
    planes = torch.zeros((1, *game.obs_shape), dtype=torch.float32)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        net(planes)
    return int(counter.get_total_flops() // 2)


def training_compute(meta: dict[str, Any], where: str) -> TrainingCompute:
    """A checkpoint's training compute; one-line errors for metadata that lacks it."""
    import json

    compute = meta.get("compute")
    network = meta.get("network")
    if not isinstance(compute, dict) or not isinstance(network, dict):
        raise PonderError(f"{where}: no training compute in its metadata (not an AlphaZero run?)")
    try:
        out = TrainingCompute(
            step=int(meta["step"]),
            selfplay_evaluations=int(compute["network_evaluations"]),
            selfplay_positions=int(compute["selfplay_positions"]),
            learner_samples=int(compute["learner_samples"]),
            wall_seconds=float(compute["wall_seconds"]),
            macs_per_evaluation=macs_per_evaluation(
                str(meta["game"]), json.dumps(network, sort_keys=True)
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PonderError(f"{where}: training compute is incomplete ({exc})") from None
    if out.macs <= 0 or not math.isfinite(out.macs):
        raise PonderError(f"{where}: no training compute recorded yet (step {out.step})")
    return out
