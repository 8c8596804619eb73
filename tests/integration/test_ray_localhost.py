"""A local Ray (``connect()`` without an address) listens on the loopback only: every port Ray
reports for its node (GCS, raylet, object manager, agents) is bound to 127.0.0.1 / ::1 in the
kernel's table, none to all interfaces or the LAN address."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sockets import is_loopback, listening

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.ray]

_SCRIPT = """
import json
import os
from pathlib import Path
from core.jobs.ray_executor import connect
ray = connect(None, home=Path(os.environ["CRYPTOVOLT_HOME"]))
node = ray.nodes()[0]
ports = {k: v for k, v in node.items() if k.endswith("Port") and isinstance(v, int) and v > 0}
ports["gcs"] = int(ray.get_runtime_context().gcs_address.rsplit(":", 1)[1])
print(json.dumps({"ip": node["NodeManagerAddress"], "ports": ports}))
ray.shutdown()
"""


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table")
def test_a_local_ray_listens_on_the_loopback_only(home: Path):
    pytest.importorskip("ray")
    # the table is read while Ray runs: the script prints its ports, then waits for a line
    script = _SCRIPT.replace(
        "ray.shutdown()", "import sys; sys.stdout.flush(); sys.stdin.readline(); ray.shutdown()"
    )
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        info = json.loads(proc.stdout.readline())
        bound_at = listening()
        ports = info["ports"]
        assert ports, info
        for name, port in ports.items():
            bound = bound_at.get(port, set())
            assert bound, f"Ray reports {name} on {port}, nothing listens there"
            wide = sorted(ip for ip in bound if not is_loopback(ip))
            assert not wide, f"{name} (port {port}) listens on {wide}, not only the loopback"
        assert info["ip"] == "127.0.0.1", info
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
