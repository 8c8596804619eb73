"""The dashboard's edge: the home folder and the clock this script run works in.

Read from the environment (``CRYPTOVOLT_HOME``, ``CRYPTOVOLT_NOW``) at each call, so a test that
sets them between runs of a page is seen; the pages and views pass what they need of it on.
"""

from __future__ import annotations

from core.context import Context

__all__ = ["context"]


def context() -> Context:
    """This run's :class:`~core.context.Context`.

    Raises:
        ConfigError: ``CRYPTOVOLT_HOME`` names a file, or ``CRYPTOVOLT_NOW`` is not a time.
    """
    return Context.from_env()
