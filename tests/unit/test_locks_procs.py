"""core.locks and core.procs through real processes: two processes contend for one lock, a live /
dead / zombie pid, the cancel of a whole process group, and of a foreground job's own tree."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from core.locks import LockBusy, acquire_lock, file_lock
from core.procs import end_group, end_tree, group_alive, leads_session, pid_alive, process_start
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import sys
from pathlib import Path
from core.locks import file_lock
with file_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""

OLD_HOLDER = """
import fcntl, sys
with open(sys.argv[1], "a+") as handle:
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    print("held", flush=True)
    sys.stdin.read()
"""


def _holder(code: str, lock: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(lock)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0


@pytest.mark.parametrize("code", [HOLDER, OLD_HOLDER], ids=["file_lock", "older-flock"])
def test_a_lock_held_by_another_process_excludes_until_it_is_released(tmp_path, code):
    if code is OLD_HOLDER and sys.platform == "win32":
        pytest.skip("an older CryptoVolt only ran where flock exists")
    lock = tmp_path / "deep" / ".lock"
    lock.parent.mkdir()
    proc = _holder(code, lock)
    try:
        with pytest.raises(LockBusy):
            acquire_lock(lock, blocking=False)
        started = time.monotonic()
        with pytest.raises(LockBusy):
            acquire_lock(lock, timeout=0.3)
        assert time.monotonic() - started >= 0.25  # it waited for the timeout
    finally:
        _release(proc)
    with file_lock(lock, blocking=False):  # free once the holder let go
        assert lock.exists()
    assert lock.exists()  # the file stays, so later holders lock the same file


def test_a_killed_holder_frees_the_lock(tmp_path):
    lock = tmp_path / "x.lock"
    proc = _holder(HOLDER, lock)
    proc.kill()
    proc.wait(timeout=60)
    held = acquire_lock(lock, timeout=30)
    held.release()
    held.release()  # twice is harmless


def test_two_takers_in_one_process_exclude_each_other(tmp_path):
    lock = tmp_path / "x.lock"
    with file_lock(lock), pytest.raises(LockBusy):
        acquire_lock(lock, blocking=False)


def test_liveness_of_a_live_a_dead_and_a_zombie_process():
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()", "job-7f3a"], stdin=subprocess.PIPE
    )
    try:
        assert pid_alive(child.pid)
        # between fork and exec the child still carries the parent's command line: wait for the
        # exec (the marker shows), then it must hold
        wait_until(lambda: pid_alive(child.pid, marker="job-7f3a"), 60, "the child's command line")
        assert not pid_alive(child.pid, marker="job-other")
        start = process_start(child.pid)
        assert start is not None and pid_alive(child.pid, started=start)
        assert not pid_alive(child.pid, started=start - 500)  # a recycled pid started earlier
    finally:
        assert child.stdin is not None
        child.stdin.close()
    if sys.platform != "win32":  # exited, not reaped: a zombie
        wait_until(
            lambda: psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE, 60, "a zombie"
        )
        assert psutil.pid_exists(child.pid) and not pid_alive(child.pid)
    child.wait(timeout=60)
    assert not pid_alive(child.pid) and process_start(child.pid) is None
    assert not pid_alive(0) and not pid_alive(999_999_999)


GROUP = """
import subprocess, sys
grandchild = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])
print(grandchild.pid, flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
def test_end_group_stops_the_leader_and_its_grandchild():
    leader = subprocess.Popen(
        [sys.executable, "-c", GROUP],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert leader.stdout is not None
    grandchild = int(leader.stdout.readline())
    assert os.getpgid(grandchild) == leader.pid
    assert group_alive(leader.pid) and pid_alive(grandchild)
    end_group(leader.pid)
    # the leader stays a zombie until reaped below: a zombie is not alive
    wait_until(lambda: not group_alive(leader.pid), 60, "the group to end")
    assert not pid_alive(grandchild)
    assert leader.wait(timeout=60) != 0
    end_group(leader.pid, force=True)  # a gone group is no error
    assert not group_alive(leader.pid)


@pytest.mark.skipif(sys.platform == "win32", reason="sessions and process groups are POSIX")
def test_end_tree_stops_a_foreground_job_and_its_child_but_not_its_pipeline_neighbour():
    """A job run in a terminal leads its process group (a shell's job) but not its session, and
    the group may hold a pipeline's other commands (``| tee``): cancel ends the job's own tree."""
    job = subprocess.Popen(
        [sys.executable, "-c", GROUP],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        process_group=0,
    )
    pause = [sys.executable, "-c", "import signal; signal.pause()"]
    neighbour = subprocess.Popen(pause, process_group=job.pid)  # the pipeline's `tee`
    launched = subprocess.Popen(pause, start_new_session=True)  # how the launcher starts a job
    try:
        assert job.stdout is not None
        grandchild = int(job.stdout.readline())
        assert os.getpgid(neighbour.pid) == job.pid
        assert not leads_session(job.pid) and leads_session(launched.pid)
        end_tree(job.pid, timeout=30)
        assert not pid_alive(job.pid) and not pid_alive(grandchild)
        assert job.wait(timeout=60) != 0
        assert pid_alive(neighbour.pid) and neighbour.poll() is None
    finally:
        for proc in (neighbour, launched, job):
            proc.kill()
            proc.wait(timeout=60)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="older records came from /proc")
def test_a_start_recorded_by_an_older_cryptovolt_still_names_its_process():
    """A running job launched before the upgrade recorded clock ticks after boot."""
    ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[-1].split()[19])
    assert pid_alive(os.getpid(), started=ticks)
    assert not pid_alive(os.getpid(), started=ticks + 500)
