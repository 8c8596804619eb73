"""``streamlit run`` for tests: on a port the OS picks, ready when its health check says ok.

``--server.port 0`` makes Streamlit bind a free port itself and print it (``URL: http://...:PORT``);
the test reads it from the log. A port found free by the test and then handed over could be
taken by another process meanwhile (the machine is shared), and the health check would then get
an answer from someone else's server.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import requests

from tests.waiting import wait_until

__all__ = ["QUIET_ARGS", "Streamlit"]

ROOT = Path(__file__).resolve().parents[1]

#: Headless on the loopback, no usage stats, no file watcher: how the tests run the app.
QUIET_ARGS = (
    "--server.headless",
    "true",
    "--server.address",
    "127.0.0.1",
    "--browser.gatherUsageStats",
    "false",
    "--server.fileWatcherType",
    "none",
)


class Streamlit:
    """``streamlit run SCRIPT --server.port 0 ARGS``, its output in ``log``; ``.url``, ``.port``.

    ``host``: where the health check (and ``.url``) reaches it. Stop it with :meth:`stop`.
    """

    def __init__(
        self,
        script: Path,
        env: dict[str, str],
        log: Path,
        *,
        args: Sequence[str] = QUIET_ARGS,
        host: str = "127.0.0.1",
    ) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", "0"]
                + list(args),
                cwd=ROOT,
                env={**env, "PYTHONUNBUFFERED": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self.port = wait_until(self._port, 90, f"streamlit to print its URL in {log}")
            self.url = f"http://{host}:{self.port}"
            wait_until(self._healthy, 90, f"{self.url}/_stcore/health to say ok")
        except BaseException:
            self.stop()
            raise

    def _alive(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(
                f"streamlit exited {self.proc.returncode}:\n{self.log.read_text()}"
            )

    def _port(self) -> int | None:
        self._alive()
        found = re.search(r"URL: http://\S+:(\d+)", self.log.read_text())
        return int(found.group(1)) if found else None

    def _healthy(self) -> bool:
        self._alive()
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{self.url}/_stcore/health", timeout=2).text.strip() == "ok"
        return False

    def stop(self) -> None:
        """SIGTERM to its process group, SIGKILL if it is still there 10 s later."""
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
