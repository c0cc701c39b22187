"""Typed, validated configuration from YAML files with `--set a.b=c` overrides.

Each algorithm declares its schema as a pydantic model (`StrictModel`), so unknown keys, wrong
types and out-of-range values are rejected before any work starts, with one line naming the key.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ponder.errors import PonderError

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for every config section: no unknown keys, no silent coercion of str to numbers."""

    model_config = ConfigDict(extra="forbid", strict=False, validate_assignment=True, frozen=False)


def _parse_scalar(text: str) -> Any:
    """Read an override value the way YAML would (`3` -> int, `true` -> bool, `[1,2]` -> list)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PonderError(f"cannot parse override value {text!r}: {exc.problem}") from None


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of `data` with each `a.b.c=value` override applied (new keys allowed here;
    the schema decides whether they are valid)."""
    out = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise PonderError(f"override {item!r} must look like key.path=value")
        key, _, raw = item.partition("=")
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise PonderError(f"override {item!r} has an empty key")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise PonderError(f"override {key!r}: {part!r} is not a section")
            node = child
        node[parts[-1]] = _parse_scalar(raw)
    return out


def format_validation_error(exc: ValidationError) -> str:
    """One line per the first problem: `config key 'search.sims': Input should be > 0 (got -1)`."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "<root>"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return f"config key {loc!r} is not a known setting"
    got = err.get("input")
    got_text = f" (got {got!r})" if got is not None and not isinstance(got, dict) else ""
    more = len(exc.errors()) - 1
    tail = f" [+{more} more]" if more > 0 else ""
    return f"config key {loc!r}: {msg}{got_text}{tail}"


def validate_config(schema: type[M], data: dict[str, Any]) -> M:
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise PonderError(format_validation_error(exc)) from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise PonderError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise PonderError(f"config file {path} is not valid YAML{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PonderError(f"config file {path} must hold a mapping at the top level")
    return data


def load_config(schema: type[M], path: str | Path | None, overrides: list[str] | None = None) -> M:
    """Read `path` (or start from the schema's defaults), apply overrides, validate."""
    data = read_yaml(path) if path is not None else {}
    data = apply_overrides(data, list(overrides or []))
    return validate_config(schema, data)


def dump_config(config: BaseModel) -> str:
    """The resolved config as YAML, written into every run directory."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
