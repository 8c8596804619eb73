"""What a stage runs in: the home folder and the clock, as one explicit object.

The edges build it once, from the environment (``CRYPTOVOLT_HOME``, ``CRYPTOVOLT_NOW``) and the
command line: the CLI in :func:`core.cli.main` (``args.context``), the dashboard in
:func:`ui.context.context`. Below the edge the stages take what they need of it as arguments
(``now=context.now()``); none reads the environment for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core import config
from core.clock import Clock, SystemClock, clock_from_env

__all__ = ["Context", "child_env"]


def child_env(home: Path) -> dict[str, str]:
    """What a child process's environment must say for it to run in ``home``: the one job
    launcher puts it into a job process's environment (``Popen(env=)``) and a Ray worker's
    (``runtime_env``); the child reads it back at its edge (:meth:`Context.from_env`)."""
    return {"CRYPTOVOLT_HOME": str(home)}


@dataclass(frozen=True)
class Context:
    """The home folder and the clock of one run."""

    home: Path
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Context:
        """The context the environment describes (default: this process's).

        Raises:
            ConfigError: ``CRYPTOVOLT_HOME`` names a file, or ``CRYPTOVOLT_NOW`` is not a time.
        """
        env = os.environ if environ is None else environ
        return cls(home=config.home(), clock=clock_from_env(env))

    @property
    def paths(self) -> config.Paths:
        """Where each kind of file lives under :attr:`home`."""
        return config.Paths(self.home)

    def now(self) -> pd.Timestamp:
        """The clock's time as a UTC timestamp."""
        return pd.Timestamp(self.clock.now()).tz_convert("UTC")
