"""Training widgets: the form that launches jobs and the live job list.

The job list polls the files under ``runs/`` with ``st.fragment(run_every=...)`` only while a job
is queued or running, and reruns the whole page when one finishes (so polling stops and the
registry-backed parts of the app refresh). Nothing here imports TensorFlow: the jobs do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from core import jobs
from core.config import LSTMConfig, TargetConfig, XGBConfig
from core.data.coins import DEFAULT_COINS, display_name
from core.errors import CryptoVoltError
from ui import state, training_view
from ui.loaders import stored_summary

__all__ = ["POLL_SECONDS", "render_job_list", "render_training_form", "trainable_coins"]

POLL_SECONDS = 2.0
MODELS_PAGE = Path(__file__).resolve().parent.parent / "pages" / "models.py"
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


def trainable_coins(interval: str = "1h") -> list[str]:
    """Coins with stored candles at ``interval``: default coins first, then the rest by name."""
    summary = stored_summary()
    found = set(summary.loc[summary["interval"] == interval, "symbol"]) if len(summary) else set()
    order = {s: i for i, s in enumerate(DEFAULT_COINS)}
    return sorted(found, key=lambda s: (order.get(s, len(order)), s))


def _settings_inputs() -> dict[str, Any]:
    """The main settings; bounds are left to the config dataclasses so their message is shown."""
    target, xgb, lstm = TargetConfig(), XGBConfig(), LSTMConfig()
    key = state.TRAINING_SETTING_PREFIX
    with st.expander("Settings", icon=":material/tune:"):
        st.caption("Target (XGBoost): will the close `horizon` candles ahead be this much higher?")
        a, b = st.columns(2)
        horizon = a.number_input(
            "Horizon (candles)", value=target.horizon, step=1, key=f"{key}horizon"
        )
        threshold_pct = b.number_input(
            "Threshold (%)",
            value=target.threshold * 100,
            step=0.1,
            format="%.2f",
            key=f"{key}threshold",
        )
        st.caption("XGBoost")
        a, b = st.columns(2)
        trees = a.number_input("Trees", value=xgb.n_estimators, step=10, key=f"{key}trees")
        depth = b.number_input("Depth", value=xgb.max_depth, step=1, key=f"{key}depth")
        st.caption("LSTM")
        a, b, c = st.columns(3)
        window = a.number_input("Window (candles)", value=lstm.window, step=1, key=f"{key}window")
        units = b.number_input("Units", value=lstm.units, step=1, key=f"{key}units")
        epochs = c.number_input("Epochs (max)", value=lstm.epochs, step=1, key=f"{key}epochs")
        a, b, _ = st.columns(3)
        batch = a.number_input("Batch size", value=lstm.batch_size, step=1, key=f"{key}batch_size")
        patience = b.number_input(
            "Patience (0 = off)", value=lstm.patience, step=1, key=f"{key}patience"
        )
    return {
        "horizon": int(horizon),
        "threshold": round(float(threshold_pct) / 100, 6),
        "trees": int(trees),
        "depth": int(depth),
        "window": int(window),
        "units": int(units),
        "epochs": int(epochs),
        "batch_size": int(batch),
        "patience": int(patience),
    }


def render_training_form(interval: str = "1h") -> list[str]:
    """Coins, models and settings in one form; **Train** launches one job per coin.

    Returns the ids of jobs launched by this run (empty otherwise). Bad settings are shown in the
    form and nothing starts.
    """
    coins = trainable_coins(interval)
    if not coins:
        st.info("No candles yet. Open **Data** to fetch them or load the bundled sample first.")
        return []
    with st.form("training_form", border=True):
        picked = st.multiselect(
            "Coins",
            coins,
            default=coins,
            format_func=display_name,
            key=state.TRAINING_COINS,
            placeholder="Pick coins to train",
        )
        models = training_view.model_picker(key=state.TRAINING_MODELS)
        settings = _settings_inputs()
        submitted = st.form_submit_button("Train", icon=":material/play_arrow:", type="primary")
        if not submitted:
            return []
        try:
            specs = jobs.make_specs(picked, models=models, interval=interval, **settings)
            for spec in specs:
                jobs.require_data(spec)
            launched = [jobs.launch(spec) for spec in specs]
        except CryptoVoltError as exc:
            st.error(str(exc), icon=":material/error:")
            return []
    st.session_state[state.TRAINING_LAUNCHED] = launched
    st.toast(f"Started {len(launched)} training job(s).", icon=":material/play_arrow:")
    return launched


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


def _open_models(name: str) -> None:
    st.session_state[state.MODELS_SELECTED] = name


def _render_result(job: jobs.JobStatus) -> None:
    for result in job.result:
        name = result.get("name")
        line = training_view.result_words(result)
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(line)
        if MODELS_PAGE.exists() and right.button(
            "Open", key=f"open_{job.job_id}_{name}", icon=":material/leaderboard:"
        ):
            _open_models(str(name))
            st.switch_page("pages/models.py")


def _render_job(job: jobs.JobStatus) -> None:
    job_id = job.job_id
    job_state = job.state.value
    with st.container(border=True):
        head, side = st.columns([5, 1], vertical_alignment="center")
        models = training_view.kinds_text(job.get("models", []))
        head.markdown(
            f"**{display_name(job.subject)}** · {models} · "
            f":{_STATE_COLORS.get(job_state, 'gray')}-badge[{_STATE_ICONS.get(job_state, '')} "
            f"{job_state}] · `{job_id}` {_elapsed(job)}"
        )
        if job.active:
            if side.button("Cancel", key=f"cancel_{job_id}", icon=":material/stop:"):
                jobs.cancel(job_id)
                st.rerun()
            st.progress(job.progress, text=jobs.describe_progress(job))
            if job.metrics:
                st.caption(" · ".join(f"{k} {v:.5g}" for k, v in job.metrics.items()))
        elif job.state is jobs.JobState.FAILED:
            st.error(job.error or "failed", icon=":material/error:")
        elif job.state is jobs.JobState.CANCELLED:
            st.warning(job.message or "cancelled", icon=":material/cancel:")
        _render_result(job)
        with st.expander("Log", expanded=job.active):
            st.code(jobs.tail_log(job_id, 30) or "(nothing logged yet)", language=None)


def render_job_list(*, limit: int = 20) -> None:
    """The newest ``limit`` training jobs, live while any is queued or running (fetch jobs are
    the Data page's)."""
    train = jobs.JobKind.TRAIN
    active = any(j.active for j in jobs.list_jobs(limit=limit, kind=train))

    @st.fragment(run_every=POLL_SECONDS if active else None)
    def panel() -> None:
        found = jobs.list_jobs(limit=limit, kind=train)
        running = sorted(j.job_id for j in found if j.active)
        before = st.session_state.get(state.TRAINING_ACTIVE_JOBS, [])
        st.session_state[state.TRAINING_ACTIVE_JOBS] = running
        if set(before) - set(running) or (running and not active):
            st.rerun()  # a job finished or appeared: rerun the page so polling follows
        if not found:
            st.caption("No training jobs yet.")
            return
        for job in found:
            _render_job(job)

    panel()
