"""The AlphaZero learner step: augment, forward, policy + value loss, optimizer step.

Losses: cross-entropy of the masked policy against the search target (visit counts for PUCT,
the improved policy for Gumbel; weighted per sample so fast-search moves teach only the value),
and MSE of the tanh value against the game result, or cross-entropy over win/draw/loss. Weight
decay lives in the optimizer and applies to convolution and linear weights only (decaying
BatchNorm scales and biases only fights the normalisation).

Everything needed to take the exact same next step after a restart is in `checkpoint_tensors`:
weights, BatchNorm statistics, optimizer moments, step counters, the augmentation RNG and the
loss scaler.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ponder.agents.alphazero.augment import random_symmetries
from ponder.agents.alphazero.config import AZConfig, NetworkConfig
from ponder.agents.alphazero.network import PolicyValueNet, masked_log_softmax
from ponder.agents.alphazero.samples import Samples
from ponder.agents.device import autocast, autocast_dtype, resolve_device
from ponder.checkpoint import (
    Checkpoint,
    OptimizerMeta,
    check_state_shapes,
    load_state_dict_checked,
    metadata_error,
    nonfinite_tensor,
    optimizer_state_to_tensors,
    tensors_to_optimizer_state,
)
from ponder.errors import PonderError

ALGORITHM = "alphazero"


class _MetaModel(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)


class TrainerState(_MetaModel):
    """What `AZLearner.checkpoint_tensors` stores beside the tensors to resume exactly."""

    step: int = Field(ge=0)
    samples_trained: int = Field(ge=0)
    optimizer: OptimizerMeta
    augment_rng: dict[str, Any]
    scaler: dict[str, Any] | None = None


class AZCheckpointMeta(_MetaModel):
    """The schema of an AlphaZero checkpoint's metadata (`checkpoint_metadata` writes it): a
    checkpoint is read only through this, so a missing or mistyped field is one line."""

    game: str
    algorithm: Literal["alphazero"]
    network: NetworkConfig
    step: int = Field(ge=0)
    obs_shape: list[int] | None = None
    num_actions: int | None = Field(None, ge=1)
    compute: dict[str, Any] = {}
    config: dict[str, Any] | None = None
    trainer: TrainerState | None = None
    pipeline: dict[str, Any] | None = None
    replay_step: int | None = Field(None, ge=0)


def validate_metadata(meta: dict[str, Any], where: str) -> AZCheckpointMeta:
    """`meta` checked against `AZCheckpointMeta`, or a one-line PonderError."""
    if meta.get("algorithm") != ALGORITHM:
        raise PonderError(f"{where} is a {meta.get('algorithm')!r} checkpoint, not alphazero")
    try:
        return AZCheckpointMeta.model_validate(meta)
    except ValidationError as exc:
        raise metadata_error(where, exc) from None


def lr_at(cfg: AZConfig, step: int) -> float:
    """Learning rate at `step`: one-cycle when `train.lr_cycle_steps` is set, else the last
    `lr_schedule` entry at or before `step`, else `train.lr`."""
    lr = cfg.train.lr
    cycle = cfg.train.lr_cycle_steps
    if cycle:
        warmup = max(1, cycle // 4)
        if step < warmup:
            return lr * (0.1 + 0.9 * step / warmup)
        done = min(1.0, (step - warmup) / max(1, cycle - warmup))
        low = lr / 100
        return low + (lr - low) * 0.5 * (1 + math.cos(math.pi * done))
    for start, value in cfg.train.lr_schedule:
        if step >= start:
            lr = value
    return lr


def wdl_targets(value: torch.Tensor) -> torch.Tensor:
    """(N,) results in [-1, 1] -> (N, 3) win/draw/loss probabilities (exact for -1, 0, +1)."""
    win = value.clamp(min=0)
    loss = (-value).clamp(min=0)
    return torch.stack([win, 1 - win - loss, loss], dim=1)


class AZLearner:
    def __init__(self, game: Any, cfg: AZConfig, device: str = "cpu"):
        self.game = game
        self.cfg = cfg
        self.device = resolve_device(device)
        torch.manual_seed(cfg.run.seed)
        self.net = PolicyValueNet(game, cfg.network).to(self.device)
        self.optimizer = self._make_optimizer()
        self.amp_dtype = autocast_dtype(self.device, cfg.train.mixed_precision)
        # float16 needs loss scaling to keep small gradients; bfloat16 has float32's range.
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.rng = np.random.default_rng([cfg.run.seed, 0xA06])
        self.step = 0
        self.samples_trained = 0
        self.diverged = ""  # why the weights can no longer be trusted, once they cannot

    def _make_optimizer(self) -> torch.optim.Optimizer:
        decay = [p for p in self.net.parameters() if p.dim() > 1]
        no_decay = [p for p in self.net.parameters() if p.dim() <= 1]
        train = self.cfg.train
        groups = [
            {"params": decay, "weight_decay": train.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        lr = lr_at(self.cfg, 0)
        if train.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=lr, momentum=train.momentum, nesterov=True)
        # AdamW: decoupled decay, so the decay strength does not depend on gradient scale.
        return torch.optim.AdamW(groups, lr=lr)

    def train_step(self, batch: Samples) -> dict[str, float]:
        """One optimizer step on `batch` (augmented if configured); returns the losses."""
        if self.cfg.train.augment:
            batch = random_symmetries(self.game, batch, self.rng)
        lr = lr_at(self.cfg, self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        dev = self.device
        planes = torch.from_numpy(np.ascontiguousarray(batch.planes, np.float32)).to(dev)
        target_policy = torch.from_numpy(np.ascontiguousarray(batch.policy, np.float32)).to(dev)
        target_value = torch.from_numpy(np.ascontiguousarray(batch.value, np.float32)).to(dev)
        legal = torch.from_numpy(np.ascontiguousarray(batch.legal, np.bool_)).to(dev)
        weight = torch.from_numpy(np.ascontiguousarray(batch.policy_weight, np.float32)).to(dev)

        self.net.train()
        # A forward pass in train mode updates BatchNorm's running statistics; a batch that
        # yields a non-finite loss must not leave them NaN, so they are kept (a few KB) first.
        saved_buffers = [b.detach().clone() for b in self.net.buffers()]
        with autocast(dev, self.amp_dtype):
            logits, value_out = self.net.heads(planes)
        # Losses in float32 whatever the forward precision.
        log_policy = masked_log_softmax(logits, legal).masked_fill(~legal, 0.0)
        per_sample_ce = -(target_policy * log_policy).sum(dim=1)
        policy_loss = (weight * per_sample_ce).sum() / weight.sum().clamp(min=1.0)
        if self.net.value_head == "wdl":
            log_wdl = torch.log_softmax(value_out.float(), dim=1)
            value_loss = -(wdl_targets(target_value) * log_wdl).sum(dim=1).mean()
        else:
            value_loss = torch.mean((torch.tanh(value_out.float()) - target_value) ** 2)
        total = policy_loss + value_loss
        if not math.isfinite(float(total.detach())):
            # Before the step: the weights are still the last finite ones, and so is every
            # checkpoint the run has written.
            with torch.no_grad():
                for buffer, saved in zip(self.net.buffers(), saved_buffers, strict=True):
                    buffer.copy_(saved)
            self.diverged = f"the loss became non-finite at learner step {self.step}"
            raise PonderError(
                f"training diverged at learner step {self.step}: the loss is "
                f"{float(total.detach())} (lower train.lr, now {lr:g}); the latest checkpoint "
                "holds the last good weights"
            )

        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        # One reduction (one device sync) for every parameter; names only on failure.
        finite = torch.stack([torch.isfinite(p).all() for p in self.net.parameters()]).all()
        if not bool(finite):
            bad = nonfinite_tensor(dict(self.net.named_parameters()))
            self.diverged = f"weight {bad!r} became non-finite at learner step {self.step}"
            raise PonderError(
                f"training diverged at learner step {self.step}: weight {bad!r} became NaN or "
                f"infinite (lower train.lr, now {lr:g}); the latest checkpoint holds the last "
                "good weights"
            )
        self.step += 1
        self.samples_trained += len(batch)
        return {
            "policy_loss": float(policy_loss.detach()),
            "value_loss": float(value_loss.detach()),
            "total": float(total.detach()),
            "lr": lr,
        }

    def weights(self) -> dict[str, torch.Tensor]:
        """A CPU copy of the network's state_dict, for publishing to self-play and evaluation."""
        return {k: v.detach().to("cpu", copy=True) for k, v in self.net.state_dict().items()}

    def checkpoint_tensors(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """`model/*` and `optimizer/*` tensors, and the JSON-able rest of the trainer's state
        (store it as `metadata["trainer"]`, which `checkpoint_metadata` does)."""
        tensors = {f"model/{k}": v for k, v in self.weights().items()}
        opt_tensors, opt_meta = optimizer_state_to_tensors(self.optimizer.state_dict())
        tensors.update({k: v.detach().cpu() for k, v in opt_tensors.items()})
        extra = {
            "step": self.step,
            "samples_trained": self.samples_trained,
            "optimizer": opt_meta,
            "augment_rng": self.rng.bit_generator.state,
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
        }
        return tensors, extra

    def checkpoint(self, compute: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict]:
        """Tensors and metadata ready for `RunDir.save_checkpoint(step, tensors, metadata)`."""
        if self.diverged:
            # Weights that led to a non-finite loss are not worth resuming from: the run's
            # latest checkpoint stays the last one written before.
            raise PonderError(f"not writing a checkpoint: {self.diverged}")
        tensors, extra = self.checkpoint_tensors()
        meta = checkpoint_metadata(self.game, self.cfg, self.step, compute, trainer_state=extra)
        return tensors, meta

    def restore(self, ckpt: Checkpoint) -> None:
        """Resume exactly where `ckpt` left off (it must come from a run of the same game/net)."""
        where = f"checkpoint {ckpt.path}"
        meta = check_resumable(ckpt, self.game, self.cfg)
        assert meta.trainer is not None
        extra = meta.trainer
        load_state_dict_checked(self.net, ckpt.section("model"), where)
        try:
            state = tensors_to_optimizer_state(ckpt.tensors, extra.optimizer.model_dump())
            self.optimizer.load_state_dict(state)
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise PonderError(f"{where}: optimizer state does not fit ({exc})") from None
        self.step = extra.step
        self.samples_trained = extra.samples_trained
        try:
            self.rng.bit_generator.state = extra.augment_rng
        except (ValueError, TypeError, KeyError) as exc:
            raise PonderError(f"{where}: metadata field 'trainer.augment_rng': {exc}") from None
        if extra.scaler and self.scaler.is_enabled():
            self.scaler.load_state_dict(extra.scaler)


def checkpoint_metadata(
    game: Any,
    cfg: AZConfig,
    step: int,
    compute: dict[str, Any],
    trainer_state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a checkpoint says about itself: enough to rebuild the network and check a match."""
    meta: dict[str, Any] = {
        "game": game.name,
        "algorithm": ALGORITHM,
        "network": cfg.network.model_dump(mode="json"),
        "obs_shape": list(game.obs_shape),
        "num_actions": int(game.num_actions),
        "step": int(step),
        "compute": dict(compute),
        "config": cfg.model_dump(mode="json"),
    }
    if trainer_state is not None:
        meta["trainer"] = trainer_state
    return meta


def check_resumable(ckpt: Checkpoint, game: Any, cfg: AZConfig) -> AZCheckpointMeta:
    """Everything `AZLearner.restore` needs from `ckpt`, checked without building the trainer:
    the schema, game, network shape (tensor by tensor, on torch's meta device, so nothing is
    allocated), optimizer and finiteness. The driver calls it before anything starts, so a
    mismatch is one line and not an error inside the learner's actor."""
    where = f"checkpoint {ckpt.path}"
    meta = validate_metadata(ckpt.metadata, where)
    check_checkpoint_matches(ckpt.metadata, game, cfg, where)
    if meta.trainer is None:
        raise PonderError(f"{where} holds weights only, no trainer state to resume from")
    saved_optimizer = ((meta.config or {}).get("train") or {}).get("optimizer")
    if saved_optimizer not in (None, cfg.train.optimizer):
        raise PonderError(
            f"{where} was trained with optimizer {saved_optimizer!r}, the config says "
            f"{cfg.train.optimizer!r}"
        )
    with torch.device("meta"):
        shape_only = PolicyValueNet(game, cfg.network)
    check_state_shapes(shape_only, ckpt.section("model"), where)
    bad = nonfinite_tensor(ckpt.tensors)
    if bad is not None:
        raise PonderError(f"{where}: tensor {bad!r} holds NaN or infinite values")
    return meta


def check_checkpoint_matches(meta: dict[str, Any], game: Any, cfg: AZConfig, where: str) -> None:
    """One-line errors for a checkpoint of another algorithm, game or network shape."""
    if meta.get("algorithm") != ALGORITHM:
        raise PonderError(f"{where} is a {meta.get('algorithm')!r} checkpoint, not alphazero")
    if meta.get("game") != game.name:
        raise PonderError(f"{where} is for game {meta.get('game')!r}, not {game.name!r}")
    want = cfg.network.model_dump(mode="json")
    got = meta.get("network") or {}
    for key, value in want.items():
        if got.get(key) != value:
            raise PonderError(
                f"{where}: network {key}={got.get(key)!r} does not match the config's {value!r}"
            )
