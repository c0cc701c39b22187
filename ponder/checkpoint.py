"""Checkpoint I/O: safetensors weights beside JSON metadata, written atomically, loaded with checks.

A checkpoint is two files sharing a stem: `NAME.safetensors` (tensors only, never pickle) and
`NAME.json` (game, algorithm, network shape, step, training compute, version, and the SHA-256 of
the weights). The JSON is written last and carries the hash, so a reader can always tell a whole
checkpoint from a torn one. Both files are written to a temporary name, fsynced and renamed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import tempfile
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ponder import __version__
from ponder.errors import PonderError, short

FORMAT_VERSION = 1
WEIGHTS_SUFFIX = ".safetensors"
META_SUFFIX = ".json"


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def json_safe(obj: Any) -> Any:
    """`obj` with every non-finite float replaced by None: `json.dumps` would write `NaN` or
    `Infinity`, which are not JSON and which strict readers (and other languages) refuse."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def json_line(obj: Any, **kwargs: Any) -> str:
    """`obj` as strict JSON (non-finite floats as null)."""
    return json.dumps(json_safe(obj), allow_nan=False, **kwargs)


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json_line(obj, indent=2, sort_keys=True) + "\n")


def is_plain_name(name: Any) -> bool:
    """True for a bare file name: no folder part, no `..`, nothing a pointer file could use
    to lead a reader outside the folder it lives in."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and "\x00" not in name
        and not name.startswith(".")
        and len(name.encode()) <= 255
    )


def path_exists(path: str | Path, kind: str = "any") -> bool:
    """`Path.exists()`/`is_file()`/`is_dir()` that answer False for a path the system cannot
    even look up (a name too long, a NUL byte) instead of raising."""
    try:
        p = Path(path)
        return p.is_file() if kind == "file" else p.is_dir() if kind == "dir" else p.exists()
    except (OSError, ValueError):
        return False


def save_array_folder(
    folder: str | Path, arrays: dict[str, Any], metadata: dict[str, Any], meta_name: str
) -> None:
    """Write numpy `arrays` as NAME.npy (never pickle) and `metadata` as JSON into `folder`,
    replacing any earlier copy: a kill at any point leaves a whole copy, old or new, under
    `folder` or (between the two renames) `folder.old`, which `load_array_folder` falls back to."""
    import shutil

    import numpy as np

    folder = Path(folder)
    tmp, old = folder.with_name(folder.name + ".tmp"), folder.with_name(folder.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, array in arrays.items():
        np.save(tmp / f"{name}.npy", np.asarray(array), allow_pickle=False)
    atomic_write_json(tmp / meta_name, metadata)
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def load_array_folder(
    folder: str | Path, meta_name: str, names: list[str] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Arrays (memory-mapped, read-only) and metadata written by `save_array_folder`; `names`
    picks the arrays (default: every .npy there). A missing or unreadable copy is a PonderError."""
    import numpy as np

    folder = Path(folder)
    if not (folder / meta_name).is_file():
        old = folder.with_name(folder.name + ".old")
        if not (old / meta_name).is_file():
            raise PonderError(f"no saved arrays in {folder}")
        folder = old
    try:
        metadata = json.loads((folder / meta_name).read_text())
        if not isinstance(metadata, dict):
            raise ValueError(f"{meta_name} holds no mapping")
        if names is None:
            names = sorted(path.stem for path in folder.glob("*.npy"))
        arrays = {
            name: np.load(folder / f"{name}.npy", allow_pickle=False, mmap_mode="r")
            for name in names
        }
        for name, array in arrays.items():
            if array.dtype.hasobject:
                raise ValueError(f"{name}.npy holds Python objects")
    except UNREADABLE_ARRAY_ERRORS as exc:
        raise PonderError(f"saved arrays in {folder} are unreadable ({short(str(exc))})") from None
    return arrays, metadata


# What numpy raises on a damaged .npy: its header is a Python literal parsed by `ast`, so a
# flipped byte can surface as a tokenizer or syntax error, not only as ValueError.
UNREADABLE_ARRAY_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    SyntaxError,
    TypeError,
    RecursionError,
    tokenize.TokenError,
)


def checkpoint_stem(path: str | Path) -> Path:
    """Accept `x`, `x.safetensors` or `x.json` and return the shared stem `x`."""
    path = Path(path)
    if path.suffix in (WEIGHTS_SUFFIX, META_SUFFIX):
        return path.with_suffix("")
    return path


@dataclass
class Checkpoint:
    tensors: dict[str, Any]  # name -> torch.Tensor
    metadata: dict[str, Any]
    path: Path  # the stem

    def section(self, prefix: str) -> dict[str, Any]:
        """Tensors under `prefix/` with the prefix stripped (e.g. 'model', 'optimizer')."""
        cut = len(prefix) + 1
        return {k[cut:]: v for k, v in self.tensors.items() if k.startswith(prefix + "/")}


class CheckpointMeta(BaseModel):
    """The fields every checkpoint's metadata carries, checked by type (no coercion) before any
    is used; algorithms add their own fields and validate them with their own schema."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)

    format_version: Literal[1]
    ponder_version: str
    weights_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    weights_bytes: int = Field(ge=0)
    saved_at: str
    game: str | None = None
    algorithm: str | None = None
    step: int | None = Field(None, ge=0)


class OptimizerMeta(BaseModel):
    """The JSON half of `optimizer_state_to_tensors`."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)

    param_groups: list[dict[str, Any]]
    scalars: dict[str, dict[str, Any]]


@functools.cache
def dataclass_schema(cls: type, nonnegative: bool = True) -> type[BaseModel]:
    """A strict pydantic model with the fields (types and defaults) of dataclass `cls`, for
    reading a dataclass back from metadata; with `nonnegative`, every number must be >= 0
    except fields whose default is negative (a -1 meaning 'never')."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = Field(default_factory=f.default_factory)
        else:
            default = ...
        kind = hints[f.name]
        numeric = kind in (int, float)
        if nonnegative and numeric and not (isinstance(default, int | float) and default < 0):
            default = Field(... if default is ... else default, ge=0)
        fields[f.name] = (kind, default)
    config = ConfigDict(strict=True, allow_inf_nan=False, extra="ignore")
    return create_model(f"{cls.__name__}Meta", __config__=config, **fields)


def dataclass_from_metadata(cls: type, value: Any, where: str, field_name: str) -> Any:
    """`cls(**value)` for a dataclass stored in metadata under `field_name`, validated by
    `dataclass_schema`; a wrong or missing field is one line naming `field_name.key`."""
    schema = dataclass_schema(cls)
    wrapper = create_model(f"{cls.__name__}Field", **{field_name: (schema, ...)})
    try:
        valid = wrapper.model_validate({field_name: value})
    except ValidationError as exc:
        raise metadata_error(where, exc) from None
    return cls(**getattr(valid, field_name).model_dump())


def metadata_error(where: str, exc: ValidationError) -> PonderError:
    """One line for the first problem of a metadata schema: `<where>: metadata field 'step':
    Input should be a valid integer (got '12')`."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "<root>"
    got = err.get("input")
    got_text = f" (got {short(got)})" if not isinstance(got, dict | list) else ""
    if err["type"] == "missing":
        return PonderError(f"{where}: metadata field {loc!r} is missing")
    return PonderError(f"{where}: metadata field {loc!r}: {err['msg']}{got_text}")


def nonfinite_tensor(tensors: dict[str, Any]) -> str | None:
    """The name of the first floating-point tensor holding NaN or an infinity, else None."""
    import torch

    for name, tensor in tensors.items():
        floating = torch.is_tensor(tensor) and tensor.is_floating_point()
        if floating and not bool(torch.isfinite(tensor).all()):
            return name
    return None


def save_checkpoint(path: str | Path, tensors: dict[str, Any], metadata: dict[str, Any]) -> Path:
    """Write weights then metadata atomically; returns the stem. Tensors must be torch tensors.

    Non-finite tensors are refused: a checkpoint is what a run resumes from and what players
    load, and a NaN one would replace the last good one as `latest`."""
    from safetensors.torch import save as save_tensors

    stem = checkpoint_stem(path)
    bad = nonfinite_tensor(tensors)
    if bad is not None:
        raise PonderError(
            f"not writing checkpoint {stem.name}: tensor {bad!r} holds NaN or infinite values "
            "(training diverged; lower the learning rate)"
        )
    contiguous = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    blob = save_tensors(contiguous)
    meta = dict(metadata)
    meta.update(
        format_version=FORMAT_VERSION,
        ponder_version=__version__,
        weights_sha256=hashlib.sha256(blob).hexdigest(),
        weights_bytes=len(blob),
        saved_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    atomic_write_bytes(stem.with_suffix(WEIGHTS_SUFFIX), blob)
    atomic_write_json(stem.with_suffix(META_SUFFIX), meta)
    return stem


def read_metadata(path: str | Path) -> dict[str, Any]:
    """A checkpoint's metadata, checked against `CheckpointMeta`; every failure is one line."""
    stem = checkpoint_stem(path)
    meta_path = stem.with_suffix(META_SUFFIX)
    if not path_exists(meta_path, "file"):
        if path_exists(stem.with_suffix(WEIGHTS_SUFFIX), "file"):
            raise PonderError(f"checkpoint {stem}: metadata file {meta_path.name} is missing")
        raise PonderError(f"checkpoint not found: {path}")
    try:
        meta = json.loads(meta_path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PonderError(f"checkpoint {stem}: metadata is not valid JSON ({exc})") from None
    except (OSError, RecursionError) as exc:
        raise PonderError(f"checkpoint {stem}: metadata is unreadable ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        raise PonderError(f"checkpoint {stem}: unknown metadata format")
    try:
        CheckpointMeta.model_validate(meta)
    except ValidationError as exc:
        raise metadata_error(f"checkpoint {stem}", exc) from None
    return meta


def check_expected(meta: dict[str, Any], expect: dict[str, Any] | None, stem: Path) -> None:
    """Every key in `expect` must match the metadata, e.g. {'game': 'connect_four'}."""
    for key, want in (expect or {}).items():
        got = meta.get(key)
        if got != want:
            raise PonderError(f"checkpoint {stem} is for {key}={short(got)}, expected {want!r}")


def load_checkpoint(
    path: str | Path, expect: dict[str, Any] | None = None, device: str = "cpu"
) -> Checkpoint:
    """Load and verify a checkpoint; every failure is a one-line PonderError."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors

    stem = checkpoint_stem(path)
    meta = read_metadata(stem)
    check_expected(meta, expect, stem)
    weights_path = stem.with_suffix(WEIGHTS_SUFFIX)
    if not path_exists(weights_path, "file"):
        raise PonderError(f"checkpoint {stem}: weights file {weights_path.name} is missing")
    try:
        if weights_path.stat().st_size != meta["weights_bytes"]:
            raise PonderError(f"checkpoint {stem}: weights file is truncated or corrupted")
        blob = weights_path.read_bytes()
    except OSError as exc:
        raise PonderError(f"checkpoint {stem}: weights are unreadable ({exc})") from None
    if len(blob) != meta["weights_bytes"] or (
        hashlib.sha256(blob).hexdigest() != meta["weights_sha256"]
    ):
        raise PonderError(f"checkpoint {stem}: weights file is truncated or corrupted")
    try:
        tensors = load_tensors(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise PonderError(f"checkpoint {stem}: weights are unreadable ({exc})") from None
    if device != "cpu":
        tensors = {k: v.to(device) for k, v in tensors.items()}
    return Checkpoint(tensors=tensors, metadata=meta, path=stem)


def load_state_dict_checked(module: Any, state: dict[str, Any], what: str) -> None:
    """`module.load_state_dict` with a one-line error naming the first missing/mismatched key."""
    check_state_shapes(module, state, what)
    module.load_state_dict(state)


def check_state_shapes(module: Any, state: dict[str, Any], what: str) -> None:
    """The checks of `load_state_dict_checked`, without loading (a module built on torch's
    meta device checks a checkpoint's shapes without allocating the network)."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    if missing or extra:
        name = (missing or extra)[0]
        kind = "missing" if missing else "unexpected"
        raise PonderError(f"{what}: {kind} tensor {name!r} (network shape does not match)")
    for key, tensor in own.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise PonderError(
                f"{what}: tensor {key!r} has shape {tuple(state[key].shape)}, "
                f"the network expects {tuple(tensor.shape)}"
            )


def optimizer_state_to_tensors(
    state: dict[str, Any], prefix: str = "optimizer"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a torch optimizer state_dict into tensors (for safetensors) and JSON-able rest."""
    import torch

    tensors: dict[str, Any] = {}
    per_param: dict[str, dict[str, Any]] = {}
    for pid, slots in state["state"].items():
        scalars = {}
        for slot, value in slots.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}/{pid}/{slot}"] = value
            else:
                scalars[slot] = value
        per_param[str(pid)] = scalars
    return tensors, {"param_groups": state["param_groups"], "scalars": per_param}


def tensors_to_optimizer_state(
    tensors: dict[str, Any], meta: dict[str, Any], prefix: str = "optimizer"
) -> dict[str, Any]:
    """Inverse of `optimizer_state_to_tensors`."""
    state: dict[int, dict[str, Any]] = {}
    for pid, scalars in meta["scalars"].items():
        state[int(pid)] = dict(scalars)
    cut = len(prefix) + 1
    for key, value in tensors.items():
        if not key.startswith(prefix + "/"):
            continue
        pid, slot = key[cut:].split("/", 1)
        state.setdefault(int(pid), {})[slot] = value
    return {"state": state, "param_groups": meta["param_groups"]}
