"""Is a process still there? One answer for every part of CryptoVolt that leaves a pid on disk.

Jobs (``runs/{job_id}/status.json``) and the registry's temp folders record the pid of the
process that owns them; a reader decides from that pid whether the owner still lives. A zombie
(exited, not yet reaped) counts as gone, and ``marker`` guards against a recycled pid: when given,
the process only counts if its command line contains it (a job's id does).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from pathlib import Path

__all__ = ["group_alive", "pid_alive", "process_start", "reap_when_done"]

_DEAD_STATES = frozenset({"Z", "X"})


def _state(stat: str) -> str:
    """The state letter from ``/proc/{pid}/stat`` (after the parenthesised command name)."""
    return stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else "?"


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot, ``/proc/{pid}/stat`` field 22), or
    None when it is gone or there is no ``/proc``. A pid and its start time name one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[-1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int, *, marker: str | None = None, started: int | None = None) -> bool:
    """True while ``pid`` is a live (not zombie) process; with ``started``, the one that started
    then (see :func:`process_start`); else, with ``marker``, one whose command line contains
    ``marker``. Without ``/proc`` it falls back to "does the pid exist"."""
    if pid <= 0:
        return False
    if started is not None:
        marker = None
        if process_start(pid) not in (started, None):
            return False
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text()
        cmdline = (proc / "cmdline").read_bytes() if marker is not None else b""
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here
        return _exists(pid)
    if _state(stat) in _DEAD_STATES:
        return False
    return marker is None or marker.encode() in cmdline


def group_alive(pgid: int) -> bool:
    """True while any non-zombie process is left in the process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
                if int(fields[2]) == pgid and fields[0] not in _DEAD_STATES:
                    return True
        return False
    return True


def reap_when_done(proc: subprocess.Popen) -> None:
    """Collect ``proc``'s exit status as soon as it ends (a daemon thread waits on it), so a
    child started by a long-lived process (the Streamlit server, a Ray driver) never lingers as
    a zombie after its job ended."""
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
