"""Where AlphaZero's actors run: Ray processes, or objects in this process.

The driver and the actors talk through one small interface (start an actor, call a method,
put, get, wait, kill), so the same schedule runs on either backend:

- `RayBackend`: each actor a Ray process (local or `--address`), calls overlap across cores;
- `InProcessBackend`: each actor an object in the driver's process, a call runs when it is
  made and its result is ready at once. No Ray, no processes, no object store; the cores go to
  torch's threads instead, and the driver's schedule (pacing, cadence, restarts) is unchanged.

A handle exposes its methods as `handle.method.remote(*args)` and
`handle.method.options(num_returns=2).remote(...)` on both backends; as in Ray, a reference
passed as an argument of its own reaches the method as its value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol


class Backend(Protocol):
    name: str

    def start(self, cls: type, *args: Any, **options: Any) -> Any: ...

    def get(self, refs: Any, timeout: float | None = None) -> Any: ...

    def put(self, value: Any) -> Any: ...

    def wait(self, refs: list[Any], num_returns: int, timeout: float | None) -> list[Any]: ...

    def kill(self, handle: Any) -> None: ...

    def resources(self) -> dict[str, float]: ...

    def node(self) -> str: ...


class RayBackend:
    """Actors as Ray processes. Stateless, so actors are handed it to reach the object store."""

    name = "ray"

    def start(self, cls: type, *args: Any, **options: Any) -> Any:
        import ray

        return ray.remote(cls).options(**options).remote(*args)

    def get(self, refs: Any, timeout: float | None = None) -> Any:
        import ray

        return ray.get(refs, timeout=timeout)

    def put(self, value: Any) -> Any:
        import ray

        return ray.put(value)

    def wait(self, refs: list[Any], num_returns: int, timeout: float | None) -> list[Any]:
        import ray

        ready, _ = ray.wait(refs, num_returns=num_returns, timeout=timeout)
        return ready

    def kill(self, handle: Any) -> None:
        import ray

        ray.kill(handle, no_restart=True)

    def resources(self) -> dict[str, float]:
        import ray

        return {k: float(v) for k, v in ray.cluster_resources().items()}

    def node(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()


@dataclass(frozen=True, eq=False)  # compared and hashed by identity, as Ray's references
class Done:
    """The result of an in-process call: its value, or the exception it raised (raised again by
    `get`, unchanged, as Ray would raise it wrapped)."""

    value: Any = None
    error: BaseException | None = None

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def _value(arg: Any) -> Any:
    return arg.result() if isinstance(arg, Done) else arg


class _Method:
    def __init__(self, method: Any, returns: int = 1) -> None:
        self._method, self._returns = method, returns

    def options(self, num_returns: int = 1, **_: Any) -> _Method:
        return _Method(self._method, num_returns)

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        try:
            value = self._method(*map(_value, args), **{k: _value(v) for k, v in kwargs.items()})
        except Exception as exc:  # kept for get(), as Ray keeps a task's error
            failed = Done(error=exc)
            return failed if self._returns == 1 else tuple([failed] * self._returns)
        if self._returns == 1:
            return Done(value)
        return tuple(Done(v) for v in value)


class LocalHandle:
    """An actor object behind Ray's call syntax."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __getattr__(self, name: str) -> _Method:
        return _Method(getattr(self._obj, name))


class InProcessBackend:
    """Actors as objects of this process; every call is finished when it returns."""

    name = "inprocess"

    def start(self, cls: type, *args: Any, **options: Any) -> Any:
        return LocalHandle(cls(*map(_value, args)))

    def get(self, refs: Any, timeout: float | None = None) -> Any:
        if isinstance(refs, list):
            return [_value(r) for r in refs]
        return _value(refs)

    def put(self, value: Any) -> Any:
        return Done(value)

    def wait(self, refs: list[Any], num_returns: int, timeout: float | None) -> list[Any]:
        return list(refs)

    def kill(self, handle: Any) -> None:
        """Nothing to stop: the object goes when the driver drops it."""

    def resources(self) -> dict[str, float]:
        import torch

        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        # The cores this process may use (taskset narrows them), not all the machine's.
        return {"CPU": float(len(os.sched_getaffinity(0))), "GPU": float(gpus)}

    def node(self) -> str:
        return "local"


def resolve_backend(cfg: Any, address: str | None = None) -> str:
    """`run.backend` as it will run. `auto` is one process for one self-play worker on one
    machine without a GPU, where that measured faster (connect four on 2 cores: 1.3x the
    positions/s and 1.2x the learner samples/s of one worker and the learner as Ray processes,
    benchmarks/results/selfplay_backends.json), and Ray for several workers, a cluster
    (`--address`) or a GPU (the shared inference actor)."""
    choice = cfg.run.backend
    if choice != "auto":
        return choice
    one_machine = address is None and cfg.run.workers == 1
    if one_machine and cfg.selfplay.inference != "actor" and not _has_cuda():
        return "inprocess"
    return "ray"


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def get_backend(name: str) -> Backend:
    return RayBackend() if name == "ray" else InProcessBackend()
