"""Shared inference: one actor owns the network (on the GPU when there is one) and evaluates the
leaf batches of every self-play worker.

With a GPU, a forward pass on 64 positions costs about what one on 1,024 does, so workers that
each evaluate on their own waste it; here concurrent requests from several workers are merged
into one forward pass. The actor is asyncio-based: each `evaluate` call queues its batch and
awaits its slice of the merged result. It runs on the CPU too (that is how it is tested).
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np


class InferenceServer:
    """Merge leaf batches from many workers into one network call (run as an async Ray actor)."""

    def __init__(
        self,
        game_name: str,
        network_cfg: dict[str, Any],
        device: str = "cpu",
        mixed_precision: bool = True,
        max_wait_ms: float = 1.0,
        threads: int = 1,
    ):
        import torch

        from ponder.agents.alphazero.config import NetworkConfig
        from ponder.agents.alphazero.evaluator import TorchEvaluator
        from ponder.agents.alphazero.network import PolicyValueNet
        from ponder.envs.registry import get_game

        torch.set_num_threads(threads)
        net = PolicyValueNet(get_game(game_name), NetworkConfig(**network_cfg))
        self.evaluator = TorchEvaluator(net, device=device, mixed_precision=mixed_precision)
        self.max_wait = max_wait_ms / 1000.0
        self.pending: list[tuple[np.ndarray, np.ndarray, asyncio.Future]] = []
        self.flusher: asyncio.Task | None = None
        self.weights_step = -1
        self.requests = 0

    def set_weights(self, weights: dict[str, Any], step: int) -> None:
        self.evaluator.load_weights(weights)
        self.weights_step = step

    async def evaluate(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, ...]:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((planes, legal, future))
        self.requests += 1
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.create_task(self._flush_soon())
        return await future

    async def _flush_soon(self) -> None:
        # A short wait lets requests that arrive together share one forward pass.
        await asyncio.sleep(self.max_wait)
        batch, self.pending = self.pending, []
        if not batch:
            return
        sizes = [len(planes) for planes, _, _ in batch]
        try:
            priors, values = self.evaluator(
                np.concatenate([p for p, _, _ in batch]), np.concatenate([m for _, m, _ in batch])
            )
        except Exception as exc:  # every waiting worker must hear about it
            for _, _, future in batch:
                future.set_exception(exc)
            return
        start = 0
        for size, (_, _, future) in zip(sizes, batch, strict=True):
            future.set_result((priors[start : start + size], values[start : start + size]))
            start += size

    def stats(self) -> dict[str, Any]:
        return {
            "inference_evaluations": self.evaluator.evaluations,
            "inference_forward_passes": self.evaluator.calls,
            "inference_requests": self.requests,
            "inference_weights_step": self.weights_step,
        }


class RemoteEvaluator:
    """The search's evaluator callable, answered by an `InferenceServer` actor."""

    def __init__(self, server: Any):
        self.server = server
        self.evaluations = 0
        self.calls = 0

    def __call__(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import ray

        priors, values = ray.get(self.server.evaluate.remote(planes, legal))
        self.evaluations += len(planes)
        self.calls += 1
        return priors, values
