"""Training page: where training jobs run, the local job queue or Ray (shown only when Ray is
installed), and the one launch call the Training form uses for either."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from core import jobs
from core.jobs import ray_executor
from ui import state
from ui.context import context

__all__ = ["executor_choice", "launch_training"]

_LABELS = {"local": "this machine (job queue)", "ray": "Ray (a local Ray, one task per coin)"}


def executor_choice() -> str:
    """The "Run on" choice (only when Ray can be imported); returns ``local`` or ``ray``."""
    if not ray_executor.ray_available():
        return "local"
    return str(
        st.selectbox(
            "Run training on",
            list(_LABELS),
            format_func=_LABELS.__getitem__,
            key=state.TRAINING_EXECUTOR,
        )
    )


def launch_training(specs: Sequence[jobs.JobSpec]) -> list[str]:
    """Launch ``specs`` where the page's choice says; returns the job ids (same job folders,
    status and logs either way). Raises what :func:`core.jobs.launch_all` raises."""
    ray = st.session_state.get(state.TRAINING_EXECUTOR) == "ray" and ray_executor.ray_available()
    return jobs.launch_all(list(specs), home=context().home, executor="ray" if ray else "local")
