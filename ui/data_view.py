"""Data page glue: fetch settings, the background fetch job and its live progress, coverage table
and the conflicts (new candles held in quarantine) with their two choices. The bundled sample's
button and dialog are :mod:`ui.sample_view`.

A fetch runs as a background job (:mod:`core.jobs.fetch_job`: its own process, its status on disk
under ``runs/{job_id}/``), so it keeps going when the browser tab or the Streamlit server goes
away. The page keeps the watched job's id in Session State; a session that has none (a new tab,
a restarted server) adopts the newest fetch job still running on disk. Progress is read from the
job's ``status.json`` by a fragment that ticks only while the job runs, then the whole app reruns
once so the coverage table and the sidebar (cached by file mtime) show the new files.
"""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from core import jobs
from core.config import Interval
from core.data import quarantine, store
from core.data.coins import DEFAULT_COINS, display_name
from core.data.fetch_status import FetchResult, FetchStatus, coverage_status, failure_sentence
from core.errors import CryptoVoltError, JobError
from ui import clock, state
from ui.coin_input import coin_multiselect
from ui.context import context
from ui.fetch_progress import render_progress
from ui.text import plain

__all__ = [
    "RANGES",
    "cached_coverage",
    "coverage_frame",
    "fetch_button_label",
    "fetch_settings",
    "render_coverage",
    "render_conflicts",
    "render_fetch_progress",
    "start_fetch",
    "watched_fetch",
]

#: Range choices in days, and how the button names them ("Fetch 2 years").
RANGES: dict[int, str] = {
    30: "30 days",
    90: "90 days",
    180: "6 months",
    365: "1 year",
    730: "2 years",
    1095: "3 years",
}
DEFAULT_DAYS = 730
_FIRST, _LAST = "first candle", "last candle"
_POLL_SECONDS = 0.5


def watched_fetch() -> jobs.JobStatus | None:
    """The fetch job this session watches, read from disk; with none, the newest fetch job still
    running (a new tab or a restarted server picks it up), which is then watched."""
    job_id = st.session_state.get(state.FETCH_JOB)
    if job_id:
        try:
            return jobs.status(job_id, runs=context().paths.runs)
        except JobError:  # its folder was removed
            st.session_state.pop(state.FETCH_JOB, None)
    fetches = jobs.list_jobs(runs=context().paths.runs, kind=jobs.JobKind.FETCH)
    running = next((j for j in fetches if j.active), None)
    if running is not None:
        st.session_state[state.FETCH_JOB] = running.job_id
    return running


def start_fetch(coins: list[str], interval: str, days: int) -> str | None:
    """Launch a fetch job and watch it; returns its id, or None after showing why it could not
    start."""
    try:
        job_id = jobs.launch(jobs.FetchSpec(tuple(coins), interval, days), home=context().home)
    except CryptoVoltError as exc:
        st.error(plain(exc), icon=":material/error:")
        return None
    st.session_state[state.FETCH_JOB] = job_id
    return job_id


def fetch_button_label(days: int) -> str:
    return f"Fetch {RANGES.get(days, f'{days} days')}"


def fetch_settings() -> tuple[list[str], str, int]:
    """Coin multiselect (display names), interval and range; returns (coins, interval, days).

    Coins typed by hand are parsed by the picker as they are added (an invalid one is refused
    there with an ``error:`` line), so ``coins`` are exchange symbols.
    """
    st.session_state.setdefault(state.FETCH_COINS, list(DEFAULT_COINS))
    st.session_state.setdefault(state.FETCH_INTERVAL, Interval.H1.value)
    st.session_state.setdefault(state.FETCH_DAYS, DEFAULT_DAYS)
    known = list(
        dict.fromkeys([*DEFAULT_COINS, *(s for s, _ in store.list_stored(paths=context().paths))])
    )
    left, middle, right = st.columns([4, 1, 1])
    picked = coin_multiselect(
        "Coins",
        known,
        key=state.FETCH_COINS,
        container=left,
        help="Type another Binance USDT pair (e.g. DOGE) and press Enter to add it. MATIC means POL.",
    )
    interval = middle.selectbox("Interval", [i.value for i in Interval], key=state.FETCH_INTERVAL)
    days = right.selectbox(
        "Range", list(RANGES), format_func=RANGES.__getitem__, key=state.FETCH_DAYS
    )
    return picked, interval, int(days)


# -- live progress (drawn by ui.fetch_progress) -------------------------------------------------


def render_fetch_progress() -> jobs.JobStatus | None:
    """Per-coin and overall bars of the watched fetch job; polls while it runs. Returns its
    status as this run saw it first."""
    job = watched_fetch()
    if job is None:
        return None
    was_running = job.active

    @st.fragment(run_every=_POLL_SECONDS if was_running else None)
    def live() -> None:
        try:
            current = jobs.status(job.job_id, runs=context().paths.runs)
        except JobError:
            return
        last = {  # the age of what is stored, said for coins that failed
            c.symbol: cached_coverage(c.symbol, current.interval or "1h").last
            for c in current.coins
            if c.state == FetchStatus.FAILED.value
        }
        render_progress(current, last)
        if current.error:
            st.error(f"The fetch stopped: {plain(current.error)}", icon=":material/error:")
        elif current.state is jobs.JobState.CANCELLED:
            st.warning(
                "The fetch was cancelled; what it fetched is kept, and a new fetch goes on from "
                "there.",
                icon=":material/cancel:",
            )
        if current.active and st.button("Cancel fetch", key="fetch_cancel", icon=":material/stop:"):
            jobs.cancel(current.job_id, runs=context().paths.runs)
            st.rerun()
        if current.finished and was_running:
            st.rerun()  # the whole page: the coverage table and sidebar read the new files

    live()
    return job


# -- coverage ---------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=128)
def _coverage(symbol: str, interval: str, mtime_ns: int) -> store.Coverage:
    return store.coverage(symbol, interval, paths=context().paths)


def cached_coverage(symbol: str, interval: str) -> store.Coverage:
    return _coverage(
        symbol, interval, store.candle_mtime_ns(symbol, interval, paths=context().paths)
    )


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024**2:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024**2:.1f} MB"


def coverage_frame(
    symbols: list[str], interval: str, results: list[FetchResult] | None = None
) -> tuple[pd.DataFrame, dict[str, store.Coverage]]:
    """One row per coin (the chosen ones, then any other stored file of this interval); first
    and last candle in the viewer's zone, named in the header (``last candle (Asia/Tokyo)``).

    The status comes from the last fetch's result when there is one (so a failure keeps its
    reason), else from what is stored: up to date when the last closed candle is there.
    """
    stored = [s for s, i in store.list_stored(paths=context().paths) if i == interval]
    by_result = {r.symbol: r for r in results or []}
    rows, covs = [], {}
    for symbol in dict.fromkeys([*symbols, *stored]):
        cov = cached_coverage(symbol, interval)
        status, reason = coverage_status(cov)
        result = by_result.get(symbol)
        if result is not None and result.status is FetchStatus.FAILED:
            status = result.status
            reason = failure_sentence(symbol, result.reason, cov.last, interval)
        shown = status.value
        if not cov.rows and not cov.error and result is None:
            shown, reason = "not fetched", "nothing stored yet"
        if result is not None and result.note:
            reason = f"{reason} {result.note}".strip()
        if (held := quarantine.pending(symbol, interval, paths=context().paths)) is not None:
            shown, reason = FetchStatus.CONFLICT.value, held.what()
        covs[symbol] = cov
        rows.append(
            {
                "coin": display_name(symbol),
                "symbol": symbol,
                "rows": cov.rows,
                _FIRST: cov.first,
                _LAST: cov.last,
                "missing hours" if interval == "1h" else "missing candles": cov.missing,
                "size on disk": _size(cov.size_bytes) if cov.size_bytes else "",
                "status": shown,
                "reason": reason or "",
            }
        )
    table = pd.DataFrame(rows)
    for column in (_FIRST, _LAST):  # shown as the viewer's wall clock, the header names the zone
        if column in table:
            table[column] = clock.to_viewer(table[column])
    return table.rename(columns={c: clock.column_label(c) for c in (_FIRST, _LAST)}), covs


def _minute(value: object) -> str:
    """A table's time to the minute; an empty cell for none (not "None")."""
    return "" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def _red_status(value: object) -> str:
    bad = (FetchStatus.CONFLICT.value, FetchStatus.FAILED.value)
    return "color: #e5484d; font-weight: 600" if value in bad else ""


def _resolve(symbol: str, interval: str, *, replace: bool) -> None:
    try:
        said = quarantine.resolve(symbol, interval, replace=replace, paths=context().paths)
    except CryptoVoltError as exc:
        st.error(plain(exc), icon=":material/error:")
        return
    st.session_state[state.DATA_RESOLVED] = said
    st.rerun()  # the whole app: the table and the sidebar read the files as they are now


def _close_replace() -> None:
    st.session_state.pop(state.DATA_REPLACE, None)


@st.dialog("Replace the stored candles?", on_dismiss=_close_replace)
def _confirm_replace(symbol: str, interval: str, what: str) -> None:
    st.markdown(
        f"**{plain(display_name(symbol))}** {plain(interval)}: the new candles held back become "
        "the stored series. The stored file is moved to data/quarantine/, not deleted."
    )
    st.caption(plain(what))
    yes, no = st.columns(2)
    if yes.button("Yes, replace", type="primary", key=f"conflict_yes_{symbol}_{interval}"):
        _close_replace()
        _resolve(symbol, interval, replace=True)
    if no.button("Cancel", key=f"conflict_no_{symbol}_{interval}"):
        _close_replace()
        st.rerun()


def render_conflicts() -> None:
    """Every coin whose new candles are held in quarantine, in red, with the two choices:
    replace the stored series with the held candles (asked in a dialog first), or discard
    them."""
    if note := st.session_state.get(state.DATA_RESOLVED):
        st.success(plain(note), icon=":material/task_alt:")
    for held in quarantine.conflicts(paths=context().paths):
        key = f"{held.symbol}_{held.interval}"
        with st.container(border=True, key=f"conflict_{key}"):
            st.error(f"{plain(held.what())} **Choose:**", icon=":material/call_split:")
            left, right = st.columns(2)
            if left.button(
                "Replace with the new candles",
                key=f"conflict_replace_{key}",
                icon=":material/swap_horiz:",
                help="The held candles become the stored series; the old file is moved to "
                "data/quarantine/, not deleted. Asks first.",
            ):
                st.session_state[state.DATA_REPLACE] = key
            if st.session_state.get(state.DATA_REPLACE) == key:
                _confirm_replace(held.symbol, held.interval, held.what())
            if right.button(
                "Discard the new candles",
                key=f"conflict_discard_{key}",
                icon=":material/delete:",
                help="Drop the held candles and keep the stored series as it is.",
            ):
                _resolve(held.symbol, held.interval, replace=False)


def render_coverage(symbols: list[str], interval: str, job: jobs.JobStatus | None) -> None:
    """The coverage table, an expander per coin with gaps, and a CSV download per coin.

    After a fetch job at this interval ended, each coin's status comes from how it ended there.
    """
    done = job is not None and job.finished and job.interval == interval
    results = jobs.fetch_results(job) if job is not None and done else None
    table, covs = coverage_frame(symbols, interval, results)
    st.subheader("Coverage")
    if table.empty:
        st.info("Nothing stored yet: fetch from Binance or load the bundled sample.")
        return
    counts = table["status"].value_counts()
    labels = [s.value for s in FetchStatus if s is not FetchStatus.CONFLICT or s in counts]
    labels += ["not fetched"] if "not fetched" in counts else []
    st.markdown(
        f"{len(table)} coin(s) at {interval}: "
        + ", ".join(f"**{counts.get(label, 0)} {label}**" for label in labels)
    )
    render_conflicts()
    shown = table.copy()
    for column in (clock.column_label(_FIRST), clock.column_label(_LAST)):
        shown[column] = shown[column].map(_minute)  # ISO text sorts as the times do
    st.dataframe(
        shown.style.map(_red_status, subset=["status"]),
        hide_index=True,
        width="stretch",
        column_config={
            "rows": st.column_config.NumberColumn(format="localized"),
            "missing hours": st.column_config.NumberColumn(format="localized"),
            "missing candles": st.column_config.NumberColumn(format="localized"),
            "reason": st.column_config.TextColumn(width="large"),
        },
    )
    in_progress = {r.symbol for r in results or [] if r.status is FetchStatus.FAILED}
    for row in table.itertuples(index=False):  # failures the fetch's bars above do not show
        if row.status == FetchStatus.FAILED.value and row.reason and row.symbol not in in_progress:
            st.error(plain(row.reason), icon=":material/error:")
    for symbol, cov in covs.items():
        if cov.missing:
            unit = "hours" if interval == "1h" else "candles"
            title = f"{display_name(symbol)}: {cov.missing:,} missing {unit} in {len(cov.gaps):,} gap(s)"
            with st.expander(title):
                st.caption("Binance has no candles here (exchange halts); none are invented.")
                gaps = cov.gaps.copy()
                for column in ("after", "before"):
                    if column in gaps:
                        gaps[column] = clock.to_viewer(gaps[column])
                st.dataframe(
                    gaps.rename(
                        columns={
                            "after": clock.column_label("last candle before"),
                            "before": clock.column_label("first candle after"),
                        }
                    ),
                    hide_index=True,
                )
    stored = [s for s, cov in covs.items() if cov.rows]
    if stored:
        st.caption("Download the stored candles as CSV (all fields, UTC times):")
        cols = st.columns(min(len(stored), 5))
        for i, symbol in enumerate(stored):
            cols[i % len(cols)].download_button(
                symbol,
                data=functools.partial(store.export_csv, symbol, interval),
                file_name=f"{symbol}-{interval}.csv",
                mime="text/csv",
                on_click="ignore",
                icon=":material/download:",
                key=f"csv_{symbol}_{interval}",
                width="stretch",
            )
