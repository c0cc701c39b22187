"""Starting or joining Ray. The only module that decides where Ray runs.

A local run (the default) is reachable from this machine only, and only with its token:

- every Ray process binds to 127.0.0.1. Ray 2.60 maps 127.0.0.1 to the node's routable address
  for its gRPC servers (GCS, raylet, object manager, workers, the dashboard agent), except where
  it believes clustering is off, which it decides from RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER; ponder
  sets that to 0 for the local start (the driver reads it from ray_constants, the processes Ray
  starts from their environment), so the node address is 127.0.0.1 and every listener is
  loopback, the agent's Prometheus metrics port included. `tests/test_cluster_local.py` checks
  the listening sockets of a local run and fails on any other.
- no dashboard (no web view at all);
- token authentication, set by ponder: a RAY_AUTH_MODE other than `token` in the environment
  is refused with one line rather than silently obeyed.

`--address HOST:PORT` (or `ray://HOST:PORT`) joins an existing cluster instead: the address is
checked to answer within a few seconds before anything is written, and the authentication mode
in effect is stated on stderr. Every actor-based feature calls `ensure_ray`.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from ponder.errors import PonderError

LOOPBACK = "127.0.0.1"
CONNECT_TIMEOUT_S = 3.0
AUTH_MODE_ENV = "RAY_AUTH_MODE"
CLUSTERING_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def parse_address(address: str) -> tuple[str, int] | None:
    """(host, port) of `HOST:PORT` or `ray://HOST:PORT`; None for `auto`. One line otherwise."""
    text = address.strip()
    if text == "auto":
        return None
    rest = text.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise PonderError(
            f"--address {address!r}: give HOST:PORT (a Ray head's GCS port, e.g. 10.0.0.5:6379), "
            "ray://HOST:PORT or auto"
        )
    return host, int(port)


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail in seconds, with one line, when nothing listens at `address` (Ray itself retries
    for minutes)."""
    target = parse_address(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout):
            pass
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PonderError(
            f"--address {address}: no Ray cluster answers there within {timeout:g} s ({reason})"
        ) from None


def auth_mode() -> str:
    """`token` or `disabled`: the authentication mode this process's Ray uses."""
    from ray._private.authentication.authentication_utils import is_token_auth_enabled

    return "token" if is_token_auth_enabled() else "disabled"


def ensure_ray(address: str | None = None, num_cpus: int | None = None, **kwargs: Any) -> None:
    """Initialise Ray once per process: local (loopback only, token auth) unless `address`."""
    mode = os.environ.get(AUTH_MODE_ENV)
    if address is None and mode is not None and mode.lower() != "token":
        raise PonderError(
            f"{AUTH_MODE_ENV}={mode}: ponder starts local Ray with token authentication only; "
            f"unset {AUTH_MODE_ENV}"
        )
    if address:
        check_reachable(address)
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
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise PonderError(f"cannot join the Ray cluster at {address}: {message}") from None
        mode_now = auth_mode()
        warning = "" if mode_now == "token" else ": anyone who reaches it can run code on it"
        print(
            f"joined the Ray cluster at {address} (authentication: {mode_now}{warning})",
            file=sys.stderr,
        )
        return
    _start_local(num_cpus, options)


def _start_local(num_cpus: int | None, options: dict[str, Any]) -> None:
    import ray
    from ray._private import ray_constants

    saved = {k: os.environ.get(k) for k in (AUTH_MODE_ENV, CLUSTERING_ENV)}
    saved_flag = ray_constants.ENABLE_RAY_CLUSTER
    os.environ[AUTH_MODE_ENV] = "token"
    os.environ[CLUSTERING_ENV] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        _refresh_ray_config()
        ray.init(
            # "local" always starts a new instance: with no address Ray joins whatever cluster
            # it finds recorded on the machine (another user's or test's), then refuses num_cpus.
            address="local",
            num_cpus=num_cpus,
            include_dashboard=False,
            _node_ip_address=LOOPBACK,
            **options,
        )
    finally:
        # The processes Ray started keep the settings; this process goes back to the user's.
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if auth_mode() != "token":
        ray.shutdown()
        raise RuntimeError("local Ray started without token authentication")


def _refresh_ray_config() -> None:
    """Make this process's Ray read RAY_AUTH_MODE again (it caches its config at import)."""
    try:
        from ray._raylet import Config
    except ImportError:
        return
    Config.initialize("")


def shutdown_ray() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()
