"""The search's evaluator backed by a local torch network.

The batched search hands over every leaf of every tree in one call, so this is the only place
where numpy meets torch during self-play: planes and legal masks in, masked priors and scalar
values (mover's view, in [-1, 1]) out, as float32 numpy arrays. Which runtime runs the forward
pass is the `backend` (`inference_backends`); the masking here is shared by all of them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ponder.agents.alphazero.inference_backends import make_forward
from ponder.agents.device import autocast_dtype, resolve_device
from ponder.checkpoint import load_state_dict_checked


class TorchEvaluator:
    """`(planes, legal) -> (priors, values)` with a network in eval mode and no autograd.

    `evaluations` counts positions evaluated (the unit of search cost); `calls` counts batches.
    On CUDA the forward pass runs under autocast (`mixed_precision`); outputs are float32.
    `backend` names the runtime of the forward pass (torch, or a CPU one such as onnxruntime);
    every backend but torch works from a snapshot of the weights, taken at build time and again
    by `load_weights`, so train `net` elsewhere only with the torch backend.
    """

    def __init__(
        self,
        net: nn.Module,
        device: str = "cpu",
        mixed_precision: bool = True,
        backend: str = "torch",
    ):
        self.device = resolve_device(device)
        self.net = net.to(self.device)
        self.net.eval()
        self.amp_dtype = autocast_dtype(self.device, mixed_precision)
        self.backend = backend
        self.forward = make_forward(backend, self.net, self.device, self.amp_dtype)
        self.evaluations = 0
        self.calls = 0

    def __call__(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(planes)
        if n == 0:
            return np.zeros(legal.shape, np.float32), np.zeros(0, np.float32)
        x = torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32)).to(self.device)
        mask = torch.from_numpy(np.ascontiguousarray(legal, dtype=np.bool_)).to(self.device)
        logits, values = self.forward(x)
        logits = logits.masked_fill(~mask, torch.finfo(torch.float32).min)
        # Multiplying by the mask zeroes rows without a legal move (terminal leaves) instead of
        # leaving a uniform spread over illegal actions.
        priors = torch.softmax(logits, dim=1) * mask
        self.evaluations += n
        self.calls += 1
        return (
            priors.cpu().numpy().astype(np.float32, copy=False),
            values.cpu().numpy().astype(np.float32, copy=False),
        )

    def load_weights(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Swap in published weights (from the learner); shapes are checked first, and the
        backend rebuilds whatever it derived from the old ones."""
        state = {k: v.to(self.device) for k, v in state_dict.items()}
        load_state_dict_checked(self.net, state, "published weights")
        self.net.eval()
        self.forward.refresh()
