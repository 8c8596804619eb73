"""Training page, Tuning section: start an Optuna sweep as a background job, watch its trials as
they finish (a plot of score by trial and a table), cancel it.

A sweep is a job like a training one (core.jobs.tune_job: its own process, listed by ``job
list``), so it keeps running when the tab closes; this section reads its job status and its
study under ``{home}/tuning/`` and polls (``st.fragment(run_every=...)``) only while the shown
sweep runs.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.data.coins import display_name
from core.errors import CryptoVoltError
from core.jobs import JobState, JobStatus, launch
from core.jobs.ray_executor import ray_available
from core.jobs.results import ModelResult
from core.jobs.tune_job import TuneJob, cancel_sweep, studies, sweep_status
from core.models import config_class, kind_info
from core.registry.gates import card_verdict
from core.registry.metadata import ModelMetadata
from core.registry.model_registry import ModelRegistry
from core.tuning import TuneSpec, storage_path, trials_frame, tunable
from ui import state
from ui.context import context
from ui.text import plain
from ui.training_form import trainable_coins

__all__ = ["POLL_SECONDS", "render_tuning_section", "score_figure"]

POLL_SECONDS = 2.0
_STATE_WORDS = {
    JobState.QUEUED: ":gray[starting]",
    JobState.RUNNING: ":blue[running]",
    JobState.SUCCEEDED: ":green[finished]",
    JobState.FAILED: ":red[failed]",
    JobState.CANCELLED: ":orange[cancelled]",
}


def score_figure(frame: pd.DataFrame) -> go.Figure:
    """Mean walk-forward skill by trial (complete and pruned), the best so far, and 0 = no edge."""
    fig = go.Figure()
    scored = frame[frame["value"].notna()].sort_values("trial")
    for trial_state, symbol in (("complete", "circle"), ("pruned", "x")):
        part = scored[scored["state"] == trial_state]
        if len(part):
            fig.add_trace(
                go.Scatter(
                    x=part["trial"],
                    y=part["value"],
                    mode="markers",
                    name=trial_state,
                    marker={"symbol": symbol, "size": 9},
                )
            )
    done = scored[scored["state"] == "complete"]
    if len(done):
        fig.add_trace(
            go.Scatter(x=done["trial"], y=done["value"].cummax(), mode="lines", name="best so far")
        )
    fig.add_hline(y=0, line_dash="dot", annotation_text="no skill (the baseline)")
    fig.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title="trial",
        xaxis_tickformat="d",
        yaxis_title="mean walk-forward skill",
        legend={"orientation": "h"},
    )
    return fig


def _form(interval: str) -> None:
    coins = trainable_coins(interval)
    if not coins:
        st.info("Fetch candles first (the Data page): a sweep tunes one coin's stored history.")
        return
    # off by default: the sweep form's widgets appear only when asked for
    if not st.toggle("Start a new sweep", key=state.TUNING_FORM):
        return
    with st.form("tuning_form"):
        left, middle, right = st.columns(3)
        coin = left.selectbox("Coin", coins, format_func=display_name)
        kind = middle.selectbox("Model", tunable(), format_func=lambda k: kind_info(k).label)
        trials = right.number_input("Trials", min_value=1, max_value=1000, value=20, step=5)
        epochs = left.number_input(
            "Max epochs per fit (LSTMs)", min_value=1, max_value=1000, value=10
        )
        executors = ["local", "ray"] if ray_available() else ["local"]
        executor = middle.selectbox(
            "Run on", executors, format_func={"local": "this machine", "ray": "Ray"}.__getitem__
        )
        resume = right.checkbox("Continue its stored study (resume)")
        fresh = right.checkbox("Delete its stored study, start over")
        submitted = st.form_submit_button("Start sweep", icon=":material/tune:")
    if not submitted:
        return
    try:
        # the epoch cap applies to kinds whose settings have epochs (the networks)
        has_epochs = any(f.name == "epochs" for f in dataclasses.fields(config_class(kind)))
        fixed = {"epochs": int(epochs)} if has_epochs else {}
        spec = TuneSpec(coin, kind, trials=int(trials), interval=interval, fixed=fixed)
        if storage_path(context().home, spec.study).exists() and not (resume or fresh):
            st.error(
                f"Study {plain(spec.study)} is stored already: tick **resume** to continue it or "
                "**start over** to delete it."
            )
            return
        job = TuneJob(spec, resume=resume, fresh=fresh and not resume)
        launch(job, home=context().home, executor=str(executor))
    except CryptoVoltError as exc:
        st.error(plain(exc))
        return
    st.session_state[state.TUNING_STUDY] = spec.study
    st.toast(f"Started sweep {plain(spec.study)}.", icon=":material/tune:")


def _summary(study: str, found: JobStatus | None, frame: pd.DataFrame) -> str:
    words = "never run" if found is None else _STATE_WORDS.get(found.state, found.state.value)
    asked = None if found is None else found.total
    finished = int(frame["state"].isin(["complete", "pruned"]).sum()) if len(frame) else 0
    line = f"**{plain(study)}**: {words} · {finished}"
    line += f" of {asked} trials" if asked else " trials"
    scored = frame[frame["state"] == "complete"] if len(frame) else frame
    if len(scored):
        best = scored.loc[scored["value"].idxmax()]
        line += f" · best mean skill {best['value']:+.4f} (trial {int(best['trial'])})"
        if best["value"] <= 0:
            line += " · no edge on the folds"
    if found is not None and found.result:
        line += "".join(f"  \n{_tuned_words(r)}" for r in found.result)
    return line


def _tuned_words(result: ModelResult) -> str:
    """The tuned version's verdict in the one vocabulary and whether it was promoted:
    ``"Tuned version xgb_direction_btcusdt v2: no edge: passes 3 of 4 — fails: ... · not
    promoted: v1 stays champion"``."""
    try:
        record: ModelMetadata | None = ModelRegistry(context().paths.models).record(
            result.name, result.version
        )
    except CryptoVoltError:
        record = None  # deleted since the sweep: what the job recorded is all there is
    verdict = card_verdict(record.card) if record is not None else result.verdict
    verdict = verdict or "no verdict recorded (it is no longer in the registry)"
    promoted = record.promoted if record is not None else result.promoted
    promotion = result.promotion or ("promoted: it is the champion" if promoted else "not promoted")
    colour = "green" if promoted and (record is None or record.gates_passed) else "orange"
    return (
        f"Tuned version **{plain(result.name)} {plain(result.version)}**: "
        f":{colour}[{plain(verdict)}] · {plain(promotion)}"
    )


def _cancel(study: str) -> None:
    cancel_sweep(study, home=context().home)


def _watch() -> None:
    home = context().home
    names = studies(home)
    if not names:
        st.caption("No sweeps yet.")
        return
    if st.session_state.get(state.TUNING_STUDY) not in names:
        st.session_state[state.TUNING_STUDY] = names[0]
    name = st.selectbox("Study", names, key=state.TUNING_STUDY)
    first = sweep_status(name, home=context().home)
    running = first is not None and first.active

    @st.fragment(run_every=POLL_SECONDS if running else None)
    def panel() -> None:
        found = sweep_status(name, home=context().home)
        if (found is not None and found.active) != running:
            st.rerun()  # it started or ended: rerun the page so polling follows
        frame = trials_frame(home, name)
        st.markdown(_summary(name, found, frame))
        if found is not None and found.state is JobState.FAILED:
            hint = "Start it again with resume: it continues from its finished trials."
            st.error(plain(f"{found.error} {hint}"))
        if found is not None and found.active:
            st.button(
                "Cancel sweep",
                key=f"tuning_cancel_{name}",
                icon=":material/cancel:",
                on_click=_cancel,
                args=(name,),
            )
        if frame.empty:
            st.caption("No trial has finished yet.")
            return
        st.plotly_chart(score_figure(frame), key=f"tuning_plot_{name}")
        st.dataframe(frame.sort_values("trial", ascending=False), hide_index=True)

    panel()


def render_tuning_section(interval: str = "1h") -> None:
    """The Tuning section: the sweep form, then the chosen study's live trials."""
    st.subheader("Tuning")
    st.caption(
        "A sweep tries settings with Optuna and scores each on walk-forward folds inside the "
        "training period only: the test window stays unseen until the best settings train a "
        "normal version, carded there as usual. The card says how many trials were tried: the "
        "more trials, the more room to overfit the folds. Skill 0 is the naive baseline."
    )
    _form(interval)
    _watch()
