"""`streamlit run streamlit_app.py` with no address listens on the loopback only (the project's
.streamlit/config.toml pins it), and an address given on the command line still wins."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.sockets import is_loopback, listening
from tests.waiting import APP_TIMEOUT, wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(home: Path, *extra: str, host: str = "127.0.0.1") -> set[str]:
    """Start the app as a user would (plus ``extra``), wait for its health check, and return the
    addresses its port is bound to."""
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port)]
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home)}
    proc = subprocess.Popen(
        cmd + list(extra),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def healthy() -> bool:
            assert proc.poll() is None, "the app exited"
            with urllib.request.urlopen(f"http://{host}:{port}/_stcore/health", timeout=2):
                return True

        wait_until(healthy, APP_TIMEOUT, "the app's health check", ignore=(OSError,))
        return listening().get(port, set())
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_a_plain_streamlit_run_listens_on_the_loopback_only(home: Path):
    bound = _serve(home)
    assert bound and all(is_loopback(ip) for ip in bound), bound


def test_an_address_on_the_command_line_overrides_the_pinned_one(home: Path):
    bound = _serve(home, "--server.address", "127.0.0.2", host="127.0.0.2")  # another loopback
    assert bound == {"127.0.0.2"}, bound
