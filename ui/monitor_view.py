"""Monitor page glue: the cached assessment, the status table, one coin's scores, plot and drift.

The numbers are :func:`core.monitor.assess` (read-only over the journal, the store and the
registry). It is cached on what changes it: the journal files, the candle files, the registry
and the hour (the windows end at now).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.clock import PinnedClock
from core.context import Context
from core.data.coins import display_name
from core.data.store import stored_fingerprint
from core.monitor import BANDS, CoinHealth, MonitorConfig, VersionHealth, assess
from core.monitor.drift import RULE
from core.monitor.health import HOW_TO_GET_CALLS
from core.monitor.series import version_history
from core.registry.model_registry import ModelRegistry
from core.signals.journal import journal_dir
from ui import clock, deep_link, state
from ui.cells import cells
from ui.context import context
from ui.monitor_charts import coverage_figure, history_figure
from ui.text import plain

__all__ = [
    "STATUS_WORDS",
    "coin_health",
    "has_journal",
    "render_coin",
    "render_no_journal",
    "render_status_table",
]

STATUS_WORDS = {
    "on_track": "on track",
    "degraded": "DEGRADED",
    "not_enough_calls": "not enough calls yet",
}
_CONFIG = MonitorConfig()
VOL_WORDS = {
    "on_track": "on track",
    "degraded": "OFF PROMISE",
    "not_enough_forecasts": "not enough matured yet",
    "no_forecasts": "none shown",
}


def _journal_key(home: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for name in ("signals.jsonl", "outcomes.jsonl"):
        path = journal_dir(home) / name
        if path.exists():
            stat = path.stat()
            out.append((name, stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def has_journal() -> bool:
    """True when the journal holds at least one entry."""
    path = journal_dir(context().home) / "signals.jsonl"
    return path.exists() and path.stat().st_size > 0


@st.cache_data(show_spinner=False, max_entries=8)
def _assess(home: Path, key: tuple[Any, ...], _now: pd.Timestamp) -> list[CoinHealth]:
    return assess(home=home, config=_CONFIG, now=_now)


@st.cache_data(show_spinner=False, max_entries=32)
def _history(
    home: Path, symbol: str, versions: str, days: int, key: tuple[Any, ...]
) -> pd.DataFrame:
    return version_history(home, symbol, versions, days=days)


def _key(ctx: Context) -> tuple[Any, ...]:
    now = ctx.now()
    return (
        str(ctx.home),
        _journal_key(ctx.home),
        stored_fingerprint(paths=context().paths),
        ModelRegistry(context().paths.models).cache_key(),
        now.floor("h").isoformat(),
        now.isoformat() if isinstance(ctx.clock, PinnedClock) else "",
    )


def coin_health() -> list[CoinHealth]:
    """Every coin's health, cached until the journal, candles, models or the hour change."""
    ctx = context()
    return _assess(ctx.home, _key(ctx), ctx.now())


def render_no_journal() -> None:
    st.info(
        f"No journal yet: the monitor judges the calls recorded in the journal. To make calls, "
        f"{HOW_TO_GET_CALLS}; each call is judged once its horizon has passed.",
        icon=":material/info:",
    )


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.0%}"


def render_status_table(found: Sequence[CoinHealth]) -> None:
    """One row per coin: status, resolved calls, pending, drifted features, the reason."""
    days = _CONFIG.status_days
    rows = [
        {
            "coin": display_name(h.symbol),
            "status": STATUS_WORDS.get(h.status, h.status),
            f"resolved calls ({days} d)": h.calls,
            "pending": h.pending,
            "drifted features": str(h.drifted) if h.drift and h.drift.measured else "not measured",
            "expected-move bands": VOL_WORDS.get(h.volatility.status, h.volatility.status)
            if h.volatility
            else "",
            "why": clock.localize(h.reason),
        }
        for h in found
    ]
    st.table(cells(pd.DataFrame(rows).set_index("coin")))


def _rates_table(version: VersionHealth) -> pd.DataFrame:
    rows = []
    for r in version.rates:
        verdict = "below its promise" if r.below_promise else ("" if not r.calls else "within")
        rows.append(
            {
                "window": f"last {r.days} d",
                "call": r.kind,
                "calls": r.calls,
                "independent": f"{r.effective_calls:.0f}",
                "live hit rate": _pct(r.rate),
                "95% interval": f"{_pct(r.low)}–{_pct(r.high)}" if r.calls else "",
                "promised": _pct(r.promised),
                "promised interval": f"{_pct(r.promised_low)}–{_pct(r.promised_high)}"
                if r.promised is not None
                else "",
                "base rate": _pct(r.base_rate),
                "live vs promise": verdict,
            }
        )
    return pd.DataFrame(rows)


def _members_table(version: VersionHealth) -> pd.DataFrame:
    def num(x: float | None) -> str:
        return "" if x is None else f"{x:.3f}"

    rows = []
    for m in version.members:
        gate = {True: "passes", False: "FAILS", None: ""}[m.live_gate_passed]
        rows.append(
            {
                "model": f"{m.name} {m.version}",
                "votes": "yes" if m.votes else "no (gates fail)",
                "calls": m.calls,
                "live log loss": num(m.log_loss),
                "base-rate log loss": num(m.base_log_loss),
                "live Brier": num(m.brier),
                "base-rate Brier": num(m.base_brier),
                "card log loss (test)": num(m.card_log_loss),
                "live gate (log loss < base rate's)": gate,
                "note": clock.localize(m.note or ""),
            }
        )
    return pd.DataFrame(rows)


def _render_version(symbol: str, version: VersionHealth) -> None:
    st.markdown(f"**{version.versions}**: {STATUS_WORDS.get(version.status, version.status)}")
    st.caption(
        f"{plain(clock.localize(version.reason))} {version.entries:,} journal entries ({version.calls:,} calls, "
        f"{version.resolved:,} resolved, {version.pending:,} pending, {version.no_edge:,} NO EDGE)"
        + (
            f", {clock.when(version.first_call)} → {clock.when(version.last_call)}."
            if version.first_call is not None and version.last_call is not None
            else "."
        )
    )
    if not version.rates:
        return
    st.table(cells(_rates_table(version).set_index(["window", "call"])))
    if version.members:
        st.markdown(
            "Live scores of each model (probability models) over the last "
            f"{_CONFIG.status_days} days, beside the base rate known at call time:"
        )
        st.table(cells(_members_table(version).set_index("model")))
    days = _CONFIG.windows[0]
    ctx = context()
    history = _history(ctx.home, symbol, version.versions, days, _key(ctx))
    if len(history):
        st.plotly_chart(
            history_figure(history, days=days, title=f"{symbol}: live vs promised"),
            width="stretch",
            key=f"monitor-history-{symbol}-{version.versions}",
        )


def _render_drift(health: CoinHealth) -> None:
    st.subheader("Drift")
    drift = health.drift
    st.caption(
        f"Population stability index of each input over the last {_CONFIG.drift_days} "
        f"days against the model's training window. Bands: {BANDS}; {RULE}."
    )
    if drift is None or not drift.measured:
        st.info(
            f"Drift not measured: {plain(clock.localize((drift.note if drift else '') or 'no data'))}."
        )
        return
    st.metric(
        "Drifted features",
        health.drifted,
        help="Inputs whose recent values moved away from what the model was trained on: "
        "their PSI is above 0.25 and above the largest of any week inside the training window.",
    )
    if drift.window_start is not None and drift.window_end is not None:
        st.caption(
            f"Window {clock.when(drift.window_start)} → {clock.when(drift.window_end)}."
            + (f" {plain(clock.localize(drift.note))}." if drift.note else "")
        )
    rows = [
        {
            "feature": f.feature,
            "model": f"{f.model} {f.version}",
            "PSI": None if f.psi is None else round(f.psi, 3),
            "usual band": f.band,
            "largest training-week PSI": None if f.typical is None else round(f.typical, 3),
            "drifted": "yes" if f.drifted else "no",
        }
        for f in drift.features
    ]
    frame = pd.DataFrame(rows).sort_values("PSI", ascending=False, na_position="last")
    st.dataframe(cells(frame), hide_index=True, width="stretch")


def _render_volatility(health: CoinHealth) -> None:
    """The coin's expected-move bands: live coverage per horizon and level beside the promise,
    with the interval, and live QLIKE beside the baselines on the same hours."""
    vol = health.volatility
    if vol is None or vol.status == "no_forecasts":
        return
    st.subheader("Expected move: live bands and forecast")
    st.markdown(
        f"**{VOL_WORDS.get(vol.status, vol.status)}**: {plain(clock.localize(vol.reason))} "
        f"({vol.matured:,} matured forecasts, {vol.pending:,} pending, last "
        f"{vol.window_days} days" + (f", {plain(vol.model)}" if vol.model else "") + ")"
    )
    if not vol.coverage:
        return
    rows = [
        {
            "horizon": c.horizon,
            "band": f"{c.level}%",
            "promised": _pct(c.promised),
            "live coverage": _pct(c.rate),
            "interval": f"{_pct(c.low)}–{_pct(c.high)} ({c.confidence:.1%})"
            if c.low is not None and c.high is not None
            else "",
            "matured": c.forecasts,
            "independent": f"{c.effective:.0f}",
            "verdict": "OUTSIDE its interval"
            if c.outside
            else ("within" if c.judged else "too few to judge"),
        }
        for c in vol.coverage
    ]
    left, right = st.columns([3, 2])
    left.table(cells(pd.DataFrame(rows).set_index(["horizon", "band"])))
    right.plotly_chart(
        coverage_figure(vol.coverage), width="stretch", key=f"monitor-coverage-{health.symbol}"
    )
    st.caption(
        "A band is judged once it has about 20 independent matured forecasts (hourly forecasts "
        "of a 6 h move overlap, so they count as fewer). The coin's intervals share a 5% "
        "family-wise error rate; a band whose interval excludes its promise (too narrow or too "
        "wide) makes the coin degraded and raises an alert."
    )

    def num(x: float | None) -> str:
        return "" if x is None else f"{x:.3f}"

    skill = [
        {
            "horizon": s.horizon,
            "forecasts": s.forecasts,
            "live QLIKE": num(s.qlike),
            **{f"{name} QLIKE": num(value) for name, value in s.baselines.items()},
            "best baseline": s.best_baseline or "",
            "beats it": {True: "yes", False: "NO", None: ""}[s.beats_best],
        }
        for s in vol.skill
    ]
    if skill:
        st.markdown("Live QLIKE (lower is better) beside the baselines on the same hours:")
        st.table(cells(pd.DataFrame(skill).set_index("horizon")))
    if vol.skill_note:
        st.markdown(plain(f"Live QLIKE {vol.skill_note}."))


def render_coin(found: Sequence[CoinHealth]) -> None:
    """A coin picker, then the chosen coin's scores per model version, its plot and its drift."""
    symbols = [h.symbol for h in found]
    if not symbols:
        return
    deep_link.seed_coin(state.MONITOR_COIN, symbols)  # /monitor?coin=ETHUSDT
    symbol = st.selectbox("Coin", symbols, format_func=display_name, key=state.MONITOR_COIN)
    deep_link.publish(coin=symbol)
    health = next(h for h in found if h.symbol == symbol)
    st.subheader(f"{display_name(symbol)}: {STATUS_WORDS.get(health.status, health.status)}")
    st.markdown(plain(clock.localize(health.reason)))
    if not health.versions and not has_journal():
        render_no_journal()
    for version in reversed(health.versions):  # newest versions first
        _render_version(symbol, version)
    _render_volatility(health)
    _render_drift(health)
