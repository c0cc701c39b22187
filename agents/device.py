"""Where a network runs, for every algorithm: one place that turns a device name into a torch
device, and the mixed-precision choice that goes with it.

"auto" takes CUDA when torch sees a GPU, else the CPU; asking for CUDA on a machine without one
is a user error, not a crash deep inside torch.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from ponder.errors import PonderError


def resolve_device(name: str = "auto") -> torch.device:
    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise PonderError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:<index>") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise PonderError(f"device {name!r} asked for, but torch sees no CUDA GPU here")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise PonderError(
                f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s) are visible"
            )
    elif device.type != "cpu":
        raise PonderError(f"device {name!r} is not supported; use auto, cpu or cuda")
    return device


def autocast_dtype(device: torch.device, enabled: bool, cpu: bool = False) -> torch.dtype | None:
    """The reduced precision to run in, or None for full float32.

    CUDA gets bfloat16 where the GPU supports it (no loss scaling needed), float16 otherwise
    (the trainer then adds a GradScaler). The CPU gets bfloat16 only when the caller asks
    (`cpu`): it pays on CPUs with bfloat16 matrix units (AMX, AVX512-BF16) and costs elsewhere.
    """
    if not enabled:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu else None


def autocast(device: torch.device, dtype: torch.dtype | None) -> Any:
    """A torch.autocast context for `dtype`, or a no-op context when `dtype` is None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
