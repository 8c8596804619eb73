"""Job liveness between fork and exec (core.procs.pid_alive with a marker): a just-forked child
still carries its parent's command line, without the job id; it is a job starting, not gone.

The window is real but short (the launcher's Popen returns after exec; another process reading
``pid.json`` or a status can look sooner, and CI once caught it). Here a child is held in it on
purpose: a Python process forks and the fork never execs, so its command line stays the parent's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psutil
import pytest

from core import procs
from core.procs import pid_alive
from tests.waiting import wait_until

FORKER = """
import os, signal, sys
child = os.fork()
if child == 0:
    signal.pause()  # a fork that has not exec'd: its command line is the parent's
    os._exit(0)
print(child, flush=True)
sys.stdin.read()
"""


@pytest.fixture
def forked():
    """The pid of a child between fork and exec (held there), and its parent's."""
    parent = subprocess.Popen(
        [sys.executable, "-c", FORKER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        yield child, parent.pid
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        wait_until(lambda: not psutil.pid_exists(child) or not pid_alive(child), 30, "the fork")


def test_a_child_between_fork_and_exec_counts_as_the_job_starting(forked):
    child, parent = forked
    cmdline = psutil.Process(child).cmdline()
    assert cmdline == psutil.Process(parent).cmdline() and "job-7f3a" not in " ".join(cmdline)
    assert pid_alive(child, marker="job-7f3a")  # the old check said gone: the job was lost


def test_a_fork_that_never_execs_stops_counting_after_the_grace(forked, monkeypatch):
    child, _ = forked
    monkeypatch.setattr(procs, "FORK_EXEC_GRACE", 0.0)
    wait_until(lambda: not pid_alive(child, marker="job-7f3a"), 10, "the grace to pass")
    assert pid_alive(child)  # it lives; it is just not that job


def test_a_stranger_with_its_own_command_line_is_not_the_job():
    other = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        wait_until(
            lambda: "sys.stdin.read()" in " ".join(psutil.Process(other.pid).cmdline()),
            30,
            "its exec",
        )
        assert not pid_alive(other.pid, marker="job-7f3a")
    finally:
        other.kill()
        other.wait(timeout=30)
