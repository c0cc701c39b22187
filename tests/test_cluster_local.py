"""A local Ray run listens on loopback only, with token authentication set by ponder."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import textwrap

import pytest

from ponder.errors import PonderError
from ponder.selfplay.cluster import check_reachable, ensure_ray, parse_address

# Listeners that may be non-loopback, each with the reason it cannot be pinned to 127.0.0.1 in
# the Ray version in use. Empty: with ponder's start, every Ray process binds to loopback.
ALLOWED_NON_LOOPBACK: dict[str, str] = {}

PROBE = textwrap.dedent(
    """
    import json, os, time
    import psutil, ray
    from ponder.selfplay.cluster import auth_mode, ensure_ray

    ensure_ray(num_cpus=1)

    @ray.remote
    class Probe:
        def pid(self):
            return os.getpid()

    actor = Probe.remote()
    ray.get(actor.pid.remote())
    time.sleep(2)  # agents bind their ports a moment after the driver is up
    me = psutil.Process()
    found = []
    for proc in [me, *me.children(recursive=True)]:
        try:
            for conn in proc.net_connections(kind="inet"):
                udp_bound = conn.type == 2 and not conn.raddr
                if conn.status == psutil.CONN_LISTEN or udp_bound:
                    found.append([proc.name(), conn.laddr.ip, conn.laddr.port])
        except psutil.Error:
            pass
    node = ray.util.get_node_ip_address()

    # A user error in an actor's constructor comes back as ActorDiedError text only.
    from ponder.errors import PonderError, user_error_in

    @ray.remote
    class Refuses:
        def __init__(self):
            raise PonderError("checkpoint c: network channels=16 does not match the config's 64")

        def ping(self):
            return 1

    try:
        ray.get(Refuses.remote().ping.remote())
        actor_error = None
    except Exception as exc:
        found_error = user_error_in(exc)
        actor_error = [type(exc).__name__, None if found_error is None else str(found_error)]
    print(json.dumps({"listeners": found, "auth": auth_mode(), "node": node, "actor": actor_error}))
    ray.shutdown()
    """
)


def is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


@pytest.mark.slow
def test_local_ray_listens_on_loopback_only_with_token_auth():
    """Also: a PonderError raised in an actor's constructor is recovered from Ray's text."""
    pytest.importorskip("psutil")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=240, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["auth"] == "token"
    assert report["node"] == "127.0.0.1"
    name, message = report["actor"]
    assert name.endswith("ActorDiedError"), name
    assert message == "checkpoint c: network channels=16 does not match the config's 64"
    listeners = report["listeners"]
    assert len(listeners) >= 4, listeners  # GCS, raylet, agents and the actor all listen
    exposed = [
        (name, ip, port)
        for name, ip, port in listeners
        if not is_loopback(ip) and name not in ALLOWED_NON_LOOPBACK
    ]
    assert not exposed, f"listening beyond this machine: {exposed}"


def test_a_disabled_auth_mode_is_refused_for_a_local_run(monkeypatch):
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    with pytest.raises(PonderError, match="token authentication only"):
        ensure_ray()


@pytest.mark.parametrize("address", ["nohost", "host:", ":80", "h:99999", "h:x", "ray://h"])
def test_malformed_addresses_are_one_line(address):
    with pytest.raises(PonderError, match="HOST:PORT"):
        parse_address(address)


def test_an_address_where_nothing_listens_fails_in_seconds():
    import socket
    import time

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(PonderError, match="no Ray cluster answers"):
        check_reachable(f"127.0.0.1:{port}", timeout=2.0)
    assert time.monotonic() - start < 5
