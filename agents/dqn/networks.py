"""Q-networks: a torso (the Nature CNN for stacked 84x84 frames, an MLP for vector observations,
MinAtar's one-convolution CNN for its 10x10 grids) and a head (one hidden layer, or the dueling
value/advantage split of Wang et al., 2016)."""

from __future__ import annotations

import torch
from torch import nn

from ponder.agents.dqn.config import NetworkConfig


class NatureCNN(nn.Module):
    """Mnih et al. (2015): three convolutions over the 4-frame uint8 stack, scaled to [0, 1]
    inside the network so replay and acting move bytes, not floats."""

    def __init__(self, stack: int, frame_shape: tuple[int, ...]):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(stack, 32, 8, stride=4),
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            self.out_features = self.convs(torch.zeros(1, stack, *frame_shape)).shape[1]
        # Channels-last (NHWC) convolutions run faster in oneDNN on CPU and in cuDNN's tensor-core
        # kernels; only the layout changes (state dicts and checkpoints stay NCHW-ordered).
        self.convs.to(memory_format=torch.channels_last)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        # Scaled in place (one pass, no extra copy), then laid out as the weights are.
        frames = obs.float().mul_(1.0 / 255.0).contiguous(memory_format=torch.channels_last)
        return self.convs(frames)


class MinAtarCNN(nn.Module):
    """Young & Tian (2019): one 3x3 convolution, 16 channels, stride 1, over the 10x10 grid.
    Frames arrive as (B, stack, C, H, W) uint8 holding 0 or 1: the stack folds into the
    channels, and the cast to float is all the scaling they need."""

    def __init__(self, stack: int, frame_shape: tuple[int, ...]):
        super().__init__()
        channels, height, width = frame_shape
        self.in_channels = stack * channels
        self.convs = nn.Sequential(
            nn.Conv2d(self.in_channels, 16, 3, stride=1), nn.ReLU(), nn.Flatten()
        )
        self.out_features = 16 * (height - 2) * (width - 2)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        frames = obs.reshape(obs.shape[0], self.in_channels, *obs.shape[-2:])
        return self.convs(frames.float())


class MLPTorso(nn.Module):
    def __init__(self, in_features: int, hidden: list[int]):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.layers = nn.Sequential(*layers)
        self.out_features = width

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.layers(obs.float())


class QNetwork(nn.Module):
    def __init__(
        self, cfg: NetworkConfig, stack: int, frame_shape: tuple[int, ...], num_actions: int
    ):
        super().__init__()
        if cfg.torso == "nature_cnn":
            self.torso: nn.Module = NatureCNN(stack, frame_shape)
        elif cfg.torso == "minatar_cnn":
            self.torso = MinAtarCNN(stack, frame_shape)
        else:
            in_features = stack * int(torch.tensor(frame_shape).prod())
            self.torso = MLPTorso(in_features, cfg.mlp_hidden)
        width = self.torso.out_features
        self.dueling = cfg.dueling

        def stream(outputs: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Linear(width, cfg.head_hidden), nn.ReLU(), nn.Linear(cfg.head_hidden, outputs)
            )

        if self.dueling:
            self.value = stream(1)
            self.advantage = stream(num_actions)
        else:
            self.q = stream(num_actions)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        features = self.torso(obs)
        if not self.dueling:
            return self.q(features)
        advantage = self.advantage(features)
        # Subtracting the mean advantage makes V and A identifiable (Wang et al., eq. 9).
        return self.value(features) + advantage - advantage.mean(dim=1, keepdim=True)


def describe_network(
    cfg: NetworkConfig, stack: int, frame_shape: tuple[int, ...], num_actions: int
) -> dict:
    """The shape facts a checkpoint records, so a load can say what does not match."""
    return {
        **cfg.model_dump(mode="json"),
        "stack": stack,
        "frame_shape": list(frame_shape),
        "num_actions": num_actions,
    }
