"""`streamlit run streamlit_app.py` with no address listens on the loopback only (the project's
.streamlit/config.toml pins it), and an address given on the command line still wins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.sockets import is_loopback, listening
from tests.streamlit_server import Streamlit

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table"),
]


def _serve(home: Path, *extra: str, host: str = "127.0.0.1") -> set[str]:
    """Start the app as a user would (plus ``extra``; on a port it picks itself), wait for its
    health check, and return the addresses its port is bound to."""
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home)}
    app = Streamlit(ROOT / "streamlit_app.py", env, home / "streamlit.log", args=extra, host=host)
    try:
        return listening().get(app.port, set())
    finally:
        app.stop()


def test_a_plain_streamlit_run_listens_on_the_loopback_only(home: Path):
    bound = _serve(home)
    assert bound and all(is_loopback(ip) for ip in bound), bound


def test_an_address_on_the_command_line_overrides_the_pinned_one(home: Path):
    bound = _serve(home, "--server.address", "127.0.0.2", host="127.0.0.2")  # another loopback
    assert bound == {"127.0.0.2"}, bound
