"""Signals page glue: cached model bundles, candle top-up, and the per-coin cards.

Models are loaded once per (registry root, coin, model versions) with ``st.cache_resource``; the
registry hands back numpy-only LSTM inference, so TensorFlow never loads in this process. A
coin's signal is cached per (versions, candle file mtime), so it is recomputed exactly when new
candles or new models arrive. Every signal shown is recorded in the journal.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from core.config import Interval, SignalConfig
from core.data.coins import display_name
from core.data.store import candle_path, coverage
from core.errors import CryptoVoltError
from core.registry.model_registry import ModelRegistry
from core.signals import journal
from core.signals.live import (
    CoinModels,
    Signal,
    SignalKind,
    load_coin_models,
    promoted_versions,
    signal_from_models,
    symbols_with_models,
)
from ui import state
from ui.loaders import load_candles

__all__ = [
    "AUTO_REFRESH_SECONDS",
    "coin_models",
    "current_signals",
    "current_symbols",
    "refresh_candles",
    "render_cards",
    "render_refresh_notes",
]

AUTO_REFRESH_SECONDS = 300
_COLOURS = {SignalKind.BULLISH: "green", SignalKind.BEARISH: "red", SignalKind.NEUTRAL: "gray"}
_ICONS = {
    SignalKind.BULLISH: ":material/trending_up:",
    SignalKind.BEARISH: ":material/trending_down:",
    SignalKind.NEUTRAL: ":material/trending_flat:",
}


@st.cache_resource(show_spinner=False, max_entries=64)
def _coin_models(
    root: str, symbol: str, versions: tuple[tuple[str, str], ...], config: SignalConfig
) -> CoinModels:
    return load_coin_models(
        symbol, ModelRegistry(Path(root)), versions=dict(versions), config=config
    )


def coin_models(symbol: str, *, config: SignalConfig | None = None) -> CoinModels:
    """A coin's promoted models and calibration, loaded once per version (shared by sessions)."""
    registry = ModelRegistry()
    versions = tuple(sorted(promoted_versions(registry, symbol).items()))
    return _coin_models(str(registry.root), symbol, versions, config or SignalConfig())


@st.cache_data(show_spinner=False, max_entries=8)
def _symbols(root: str, key: tuple) -> list[str]:
    return symbols_with_models(ModelRegistry(Path(root)))


@st.cache_data(show_spinner=False, max_entries=256)
def _signal(
    root: str,
    symbol: str,
    versions: tuple[tuple[str, str], ...],
    candles_mtime: int,
    config: SignalConfig,
    _models: CoinModels,
    _candles: pd.DataFrame,
) -> Signal:
    return signal_from_models(_models, _candles)


def current_symbols() -> list[str]:
    """Coins with a promoted model (cached until the registry changes)."""
    registry = ModelRegistry()
    return _symbols(str(registry.root), registry.cache_key())


def current_signals(
    *, config: SignalConfig | None = None
) -> tuple[list[Signal], dict[str, str], pd.DataFrame]:
    """``(signals, errors by coin, journal hit rates)`` for every coin with a promoted model.

    The signals are recorded in the journal and due journal entries are resolved first.
    """
    config = config or SignalConfig()
    registry = ModelRegistry()
    root = str(registry.root)
    signals: list[Signal] = []
    errors: dict[str, str] = {}
    candles_by_symbol: dict[str, pd.DataFrame] = {}
    for symbol in _symbols(root, registry.cache_key()):
        try:
            models = coin_models(symbol, config=config)
            candles = load_candles(symbol, models.interval)
            path = candle_path(symbol, models.interval)
            versions = tuple(sorted(models.models.items()))
            signals.append(
                _signal(root, symbol, versions, path.stat().st_mtime_ns, config, models, candles)
            )
            candles_by_symbol[symbol] = candles
        except (CryptoVoltError, FileNotFoundError) as exc:
            errors[symbol] = str(exc)
    if signals:
        journal.record(signals, source="app")
    journal.resolve(candles_by_symbol)
    return signals, errors, journal.hit_rates()


def _age_text(last_close: pd.Timestamp | None, now: datetime) -> str:
    if last_close is None:
        return "no candles stored"
    hours = (pd.Timestamp(now) - last_close).total_seconds() / 3600
    return f"{hours:.0f} h old" if hours < 48 else f"{hours / 24:.1f} days old"


def refresh_candles(symbols: list[str], *, interval: str = "1h") -> list[str]:
    """Top stored candles up from Binance (only what is missing); returns messages to show.

    When Binance cannot be reached the message says so and how old the stored data is.
    """
    from core.data.binance import BinanceClient
    from core.data.fetch import fetch_coins

    now = datetime.now(UTC)
    firsts = [coverage(s, interval).first for s in symbols]
    oldest = min((f for f in firsts if f is not None), default=None)
    # Ask only for the span already stored, so a top-up never turns into a 2-year download.
    days = 2 if oldest is None else max(2, math.ceil((pd.Timestamp(now) - oldest).days + 1))
    notes: list[str] = []
    try:
        # A person is waiting on the button: fail within seconds when Binance is unreachable
        # instead of the CLI's patient retries.
        client = BinanceClient(timeout=(3.0, 15.0), max_retries=2, backoff_base=0.25)
        try:
            results = fetch_coins(symbols, interval=interval, days=min(days, 3650), client=client)
        finally:
            client.close()
    except CryptoVoltError as exc:
        results = []
        notes.append(f"Binance cannot be reached: {exc}")
    failed = [r for r in results if str(getattr(r.status, "value", r.status)) == "failed"]
    if failed:
        coins = ", ".join(r.symbol for r in failed)
        notes.append(f"Binance cannot be reached for {coins}: {failed[0].reason}")
    if notes:
        ages = []
        for symbol in symbols:
            cov = coverage(symbol, interval)
            last = None if cov.last is None else cov.last + _step(interval)
            ages.append(f"{symbol} {_age_text(last, now)}")
        notes.append("Showing the stored candles: " + ", ".join(ages) + ".")
    else:
        added = sum(int(r.new_rows or 0) for r in results)
        notes.append(f"Candles topped up from Binance: {added} new candle(s).")
    return notes


def _step(interval: str) -> pd.Timedelta:
    return pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)


def render_refresh_notes() -> None:
    for note in st.session_state.get(state.SIGNALS_REFRESH_NOTES, []):
        if "cannot be reached" in note or note.startswith("Showing"):
            st.warning(note, icon=":material/cloud_off:")
        else:
            st.success(note, icon=":material/cloud_done:")


def _pct(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.{digits}%}"


def _card(signal: Signal, rates: pd.DataFrame, now: datetime) -> None:
    colour = _COLOURS[signal.signal]
    with st.container(border=True):
        st.markdown(f"**{display_name(signal.symbol)}** · `{signal.symbol}` · {signal.interval}")
        st.markdown(f"### :{colour}[{_ICONS[signal.signal]} {signal.signal.value}]")
        bucket = (
            f"strength bucket {signal.bucket} of {signal.buckets}"
            if signal.bucket
            else f"all {signal.signal.value} calls"
        )
        st.metric(
            "Confidence",
            _pct(signal.confidence),
            help=(
                f"Out-of-sample hit rate of this rule ({bucket}): a hit is when {signal.meaning}. "
                f"The same outcome happened {_pct(signal.base_rate)} of the time whatever the "
                "rule said."
            ),
        )
        st.caption(
            f"rests on {signal.support:,} out-of-sample calls ({bucket}); "
            f"base rate {_pct(signal.base_rate)}"
        )
        closed = signal.candle_time + _step(signal.interval)
        st.markdown(
            f"Price **{signal.price:,.6g}** · last closed candle "
            f"{signal.candle_time:%Y-%m-%d %H:%M} UTC ({_age_text(closed, now)})"
        )
        lines = []
        if signal.xgb_probability is not None:
            lines.append(
                f"XGBoost P({signal.xgb_target}) **{signal.xgb_probability:.2f}** "
                f"(base {signal.xgb_base_rate:.2f}) → {signal.xgb_vote}"
            )
        if signal.lstm_forecast is not None:
            lines.append(
                f"LSTM next close **{signal.lstm_forecast:,.6g}** "
                f"({signal.lstm_change:+.2%}) → {signal.lstm_vote}"
            )
        if signal.agree is not None:
            lines.append("Models **agree**" if signal.agree else "Models **disagree**")
        st.markdown("  \n".join(lines))
        live = rates[rates["symbol"] == signal.symbol] if len(rates) else rates
        if len(live) and live["resolved"].iloc[0]:
            row = live.iloc[0]
            st.caption(
                f"Journal: {row['hits']}/{row['resolved']} right live "
                f"({_pct(row['live_hit_rate'])}) vs {_pct(row['expected_hit_rate'])} expected; "
                f"{row['pending']} pending"
            )
        else:
            pending = int(live["pending"].iloc[0]) if len(live) else 0
            st.caption(f"Journal: nothing resolved yet ({pending} pending)")
        st.caption("Models: " + ", ".join(f"{n} {v}" for n, v in signal.models.items()))


def _sorted(signals: list[Signal], sort: str) -> list[Signal]:
    if sort == "confidence":
        return sorted(signals, key=lambda s: -1.0 if s.confidence is None else -s.confidence)
    return signals


def render_cards(*, sort: str = "confidence", auto: bool = False, columns: int = 3) -> None:
    """The last refresh's notes and the card grid; with ``auto`` it re-runs every 5 minutes,
    topping candles up first."""

    @st.fragment(run_every=AUTO_REFRESH_SECONDS if auto else None)
    def cards() -> None:
        last = st.session_state.get(state.SIGNALS_LAST_REFRESH, 0.0)
        if auto and time.time() - last >= AUTO_REFRESH_SECONDS:
            st.session_state[state.SIGNALS_LAST_REFRESH] = time.time()
            st.session_state[state.SIGNALS_REFRESH_NOTES] = refresh_candles(current_symbols())
        render_refresh_notes()
        signals, errors, rates = current_signals()
        if not signals and not errors:
            st.info(
                "No trained models yet. Train a coin on the **Training** page (or "
                "`python -m core train --coins BTC`) and its signal appears here.",
                icon=":material/model_training:",
            )
            return
        now = datetime.now(UTC)
        ordered = _sorted(signals, sort)
        for start in range(0, len(ordered), columns):
            cols = st.columns(columns)
            for col, signal in zip(cols, ordered[start : start + columns], strict=False):
                with col:
                    _card(signal, rates, now)
        for symbol, message in errors.items():
            st.error(f"{symbol}: {message}", icon=":material/error:")

    cards()
