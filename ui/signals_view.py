"""Signals page glue: cached model bundles and signals, and the per-coin cards.

The flow (top-up, signals, journal) is :func:`core.usecases.live_signals`; this module only adds
caching and widgets. Models are loaded once per (registry root, coin, model versions) with
``st.cache_resource``; the registry hands back numpy-only LSTM inference, so TensorFlow never
loads in this process. A coin's signal is cached per (versions, candle file mtime), so it is
recomputed exactly when new candles or new models arrive; whether it is STALE (its last candle
older than its horizon) is judged on every run, outside the cache. Every signal shown is recorded
in the journal, NO EDGE included (it is never counted in a hit rate); STALE is not (no call).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from core.clock import close_passed
from core.config import Interval, SignalConfig
from core.data.coins import display_name
from core.data.store import candle_mtime_ns
from core.registry.model_registry import ModelRegistry
from core.signals.ensemble import SignalKind
from core.signals.live import (
    CoinModels,
    load_coin_models,
    promoted_versions,
    signal_from_models,
    symbols_with_models,
)
from core.signals.signal import Signal
from core.usecases import LiveSignals, live_signals, top_up_candles
from core.verdict import (
    CoinVerdict,
    MarketContext,
    market_context,
    untrained_symbols,
    untrained_verdict,
    verdicts,
)
from core.volatility.live import volatility_versions
from core.words import age_text, stale_words, training_words, vote_words
from ui import clock, state
from ui.cells import number
from ui.context import context
from ui.loaders import load_candles, reference_candles, reference_key
from ui.text import plain

__all__ = [
    "AUTO_REFRESH_SECONDS",
    "coin_models",
    "current_signals",
    "current_symbols",
    "refresh_candles",
    "render_cards",
    "render_refresh_notes",
    "render_verdicts",
]

#: How often the open page checks whether a candle has closed since its last top-up.
AUTO_REFRESH_SECONDS = 20
_COLOURS = {
    SignalKind.BULLISH: "green",
    SignalKind.BEARISH: "red",
    SignalKind.NEUTRAL: "gray",
    SignalKind.NO_EDGE: "orange",
    SignalKind.STALE: "gray",
}
_ICONS = {
    SignalKind.BULLISH: ":material/trending_up:",
    SignalKind.BEARISH: ":material/trending_down:",
    SignalKind.NEUTRAL: ":material/trending_flat:",
    SignalKind.NO_EDGE: ":material/block:",
    SignalKind.STALE: ":material/history_toggle_off:",
}
_TITLES = {SignalKind.NO_EDGE: "NO EDGE", SignalKind.STALE: "STALE · no call"}
#: A STALE card does not look like a fresh one: grey hatching, a dashed border, muted text.
_STALE_CSS = """<style>
div[class*="st-key-signal_card_"][class*="_stale"] {
  background: repeating-linear-gradient(135deg, rgba(128,128,128,.10) 0 10px,
    rgba(128,128,128,.04) 10px 20px);
  border: 2px dashed rgba(128,128,128,.7) !important;
  border-radius: .5rem;
}
div[class*="st-key-signal_card_"][class*="_stale"] p { opacity: .8; }
</style>"""


#: The card grid: as many 280 px (or wider) tracks as fit, three or more on a wide screen, fewer
#: on a narrow one, one under the other on a phone (Streamlit's columns squeeze instead).
_GRID_CSS = """<style>
div.st-key-signal_cards {
  display: grid !important;
  grid-template-columns: repeat(auto-fill, minmax(min(100%, 280px), 1fr));
  align-items: stretch;
}
div.st-key-signal_cards > div { width: auto !important; min-width: 0; }
div[class*="st-key-signal_card_"] { height: 100%; }
</style>"""
_CALL_BADGE = {
    "BULLISH": "green",
    "BEARISH": "red",
    "NEUTRAL": "gray",
    "no call": "orange",
    "not trained": "gray",
}
_MARKET_HELP = (
    "How the price moved: the change of the last close over 24 hours and over 7 days. "
    "Volatility: how much the price has been swinging over the last 7 days (the spread of its "
    "hourly moves) against its usual level, the median of the same figure over the last year: "
    "1.0× is usual, 2.0× twice as wild."
)
_VERDICT_HELP = (
    "What the tool thinks of each coin, in one line. A call (BULLISH / BEARISH / NEUTRAL) is "
    "made only when its models beat their baselines on data they never saw and such calls "
    "were right more often than chance; otherwise it says why there is no call. The likely "
    "range comes from a volatility model that passed its own checks: 80% of moves fell inside "
    "such ranges on data it never saw."
)


@st.cache_resource(show_spinner=False, max_entries=64)
def _coin_models(
    root: str,
    symbol: str,
    versions: tuple[tuple[str, str], ...],
    config: SignalConfig,
    volatility: tuple[tuple[str, str], ...] = (),
) -> CoinModels:
    # ``volatility`` (the promoted volatility versions) only keys the cache: a new one reloads.
    return load_coin_models(
        symbol, ModelRegistry(Path(root)), versions=dict(versions), config=config
    )


def coin_models(symbol: str, *, config: SignalConfig | None = None) -> CoinModels:
    """A coin's promoted models and calibration, loaded once per version (shared by sessions)."""
    registry = ModelRegistry(context().paths.models)
    versions = tuple(sorted(promoted_versions(registry, symbol).items()))
    vol = volatility_versions(registry, symbol)
    return _coin_models(str(registry.root), symbol, versions, config or SignalConfig(), vol)


@st.cache_data(show_spinner=False, max_entries=8)
def _symbols(root: str, key: tuple[tuple[str, str, int, int], ...]) -> list[str]:
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
    references_mtime: tuple[int, ...] = (),
) -> Signal:
    # judged at its own candle's close here (never stale); live_signals judges it at now
    closed = pd.Timestamp(_candles["open_time"].iloc[-1]) + _step(_models.timeframe)
    refs = reference_candles(_models.timeframe)  # cached reads, not one per coin
    return signal_from_models(
        _models, _candles, context=refs, now=closed.to_pydatetime(), paths=context().paths
    )


def current_symbols() -> list[str]:
    """Coins with a promoted model (cached until the registry changes)."""
    registry = ModelRegistry(context().paths.models)
    return _symbols(str(registry.root), registry.cache_key())


def current_signals(
    *, config: SignalConfig | None = None, now: datetime | None = None
) -> LiveSignals:
    """Every coin with a promoted model: its signal (journalled, due entries judged first; STALE
    when its candles are older than its horizon at ``now``), the members' records, and the
    journal's live hit rates (:func:`core.usecases.live_signals`); ``now`` defaults to this
    run's clock (:func:`ui.context.context`)."""
    config = config or SignalConfig()
    ctx = context()
    now = now if now is not None else ctx.now().to_pydatetime()
    registry = ModelRegistry(context().paths.models)
    root = str(registry.root)

    def compute(models: CoinModels, candles: pd.DataFrame) -> Signal:
        versions = tuple(sorted(models.models.items()))
        if models.volatility is not None:  # a new volatility version is a new signal
            versions += (("volatility", models.volatility.label),)
        mtime = candle_mtime_ns(models.symbol, models.timeframe, paths=context().paths)
        refs = reference_key(models.timeframe)
        return _signal(root, models.symbol, versions, mtime, config, models, candles, refs)

    return live_signals(
        current_symbols(),
        home=ctx.home,
        registry=registry,
        config=config,
        source="app",
        models=lambda symbol: coin_models(symbol, config=config),
        candles=load_candles,
        compute=compute,
        now=now,
    )


def refresh_candles(symbols: list[str], *, interval: str = "1h") -> list[str]:
    """Top stored candles up from Binance (only what is missing); returns messages to show.

    A person is waiting on the button, so this gives up within seconds when Binance cannot be
    reached; the message then says so and how old the stored data is.
    """
    return list(
        top_up_candles(symbols, home=context().home, interval=interval, patient=False).notes
    )


def _step(interval: str) -> pd.Timedelta:
    return pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)


def render_refresh_notes() -> None:
    for note in st.session_state.get(state.SIGNALS_REFRESH_NOTES, []):
        if "were not stored and are held in quarantine" in note:  # a conflict: the user chooses
            st.error(plain(note), icon=":material/call_split:")
        elif "cannot be reached" in note or note.startswith("Showing"):
            st.warning(plain(note), icon=":material/cloud_off:")
        else:
            st.success(plain(note), icon=":material/cloud_done:")


def _pct(value: float | None, digits: int = 0) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}%}"


def _call(signal: Signal) -> None:
    """Confidence with its interval and support, the base rate beside it, the test window."""
    bucket = (
        f"strength bucket {signal.bucket} of {signal.buckets}"
        if signal.bucket
        else f"all {signal.signal.value} calls"
    )
    # a row of metrics that wraps inside a narrow card instead of cutting their values off
    row = st.container(horizontal=True, wrap=True)
    left = right = row
    left.metric(
        "Confidence",
        _pct(signal.confidence),
        help=(
            f"How often the same rule was right on earlier out-of-sample calls ({bucket}): a "
            f"hit is when {signal.meaning}."
        ),
    )
    right.metric(
        "Base rate",
        _pct(signal.base_rate),
        help="How often the called outcome happened anyway, whatever the models said.",
    )
    low, high = signal.interval
    if signal.confidence is None:
        st.caption(
            plain(signal.reason) or "No earlier calls of this kind to measure a confidence on."
        )
    else:
        st.caption(
            f"95% interval {_pct(low)}–{_pct(high)} · rests on {signal.support:,} earlier "
            f"out-of-sample calls ({bucket})"
        )
    if signal.test_support:
        ece = signal.ece_out_of_time
        st.caption(
            f"Held on the later test window: right {_pct(signal.test_hit_rate)} of "
            f"{signal.test_support:,} such calls"
            + (f" (calibration error out of time {ece:.3f})" if ece is not None else "")
        )
    else:
        st.caption("Held on the later test window: no such calls there to check it on.")


def _move(signal: Signal) -> None:
    """The expected move (bands per horizon), the volatility regime and the position size."""
    move = signal.expected_move
    if not move:
        if signal.vol_note and not signal.stale:
            st.caption(f"Expected move: not shown ({plain(signal.vol_note)}).")
        return
    row = st.container(horizontal=True, wrap=True)
    cols = [row] * (len(move) + 1)
    for col, (key, m) in zip(cols, move.items(), strict=False):
        lo, hi = m["bands"]["80"]
        col.metric(
            f"Move next {key} (80%)",
            f"{lo:+.1%} … {hi:+.1%}",
            help=(
                f"80% of such {key} moves fell inside this band out of time. 50%: "
                f"{m['bands']['50'][0]:+.2%} … {m['bands']['50'][1]:+.2%}; 90%: "
                f"{m['bands']['90'][0]:+.2%} … {m['bands']['90'][1]:+.2%}; forecast sd "
                f"{m['sigma']:.2%}."
            ),
        )
    if signal.position_size is not None:
        cols[-1].metric(
            "Position size",
            f"{signal.position_size:.0%}",
            help=f"Of capital, for the daily volatility target ({plain(signal.vol_note)}).",
        )
    regime = signal.vol_regime
    if regime:
        st.caption(
            f"Volatility regime: **{regime['label']}** (above {regime['percentile']:.0%} of "
            f"the last year's forecasts) · {plain(signal.vol_model)}"
        )


def _card(signal: Signal, result: LiveSignals, now: datetime) -> None:
    kind = signal.signal
    with st.container(border=True, key=f"signal_card_{signal.symbol}_{kind.value.lower()}"):
        st.markdown(f"**{display_name(signal.symbol)}** · `{signal.symbol}` · {signal.timeframe}")
        title = _TITLES.get(kind, kind.value)
        st.markdown(f"### :{_COLOURS[kind]}[{_ICONS[kind]} {title}]")
        if kind is SignalKind.NO_EDGE:
            st.markdown(
                "No model of this coin did better than a naive guess (a coin flip) on candles "
                "it had not trained on, so **nothing is called**: a direction here would be "
                "noise."
            )
        elif kind is not SignalKind.STALE:
            _call(signal)
        if (held := result.conflicts.get(signal.symbol)) is not None:
            st.error(
                f"New candles held back: {plain(held.what())} Choose on the **Data** page: replace "
                "the stored series with them, or discard them.",
                icon=":material/call_split:",
            )
        if signal.stale:
            st.error(stale_words(signal, clock.when), icon=":material/history_toggle_off:")
        closed = signal.candle_time + _step(signal.timeframe)
        st.markdown(
            f"Price **{signal.price:,.6g}** · last closed candle "
            f"{clock.when(signal.candle_time)} ({age_text(closed, now)})"
        )
        _move(signal)
        with st.expander(f"Models ({len(signal.votes)}) and their checks"):
            st.markdown(
                "\n".join(
                    f"- {plain(vote_words(v, result.records.get(v.name)))}" for v in signal.votes
                )
            )
        window, warning = training_words(signal)
        if window:
            st.caption(f"Training window: {plain(window)}.")
        if warning:
            st.warning(plain(warning), icon=":material/update:")
        rates = result.track_record
        live = rates[rates["symbol"] == signal.symbol] if len(rates) else rates
        if len(live) and live["resolved"].iloc[0]:
            row = live.iloc[0]
            st.caption(
                f"Journal: {number(row['hits'])}/{number(row['resolved'])} calls right live "
                f"({_pct(row['live_hit_rate'])}) vs {_pct(row['expected_hit_rate'])} expected "
                f"and {_pct(row['base_rate'])} base rate; {number(row['pending'])} pending"
            )
        else:
            pending = int(live["pending"].iloc[0]) if len(live) else 0
            st.caption(f"Journal: no call resolved yet ({number(pending)} pending)")
        st.caption("Models: " + plain(", ".join(f"{n} {v}" for n, v in signal.models.items())))


def _context(symbol: str, interval: str = "1h") -> MarketContext | None:
    try:
        return market_context(load_candles(symbol, interval))
    except Exception:  # unreadable candles: the line goes without its context
        return None


def coin_verdicts(result: LiveSignals, *, untrained: bool = True) -> list[CoinVerdict]:
    """Each signal's verdict (the words core gives the CLI and alerts too), then, with
    ``untrained``, one for each coin with stored 1h candles and no model."""
    said = verdicts(result.signals, result.records, candles=load_candles, paths=context().paths)
    if untrained:
        have = [s.symbol for s in result.signals] + list(result.errors)
        said += [
            untrained_verdict(s, _context(s))
            for s in untrained_symbols(have, paths=context().paths)
        ]
    return said


def _train(symbol: str) -> None:
    st.session_state[state.TRAINING_COINS] = [symbol]
    st.session_state[state.SELECTED_COIN] = symbol


def verdict_row(v: CoinVerdict, *, train_button: bool = True) -> None:
    """One coin's verdict line, its market context below, and for an untrained coin a button
    that opens Training with that coin picked."""
    call, _, rest = v.why.partition(": ")
    badge = _CALL_BADGE.get(v.call, "gray")
    extra = " · ".join(plain(p) for p in (v.move, v.regime) if p)
    with st.container(key=f"verdict_{v.symbol}"):
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.markdown(
                f"**{plain(display_name(v.symbol))}** :{badge}-badge[{plain(call)}] {plain(rest)}"
                + (f" · {extra}" if extra else ""),
                width="stretch",
            )
            if (
                not v.trained
                and train_button
                and st.button(
                    f"Train {display_name(v.symbol)}",
                    key=f"verdict_train_{v.symbol}",
                    icon=":material/model_training:",
                    on_click=_train,
                    args=(v.symbol,),
                    help="Opens the Training page with this coin picked.",
                    width="content",
                )
            ):
                st.switch_page("pages/training.py")
        if v.context is not None and v.context.words():
            st.caption(f"Market: {plain(v.context.words())}", help=_MARKET_HELP)


def render_verdicts(said: list[CoinVerdict], *, details: bool = True) -> None:
    """The verdict lines and, in an expander, each model's checks in numbers."""
    st.subheader("Verdict", help=_VERDICT_HELP)
    for v in said:
        verdict_row(v)
    shown = [v for v in said if v.details]
    if details and shown:
        with st.expander("Why: each model's checks, in numbers"):
            for v in shown:
                st.markdown(
                    f"**{plain(display_name(v.symbol))}**\n"
                    + "\n".join(f"- {plain(d)}" for d in v.details)
                )


def render_verdict_lines(symbols: list[str] | None = None) -> None:
    """The same one-line verdicts at the top of another page (Models, Backtest): the coins in
    ``symbols`` (all with models when None)."""
    result = current_signals()
    chosen = [s for s in result.signals if symbols is None or s.symbol in symbols]
    if not chosen:
        return
    for v in verdicts(chosen, result.records, candles=load_candles, paths=context().paths):
        verdict_row(v, train_button=False)


def _sorted(signals: tuple[Signal, ...], sort: str) -> list[Signal]:
    if sort == "confidence":
        # NO EDGE (no confidence) last: it calls nothing
        return sorted(signals, key=lambda s: (s.confidence is None, -(s.confidence or 0.0)))
    return list(signals)


def render_cards(*, sort: str = "confidence", auto: bool = False) -> None:
    """The last refresh's notes and the card grid; with ``auto`` it tops the candles up a few
    seconds after each candle close (checked every ``AUTO_REFRESH_SECONDS``), as the watch does."""

    @st.fragment(run_every=AUTO_REFRESH_SECONDS if auto else None)
    def cards() -> None:
        now = context().now()
        last = st.session_state.get(state.SIGNALS_LAST_REFRESH)
        if auto and (last is None or close_passed(last, now.to_pydatetime())):
            st.session_state[state.SIGNALS_LAST_REFRESH] = now.to_pydatetime()
            st.session_state[state.SIGNALS_REFRESH_NOTES] = refresh_candles(current_symbols())
        render_refresh_notes()
        result = current_signals(now=now.to_pydatetime())
        if any(s.signal is SignalKind.STALE for s in result.signals):
            st.html(_STALE_CSS)
        said = coin_verdicts(result)
        if said:
            render_verdicts(said)
        if not result.signals and not result.errors:
            st.info(
                "No trained models yet. Train a coin on the **Training** page (or "
                "`python -m core train --coins BTC`) and its signal appears here.",
                icon=":material/model_training:",
            )
            return
        st.subheader("Cards")
        st.html(_GRID_CSS)
        with st.container(horizontal=True, wrap=True, gap="medium", key="signal_cards"):
            for signal in _sorted(result.signals, sort):
                _card(signal, result, now.to_pydatetime())
        for symbol, message in result.errors.items():
            st.error(plain(f"{symbol}: {message}"), icon=":material/error:")

    cards()
