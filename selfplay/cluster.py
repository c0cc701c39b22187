"""Starting or joining Ray. The only module that decides where Ray runs.

By default ponder starts an embedded local Ray with no dashboard (no web view at all) and Ray's
token authentication on, so nothing answers without the session's token; `--address` joins an
existing cluster instead. Ray itself maps 127.0.0.1 to the node's address for its internal gRPC
services, so those cannot be pinned to loopback from here; the token is what guards them.
Every actor-based feature calls `ensure_ray`.
"""

from __future__ import annotations

import os
from typing import Any

from ponder.errors import PonderError


def ensure_ray(address: str | None = None, num_cpus: int | None = None, **kwargs: Any) -> None:
    """Initialise Ray once per process: local (localhost only) unless `address` is given."""
    import ray

    if ray.is_initialized():
        return
    # Ray's usage-stats prompt and the log-to-driver flood are noise on a laptop.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    options: dict[str, Any] = dict(
        ignore_reinit_error=True, log_to_driver=kwargs.pop("log_to_driver", False), **kwargs
    )
    if address:
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise PonderError(f"cannot join the Ray cluster at {address}: {exc}") from None
        return
    ray.init(
        # "local" always starts a new instance: with no address Ray joins whatever cluster it
        # finds recorded on the machine (another user's or another test's), then refuses num_cpus.
        address="local",
        num_cpus=num_cpus,
        include_dashboard=False,
        **options,
    )


def shutdown_ray() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()
