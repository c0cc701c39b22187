"""Typed, validated configuration from YAML files with `--set a.b=c` overrides.

Each algorithm declares its schema as a pydantic model (`StrictModel`), so unknown keys, wrong
types and out-of-range values are rejected before any work starts, with one line naming the key.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ponder.errors import PonderError, short

# A config is a page of YAML; anything far larger is the wrong file.
MAX_CONFIG_BYTES = 1 << 20
# Every seed must suit numpy's SeedSequence (>= 0) and torch.manual_seed (< 2**64).
MAX_SEED = 2**63 - 1

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for every config section: no unknown keys, no silent coercion of str to numbers."""

    # allow_inf_nan=False: `train.lr=.inf` or `nan` would train to NaN and write `Infinity`
    # (not JSON) into every metrics line; no setting of any algorithm means to be non-finite.
    model_config = ConfigDict(
        extra="forbid",
        strict=False,
        validate_assignment=True,
        frozen=False,
        allow_inf_nan=False,
    )


def _lookup(data: Any, dotted: str) -> tuple[bool, Any]:
    """(found, value) of a dotted key in nested mappings."""
    node = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _pop_path(data: dict[str, Any], dotted: str) -> Any:
    parent, _, leaf = dotted.rpartition(".")
    return (_lookup(data, parent)[1] if parent else data).pop(leaf)


def _put_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    *parents, leaf = dotted.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node.setdefault(leaf, value)  # a key already at its new place wins over the old one


def move_renamed_keys(data: Any, renamed: Mapping[str, str]) -> tuple[Any, list[tuple[str, str]]]:
    """`data` with each old dotted key of `renamed` moved to its new place (a None value is
    dropped, a section left empty removed; a copy when anything moved), and the moves made."""
    moves = [(old, new) for old, new in renamed.items() if _lookup(data, old)[0]]
    if not moves:
        return data, []
    out = copy.deepcopy(data)
    for old, new in moves:
        value = _pop_path(out, old)
        if value is not None:
            _put_path(out, new, value)
        parent = old.rpartition(".")[0]
        if parent and _lookup(out, parent)[1] == {}:
            _pop_path(out, parent)
    return out, moves


def refuse_renamed_keys(data: Any, renamed: Mapping[str, str]) -> None:
    """A config a user wrote (file or --set) that still uses an old key name: one line naming
    the renames, rather than a silent move the user would not see in their own file."""
    _, moves = move_renamed_keys(data, renamed)
    if moves:
        (old, new), rest = moves[0], moves[1:]
        also = f" (also renamed: {', '.join(f'{o} -> {n}' for o, n in rest)})" if rest else ""
        raise PonderError(f"config key {old!r} is now {new!r}{also}: rename it")


class RenamingModel(StrictModel):
    """A top-level config whose stored copies (run directories, checkpoint metadata) may still
    use the key names of earlier versions: `RENAMED` (old dotted key -> new) moves them on
    validation, so old runs resume and old checkpoints load; a config the user writes now is
    refused with the renames instead (`validate_config`)."""

    RENAMED: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _move_renamed(cls, data: Any) -> Any:
        return move_renamed_keys(data, cls.RENAMED)[0]


class RunSection(StrictModel):
    """`run.*`, the keys every algorithm shares: its seed, its length (in the algorithm's own
    step unit, which `unit` names), its wall-clock limit, its workers and when it stops early."""

    seed: int = Field(0, ge=0, le=MAX_SEED)
    minutes: float = Field(0, ge=0)  # wall-clock limit, summed over the run's sessions (0: none)
    stop_when: dict[str, float] = {}  # metric -> bound; validated against what is reported


class CheckpointSection(StrictModel):
    """`checkpoint.*`: how often (in the run's step unit), how many to keep, and whether the
    replay buffer goes with each one (an exact resume, at the cost of disk)."""

    every: int = Field(1, ge=1)
    keep: int = Field(3, ge=1)
    replay: bool = False


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error: plain
    YAML keeps the last value, so the first one, which the user may be reading, silently loses.
    """

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the base class reports it
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {short(key)} is given twice in one mapping",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"{where}: {getattr(exc, 'problem', None) or 'syntax error'}"


def load_yaml_text(text: str) -> Any:
    """`yaml.safe_load` with duplicate keys refused (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass


def _parse_scalar(text: str) -> Any:
    """Read an override value the way YAML would (`3` -> int, `true` -> bool, `[1,2]` -> list)."""
    try:
        return load_yaml_text(text)
    except yaml.YAMLError as exc:
        raise PonderError(
            f"cannot parse override value {short(text)}{_yaml_problem(exc)}"
        ) from None


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of `data` with each `a.b.c=value` override applied (new keys allowed here;
    the schema decides whether they are valid)."""
    out = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise PonderError(f"override {short(item)} must look like key.path=value")
        key, _, raw = item.partition("=")
        parts = [p.strip() for p in key.strip().split(".")]
        if not key.strip() or not all(parts):
            raise PonderError(f"override {short(item)} needs a key like train.lr (no empty parts)")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise PonderError(f"override {short(key)}: {short(part)} is not a section")
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
    got_text = f" (got {short(got)})" if got is not None and not isinstance(got, dict) else ""
    more = len(exc.errors()) - 1
    tail = f" [+{more} more]" if more > 0 else ""
    return f"config key {loc!r}: {msg}{got_text}{tail}"


def validate_config(schema: type[M], data: dict[str, Any]) -> M:
    """A config the user wrote: old key names are refused, then the schema decides."""
    refuse_renamed_keys(data, getattr(schema, "RENAMED", {}))
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise PonderError(format_validation_error(exc)) from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from a config file; every way the file can be wrong is one line."""
    path = Path(path)
    try:
        if not path.is_file():
            raise PonderError(f"config file not found: {path}")
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise PonderError(f"config file {path} is over {MAX_CONFIG_BYTES >> 20} MB")
        raw = path.read_bytes()
    except OSError as exc:
        raise PonderError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PonderError(f"config file {path} is not text (not UTF-8): is it a config?") from None
    if "\x00" in text:
        raise PonderError(f"config file {path} holds NUL bytes: is it a config?")
    try:
        data = load_yaml_text(text)
    except yaml.YAMLError as exc:
        raise PonderError(f"config file {path} is not valid YAML{_yaml_problem(exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PonderError(f"config file {path} must hold a mapping at the top level")
    return data


def read_stored_config(schema: type[BaseModel], path: str | Path) -> dict[str, Any]:
    """A run directory's own config.yaml, with keys renamed since it was written moved to
    their new names (and a note saying so): a run made by an earlier version resumes."""
    data, moves = move_renamed_keys(read_yaml(path), getattr(schema, "RENAMED", {}))
    if moves:
        names = ", ".join(f"{old} -> {new}" for old, new in moves)
        print(f"note: {path} uses earlier key names, read as: {names}", file=sys.stderr)
    return data


def load_config(schema: type[M], path: str | Path | None, overrides: list[str] | None = None) -> M:
    """Read `path` (or start from the schema's defaults), apply overrides, validate."""
    data = read_yaml(path) if path is not None else {}
    data = apply_overrides(data, list(overrides or []))
    return validate_config(schema, data)


def load_run_config(
    schema: type[M],
    config: str | Path | None,
    overrides: list[str],
    out: str | Path | None,
    resume: str | Path | None,
    example: str,
) -> tuple[M, Any]:
    """A trainer's validated config and, when resuming, the run directory it came from (only
    opened, not written: validation must not touch a run it may then refuse).

    A resumed run reads its own config.yaml; `overrides` still apply (to extend `run.steps`,
    say). `example` is the config path the error for a missing --config suggests."""
    from ponder.rundir import RunDir

    if resume is not None:
        if config is not None or out is not None:
            raise PonderError("--resume continues a run with its own config; drop --config/--out")
        run = RunDir.open(resume, create_folders=False)
        data = read_stored_config(schema, run.config_path())
        return validate_config(schema, apply_overrides(data, overrides)), run
    if config is None:
        raise PonderError(f"give --config {example} (or --resume RUN_DIR)")
    return validate_config(schema, apply_overrides(read_yaml(config), overrides)), None


def physical_memory_bytes() -> int:
    """The machine's RAM (0 where the system does not say)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 0


def check_allocation(nbytes: float, what: str) -> None:
    """Refuse, with one line naming `what`, an allocation larger than the machine's memory:
    numpy would fail with a traceback (or, under overcommit, the kernel kill us much later)."""
    total = physical_memory_bytes()
    if total and nbytes > total:
        raise PonderError(
            f"{what} would need {nbytes / 2**30:,.1f} GiB, more than this machine's "
            f"{total / 2**30:,.1f} GiB of memory: ask for less"
        )


def dump_config(config: BaseModel) -> str:
    """The resolved config as YAML, written into every run directory."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
