"""RLlib learner state to and from ponder's checkpoint tensors.

RLlib hands a learner's state back as nested dicts of numpy arrays (module weights under the
module's attribute names, each optimizer's torch `state_dict`); ponder's checkpoints hold torch
tensors under `model/*` and `<prefix>/*`. These helpers translate, so an RLlib run writes and
resumes from the same safetensors + JSON files as ponder's own trainers, never a pickle.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def numpy_to_torch(tree: Any) -> Any:
    """RLlib's numpy optimizer state as the tensors torch's `load_state_dict` wants."""
    if isinstance(tree, dict):
        return {k: numpy_to_torch(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [numpy_to_torch(v) for v in tree]
    if isinstance(tree, np.ndarray):
        return torch.from_numpy(tree.copy())
    return tree


def module_tensors(weights: dict[str, Any], attribute: str) -> dict[str, torch.Tensor]:
    """The tensors of one submodule (`attribute`, e.g. "net") of an RLModule's numpy state."""
    cut = len(attribute) + 1
    return {
        k[cut:]: torch.as_tensor(np.asarray(v))
        for k, v in weights.items()
        if k.startswith(attribute + ".")
    }


def module_state(tensors: dict[str, torch.Tensor], attribute: str) -> dict[str, np.ndarray]:
    """Inverse of `module_tensors`: a submodule's tensors as the RLModule's numpy state."""
    return {f"{attribute}.{k}": v.detach().cpu().numpy() for k, v in tensors.items()}
