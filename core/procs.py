"""Is a process still there? One answer for every part of CryptoVolt that leaves a pid on disk.

Jobs (``runs/{job_id}/status.json``) and the registry's temp folders record the pid of the
process that owns them; a reader decides from that pid whether the owner still lives. A zombie
(exited, not yet reaped) counts as gone, and ``marker`` guards against a recycled pid: when given,
the process only counts if its command line contains it (a job's id does), or while it is
between fork and exec: a child younger than :data:`FORK_EXEC_GRACE` seconds whose command line is
still its parent's (the launcher's) is a job starting, not a stranger. ``psutil`` answers on
Linux, macOS and Windows alike.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable

import psutil

__all__ = [
    "end_group",
    "end_tree",
    "group_alive",
    "leads_session",
    "pid_alive",
    "process_start",
    "reap_when_done",
]

_DEAD_STATES = frozenset({psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD})
# Older CryptoVolt recorded a start as clock ticks after boot (``/proc/{pid}/stat`` field 22, 100
# a second); a start in hundredths of a second since the epoch is far above this.
_TICKS_BELOW = 10**10
#: Seconds after its fork during which a child that still carries its parent's command line
#: counts as the job starting (exec takes milliseconds; a loaded machine can stretch it).
FORK_EXEC_GRACE = 5.0


def process_start(pid: int) -> int | None:
    """When process ``pid`` started (hundredths of a second since the epoch), or None when it is
    gone or cannot be asked. A pid and its start time name one process."""
    try:
        return int(round(psutil.Process(pid).create_time() * 100))
    except (psutil.Error, ValueError, OverflowError):
        return None


def _started_differently(pid: int, started: int) -> bool:
    now = process_start(pid)
    if now is None:
        return False  # cannot tell: the other checks decide
    if started < _TICKS_BELOW:  # recorded by an older CryptoVolt: ticks after boot
        now -= round(psutil.boot_time() * 100)
    return bool(abs(now - started) > 1)  # a float's rounding, not another process


def pid_alive(pid: int, *, marker: str | None = None, started: int | None = None) -> bool:
    """True while ``pid`` is a live (not zombie) process; with ``started``, the one that started
    then (see :func:`process_start`); else, with ``marker``, one whose command line contains
    ``marker`` or that is between fork and exec (its parent's command line, younger than
    :data:`FORK_EXEC_GRACE`). A process this user may not inspect counts as alive when it
    exists."""
    if pid <= 0:
        return False
    if started is not None:
        marker = None
        if _started_differently(pid, started):
            return False
    try:
        proc = psutil.Process(pid)
        if proc.status() in _DEAD_STATES:
            return False
        if marker is None:
            return True
        cmdline = proc.cmdline()
        return marker in "\0".join(cmdline) or _between_fork_and_exec(proc, cmdline)
    except psutil.NoSuchProcess:  # gone, or a zombie (psutil.ZombieProcess)
        return False
    except psutil.AccessDenied:
        return bool(psutil.pid_exists(pid))


def _between_fork_and_exec(proc: psutil.Process, cmdline: list[str]) -> bool:
    """``proc`` was forked moments ago and has not exec'd yet: its command line is still its
    parent's. (A fork that never execs, such as a server's worker, stops counting after
    :data:`FORK_EXEC_GRACE` seconds.)"""
    try:
        if time.time() - proc.create_time() > FORK_EXEC_GRACE:
            return False
        parent = proc.parent()
        return parent is not None and parent.cmdline() == cmdline
    except psutil.Error:
        return False


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() not in _DEAD_STATES
    except psutil.Error:
        return False


def _members(pgid: int) -> list[psutil.Process]:
    """The live processes of process group ``pgid``. Where the OS has no process groups
    (Windows), the process ``pgid`` and its descendants."""
    if not hasattr(os, "getpgid"):
        try:
            leader = psutil.Process(pgid)
            tree = [leader, *leader.children(recursive=True)]
        except psutil.Error:
            return []
        return [p for p in tree if _alive(p)]
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):
            if os.getpgid(proc.pid) == pgid and _alive(proc):
                found.append(proc)
    return found


def group_alive(pgid: int) -> bool:
    """True while any non-zombie process is left in the process group ``pgid``."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    return bool(_members(pgid))


def end_group(pgid: int, *, force: bool = False) -> None:
    """Ask every process of group ``pgid`` to stop (SIGTERM), or with ``force`` kill them
    (SIGKILL); one ``killpg`` where the OS has process groups, else each process in turn."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL if force else signal.SIGTERM)
        return
    for proc in _members(pgid):
        with contextlib.suppress(psutil.Error):
            if force:
                proc.kill()
            else:
                proc.terminate()


def leads_session(pid: int) -> bool:
    """True when process ``pid`` leads its own session, as a launched job does
    (``start_new_session``), so its process group is the job and nothing else. A job run in the
    foreground of a terminal shares its session (and maybe its group: a pipeline's ``| tee``)
    with the shell. Where the OS has no sessions (Windows) a process's tree stands for its group:
    True."""
    if not hasattr(os, "getsid"):
        return True
    try:
        return bool(os.getsid(pid) == pid)
    except OSError:
        return False


def end_tree(
    pid: int, *, timeout: float, patience: Callable[[], bool] | None = None, grace: float = 30.0
) -> None:
    """Stop process ``pid`` and its descendants (not its process group: a foreground job shares
    that with its terminal): SIGTERM to each, then, after ``timeout`` seconds (up to ``grace``
    more while ``patience()`` says the process is winding down on its own), SIGKILL to those
    still there; returns once they are gone (a zombie counts as gone) or 5 s after the SIGKILL."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return
    for force in (False, True):
        for proc in tree:
            with contextlib.suppress(psutil.Error):
                if force:
                    proc.kill()
                else:
                    proc.terminate()
        started = time.monotonic()
        while tree := [p for p in tree if _alive(p)]:
            waited = time.monotonic() - started
            if force and waited > 5.0:
                return
            if not force and waited > timeout:  # noqa: SIM102 (patience is asked only after it)
                if waited > timeout + grace or patience is None or not patience():
                    break
            time.sleep(0.05)
        if not tree:
            return


def reap_when_done(proc: subprocess.Popen[bytes]) -> None:
    """Collect ``proc``'s exit status as soon as it ends (a daemon thread waits on it), so a
    child started by a long-lived process (the Streamlit server, a Ray driver) never lingers as
    a zombie after its job ended."""
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
