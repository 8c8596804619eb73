"""A Ray task's worker takes its own process group where the OS has them (job cancel signals the
group), and a system without ``os.setsid`` (Windows) runs the task instead of failing in it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.jobs import ray_executor

LEADS = (
    "import os; from core.jobs.ray_executor import lead_own_group; "
    "before = os.getpgid(0) == os.getpid(); lead_own_group(); lead_own_group(); "
    "print(before, os.getpgid(0) == os.getpid())"
)


@pytest.mark.skipif(not hasattr(os, "getpgid"), reason="process groups are POSIX")
def test_a_worker_that_is_not_a_group_leader_becomes_one_and_twice_is_harmless():
    # started in pytest's own group (no new session), as a worker might be
    done = subprocess.run(
        [sys.executable, "-c", LEADS], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["False", "True"], done.stderr


def test_without_setsid_the_task_goes_on(monkeypatch):
    monkeypatch.delattr(os, "setsid", raising=False)
    ray_executor.lead_own_group()  # the old `os.setsid()` raised AttributeError here
