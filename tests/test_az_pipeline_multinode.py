"""`ponder train az --address` on a two-node Ray cluster on this machine, stopped with Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from az_pipeline_support import tiny_config, write_config

from ponder.checkpoint import read_metadata
from ponder.rundir import RunDir

# The two-node cluster lives in a process of its own: Ray keeps per-process state (the node
# address, its config) from the local instances earlier tests of this process started on
# 127.0.0.1, and a cluster started beside that state advertises an address it does not serve.
CLUSTER_SCRIPT = """
import sys
from ray.cluster_utils import Cluster
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
cluster.add_node(num_cpus=1)
cluster.wait_for_nodes()
print(cluster.address, flush=True)
sys.stdin.read()
cluster.shutdown()
"""


@pytest.mark.slow
def test_training_spreads_over_two_nodes_and_ctrl_c_checkpoints(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", CLUSTER_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    address = holder.stdout.readline().strip()
    assert address, "the two-node cluster did not start"
    config = write_config(tmp_path / "ttt.yaml", tiny_config())
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-c",
        "from ponder.cli import main; main()",
        *("train", "az", "--config", str(config), "--out", str(out)),
        *("--address", address, "--workers", "2", "--quiet"),
        *("--set", "run.steps=100000", "--set", "run.log_every=5"),
    ]
    # A test run started in the background inherits SIGINT ignored, and Python then never turns
    # Ctrl-C into KeyboardInterrupt: give the child the default disposition, as a terminal would.
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        run = RunDir(out)
        deadline = time.monotonic() + 240
        # Wait until both workers (one per node) have delivered games and the learner has run.
        while time.monotonic() < deadline and proc.poll() is None:
            rows = [r for r in run.read_metrics() if r.get("kind") == "train"]
            if rows and rows[-1]["selfplay_nodes"] == 2 and rows[-1]["step"] >= 20:
                break
            time.sleep(0.5)
        assert proc.poll() is None, proc.communicate()[0]
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=300)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
        holder.communicate(input="", timeout=120)

    assert proc.returncode == 0, output
    assert "interrupted" in output
    rows = [r for r in run.read_metrics() if r.get("kind") == "train"]
    assert rows[-1]["selfplay_nodes"] == 2
    latest = run.latest_checkpoint()
    pointer = json.loads((run.checkpoints / "latest.json").read_text())
    meta = read_metadata(latest)
    assert pointer["step"] == meta["step"] >= rows[-1]["step"] >= 20
    assert meta["pipeline"]["games"] > 0
