"""The DQN learner: online and target Q-networks, Adam, and one update per sampled batch.

One update reads top to bottom: optionally a random shift of both frame stacks (DrQ); Q(s, a)
from the online net; the n-step target G + gamma^k * Q_target(s', a*) where a* is the online
net's argmax (Double DQN) or the target net's own (vanilla); a Huber (or squared) loss weighted
by the replay's importance weights; the absolute TD errors go back to the replay as new
priorities.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from ponder.agents.device import autocast, autocast_dtype
from ponder.agents.dqn.config import DQNConfig
from ponder.agents.dqn.networks import QNetwork, describe_network
from ponder.agents.dqn.replay import Batch
from ponder.checkpoint import (
    load_state_dict_checked,
    optimizer_state_to_tensors,
    tensors_to_optimizer_state,
)


def random_shift(frames: torch.Tensor, pixels: int, generator: torch.Generator) -> torch.Tensor:
    """Each sample of (B, C, H, W) moved by its own offset in [-pixels, pixels] along both axes,
    edge pixels replicated (the same as padding by `pixels` and cropping at random)."""
    batch, _, height, width = frames.shape
    device = frames.device
    offsets = torch.randint(-pixels, pixels + 1, (2, batch), generator=generator).to(device)
    rows = (torch.arange(height, device=device) + offsets[0, :, None]).clamp_(0, height - 1)
    cols = (torch.arange(width, device=device) + offsets[1, :, None]).clamp_(0, width - 1)
    index = torch.arange(batch, device=device)[:, None, None, None]
    channel = torch.arange(frames.shape[1], device=device)[None, :, None, None]
    return frames[index, channel, rows[:, None, :, None], cols[:, None, None, :]]


def epsilon_greedy(
    q_values: torch.Tensor, epsilon: np.ndarray | float, rng: np.random.Generator
) -> np.ndarray:
    """argmax Q, replaced by a uniform action with probability epsilon (per env)."""
    greedy = q_values.argmax(dim=1).cpu().numpy()
    count, num_actions = q_values.shape
    explore = rng.random(count) < epsilon
    if explore.any():
        greedy[explore] = rng.integers(0, num_actions, size=int(explore.sum()))
    return greedy


class DQNLearner:
    def __init__(
        self,
        cfg: DQNConfig,
        stack: int,
        frame_shape: tuple[int, ...],
        num_actions: int,
        device: str = "cpu",
    ):
        self.cfg = cfg
        self.stack, self.frame_shape, self.num_actions = stack, tuple(frame_shape), num_actions
        self.device = torch.device(device)
        self.online = QNetwork(cfg.network, stack, self.frame_shape, num_actions).to(self.device)
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        self.params = list(self.online.parameters())
        self.target_params = list(self.target.parameters())
        # The fused kernel does Adam in one pass over all parameters instead of ~10 small ops
        # per tensor: on small networks the per-op overhead is most of the update's cost.
        self.optimizer = torch.optim.Adam(
            self.params, lr=cfg.agent.lr, eps=cfg.agent.adam_eps, fused=True
        )
        self.amp_dtype = autocast_dtype(self.device, cfg.train.mixed_precision, cpu=True)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.updates = 0
        # Augmentation draws from its own generator, seeded from the config: reproducible, and
        # independent of torch's global random state.
        self.augment_rng = torch.Generator().manual_seed(cfg.run.seed)

    def network_info(self) -> dict[str, Any]:
        return describe_network(self.cfg.network, self.stack, self.frame_shape, self.num_actions)

    # -- acting -------------------------------------------------------------------------------
    @torch.inference_mode()
    def q_values(self, stacks: np.ndarray) -> torch.Tensor:
        with self.autocast():
            return self.online(torch.from_numpy(stacks).to(self.device)).float()

    def autocast(self) -> Any:
        """The forward passes' precision context (`train.mixed_precision`)."""
        return autocast(self.device, self.amp_dtype)

    def act(
        self, stacks: np.ndarray, epsilon: np.ndarray | float, rng: np.random.Generator
    ) -> np.ndarray:
        return epsilon_greedy(self.q_values(stacks), epsilon, rng)

    # -- learning -----------------------------------------------------------------------------
    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(array).to(self.device, non_blocking=True)

    def update(
        self, batch: Batch, target_q: torch.Tensor | None = None
    ) -> tuple[np.ndarray, float]:
        """One gradient step on `batch`; returns (|TD error| per sample, loss). `target_q`, the
        target net's Q-values on `batch.next_obs` computed elsewhere with the same target
        weights (see `precomputable_target`), saves that forward pass here."""
        agent = self.cfg.agent
        shape = (len(batch.actions), self.stack, *self.frame_shape)
        obs = self._tensor(batch.obs).view(shape)
        next_obs = self._tensor(batch.next_obs).view(shape)
        actions = self._tensor(batch.actions).long().unsqueeze(1)
        returns = self._tensor(batch.returns)
        discounts = self._tensor(batch.discounts)
        weights = self._tensor(batch.weights)
        if agent.augment == "random_shift":
            obs = random_shift(obs, agent.shift_pixels, self.augment_rng)
            next_obs = random_shift(next_obs, agent.shift_pixels, self.augment_rng)

        with self.autocast():
            q = self.online(obs).float().gather(1, actions).squeeze(1)
        with torch.no_grad(), self.autocast():
            if target_q is None:
                target_q = self.target(next_obs)
            target_q = target_q.float()
            if agent.double:
                best = self.online(next_obs).argmax(dim=1, keepdim=True)
            else:
                best = target_q.argmax(dim=1, keepdim=True)
            bootstrap = target_q.gather(1, best).squeeze(1)
            y = returns + discounts * bootstrap
        td = y - q
        if agent.loss == "huber":
            per_sample = nn.functional.smooth_l1_loss(q, y, reduction="none")
        else:
            per_sample = 0.5 * td.pow(2)
        loss = (weights * per_sample).mean()

        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if agent.max_grad_norm is not None:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.params, agent.max_grad_norm, foreach=True)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.updates += 1
        self._update_target()
        return td.detach().abs().cpu().numpy(), float(loss.detach())

    def precomputable_target(self) -> bool:
        """Whether the target Q-values of a batch can be computed before its update: the target
        net must change only at known update counts (hard copies) and see the stored frames."""
        agent = self.cfg.agent
        return agent.target_update == "hard" and agent.augment == "none"

    def target_version(self, update: int) -> int:
        """The update count whose weights the target net holds during update number `update`
        (1-based): the last hard copy before it."""
        period = self.cfg.agent.target_period
        return (update - 1) // period * period

    @torch.no_grad()
    def _update_target(self) -> None:
        agent = self.cfg.agent
        if agent.target_update == "polyak":
            torch._foreach_lerp_(self.target_params, self.params, agent.target_tau)
        elif self.updates % agent.target_period == 0:
            self.target.load_state_dict(self.online.state_dict())

    # -- weights for actors and checkpoints ---------------------------------------------------
    def actor_weights(self) -> dict[str, np.ndarray]:
        """The online net as CPU numpy arrays: what Ape-X actors load."""
        return {k: v.detach().cpu().numpy() for k, v in self.online.state_dict().items()}

    def state_tensors(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """(tensors, JSON metadata) that restore this learner exactly."""
        tensors = {f"model/{k}": v for k, v in self.online.state_dict().items()}
        tensors.update({f"target/{k}": v for k, v in self.target.state_dict().items()})
        opt_tensors, opt_meta = optimizer_state_to_tensors(self.optimizer.state_dict())
        tensors.update(opt_tensors)
        tensors["rng/torch"] = torch.get_rng_state()
        tensors["rng/augment"] = self.augment_rng.get_state()
        meta: dict[str, Any] = {"optimizer": opt_meta, "updates": self.updates}
        if self.scaler.is_enabled():
            meta["scaler"] = self.scaler.state_dict()
        return tensors, meta

    def load_state(self, checkpoint: Any) -> None:
        """Restore from a `ponder.checkpoint.Checkpoint` written from `state_tensors`."""
        load_state_dict_checked(self.online, checkpoint.section("model"), "checkpoint model")
        load_state_dict_checked(self.target, checkpoint.section("target"), "checkpoint target")
        learner_meta = checkpoint.metadata["learner"]
        opt_state = tensors_to_optimizer_state(checkpoint.tensors, learner_meta["optimizer"])
        self.optimizer.load_state_dict(opt_state)
        self.updates = int(learner_meta["updates"])
        if self.scaler.is_enabled() and isinstance(learner_meta.get("scaler"), dict):
            self.scaler.load_state_dict(learner_meta["scaler"])
        if "rng/torch" in checkpoint.tensors:
            torch.set_rng_state(checkpoint.tensors["rng/torch"].cpu())
        if "rng/augment" in checkpoint.tensors:
            self.augment_rng.set_state(checkpoint.tensors["rng/augment"].cpu())
