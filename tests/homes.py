"""The home a test runs in, as its edge would build it: the conftest's autouse ``home`` fixture
names it in ``CRYPTOVOLT_HOME``, and the job layer takes it as an argument (issue 18.5)."""

from __future__ import annotations

from pathlib import Path

from core.config import Paths
from core.context import Context


def env_home() -> Path:
    """The home folder this test's environment names."""
    return Context.from_env().home


def env_paths() -> Paths:
    """The folders of :func:`env_home`."""
    return Context.from_env().paths


def env_runs() -> Path:
    """The jobs folder of :func:`env_home`."""
    return env_paths().runs
