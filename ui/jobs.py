"""Training widgets: the live job list (the form that launches jobs is ui/training_form.py).

The job list polls the files under ``runs/`` with ``st.fragment(run_every=...)`` only while a job
is queued or running, and reruns the whole page when one finishes (so polling stops and the
registry-backed parts of the app refresh). Nothing here imports TensorFlow: the jobs do.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core import jobs
from core.data.coins import display_name
from core.errors import CryptoVoltError
from core.jobs.progress_words import overall_fraction, progress_words
from ui import state, training_view
from ui.cells import number
from ui.context import context
from ui.text import plain

__all__ = ["POLL_SECONDS", "render_job_list"]

POLL_SECONDS = 2.0
_STATE_ICONS = {
    "queued": ":material/schedule:",
    "running": ":material/autorenew:",
    "succeeded": ":material/check_circle:",
    "failed": ":material/error:",
    "cancelled": ":material/cancel:",
}
_STATE_COLORS = {
    "queued": "gray",
    "running": "blue",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "orange",
}


def _elapsed(job: jobs.JobStatus) -> str:
    start = job.started_at
    if not start:
        return ""
    end = job.finished_at
    try:
        t0 = datetime.fromisoformat(start)
        t1 = datetime.fromisoformat(end) if end else datetime.now(UTC)
    except ValueError:
        return ""
    seconds = max(0, int((t1 - t0).total_seconds()))
    return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _result_line(job: jobs.JobStatus) -> None:
    if job.result:
        names = ", ".join(f"{r.name} {r.version}" for r in job.result)
        st.caption(plain(f"Registered {names}: see Results above."))


def _restart(job_id: str) -> None:
    try:
        new_id = jobs.restart(job_id, home=context().home)
    except CryptoVoltError as exc:
        st.error(plain(exc), icon=":material/error:")
        return
    st.toast(f"Restarted as job {new_id}.", icon=":material/restart_alt:")
    st.rerun()


def _render_job(job: jobs.JobStatus) -> None:
    job_id = job.job_id
    job_state = job.state.value
    with st.container(border=True):
        head, side = st.columns([5, 1], vertical_alignment="center")
        models = training_view.kinds_text(job.models)
        head.markdown(
            f"**{display_name(job.subject)}** · {models} · "
            f":{_STATE_COLORS.get(job_state, 'gray')}-badge[{_STATE_ICONS.get(job_state, '')} "
            f"{job_state}] · `{job_id}` {_elapsed(job)}"
        )
        if job.active:
            if side.button("Cancel", key=f"cancel_{job_id}", icon=":material/stop:"):
                jobs.cancel(job_id, runs=context().paths.runs)
                st.rerun()
            st.progress(overall_fraction(job), text=plain(progress_words(job)))
            if job.metrics:
                st.caption(plain(" · ".join(f"{k} {number(v)}" for k, v in job.metrics.items())))
        elif job.state is jobs.JobState.FAILED:
            st.error(plain(job.error or "failed"), icon=":material/error:")
        elif job.state is jobs.JobState.CANCELLED:
            st.warning(plain(job.message or "cancelled"), icon=":material/cancel:")
        restartable = job.state in (jobs.JobState.FAILED, jobs.JobState.CANCELLED)
        if restartable and side.button(
            "Restart",
            key=f"restart_{job_id}",
            icon=":material/restart_alt:",
            help="Start this job again with the same coin, models and settings.",
        ):
            _restart(job_id)
        _result_line(job)
        with st.expander("Log", expanded=False):
            st.code(
                jobs.tail_log(job_id, 30, runs=context().paths.runs) or "(nothing logged yet)",
                language=None,
                wrap_lines=True,
            )


def render_job_list(*, limit: int = 20) -> None:
    """The newest ``limit`` training jobs, live while any is queued or running (fetch jobs are
    the Data page's)."""
    train = jobs.JobKind.TRAIN
    runs = context().paths.runs
    active = any(j.active for j in jobs.list_jobs(runs=runs, limit=limit, kind=train))

    @st.fragment(run_every=POLL_SECONDS if active else None)
    def panel() -> None:
        found = jobs.list_jobs(runs=runs, limit=limit, kind=train)
        running = sorted(j.job_id for j in found if j.active)
        before = st.session_state.get(state.TRAINING_ACTIVE_JOBS, [])
        st.session_state[state.TRAINING_ACTIVE_JOBS] = running
        if set(before) - set(running) or (running and not active):
            st.rerun()  # a job finished or appeared: rerun the page so polling follows
        if not found:
            st.caption("No training jobs yet.")
            return
        training_view.render_results(found)
        for job in found:
            _render_job(job)

    panel()
