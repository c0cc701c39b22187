"""The AlphaZero policy/value network: a residual tower with a policy head and a value head.

Input is the game's `encode` planes (mover's view), so one network shape fits every game that
declares `obs_shape` and `num_actions`. The value head is either a tanh scalar (trained with MSE)
or three win/draw/loss logits (trained with cross-entropy, which keeps draws distinguishable from
uncertain positions); `forward` always returns the scalar expectation in [-1, 1] so that the
search never needs to know which head produced it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional

from ponder.agents.alphazero.config import NetworkConfig


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = functional.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return functional.relu(x + y)


class PolicyValueNet(nn.Module):
    """Residual tower over (N, C, H, W) planes -> (policy logits (N, A), value (N,) in [-1, 1])."""

    def __init__(self, game: Any, cfg: NetworkConfig):
        super().__init__()
        value_head = cfg.value_head
        in_planes, height, width = (int(d) for d in game.obs_shape)
        cells = height * width
        self.obs_shape = (in_planes, height, width)
        self.num_actions = int(game.num_actions)
        self.value_head = value_head
        ch = cfg.channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_planes, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU()
        )
        self.tower = nn.Sequential(*[ResidualBlock(ch) for _ in range(cfg.blocks)])
        # A fully connected layer after a 1x1 conv, as in AlphaZero: it copes with action spaces
        # that are not one-per-cell (connect four's columns, othello's pass move).
        self.policy_conv = nn.Sequential(
            nn.Conv2d(ch, cfg.policy_channels, 1, bias=False),
            nn.BatchNorm2d(cfg.policy_channels),
            nn.ReLU(),
        )
        self.policy_fc = nn.Linear(cfg.policy_channels * cells, self.num_actions)
        self.value_conv = nn.Sequential(
            nn.Conv2d(ch, cfg.value_channels, 1, bias=False),
            nn.BatchNorm2d(cfg.value_channels),
            nn.ReLU(),
        )
        self.value_fc = nn.Sequential(
            nn.Linear(cfg.value_channels * cells, cfg.value_hidden),
            nn.ReLU(),
            nn.Linear(cfg.value_hidden, 3 if value_head == "wdl" else 1),
        )

    def heads(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw outputs for the losses: policy logits (N, A) and the value head's pre-activation
        ((N,) before tanh, or (N, 3) win/draw/loss logits)."""
        x = self.tower(self.stem(planes))
        policy = self.policy_fc(self.policy_conv(x).flatten(1))
        value = self.value_fc(self.value_conv(x).flatten(1))
        if self.value_head == "scalar":
            value = value.squeeze(1)
        return policy, value

    def value_from_head(self, value_out: torch.Tensor) -> torch.Tensor:
        """The scalar value in [-1, 1] from `heads`' value output (expected win minus loss)."""
        if self.value_head == "wdl":
            probs = torch.softmax(value_out.float(), dim=1)
            return probs[:, 0] - probs[:, 2]
        return torch.tanh(value_out.float())

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        policy, value_out = self.heads(planes)
        return policy, self.value_from_head(value_out)


def value_head_of(state_dict: dict[str, torch.Tensor]) -> str:
    """Which value head a saved state_dict has, read off the last layer's output width."""
    key = "value_fc.2.weight"
    if key in state_dict and state_dict[key].shape[0] == 3:
        return "wdl"
    return "scalar"


def masked_log_softmax(logits: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    """log-softmax over legal actions only; illegal entries are -inf (rows with no legal action
    become all -inf, which callers must not use)."""
    return torch.log_softmax(logits.float().masked_fill(~legal, float("-inf")), dim=1)
