"""A coin's verdict in one line of plain words, the same on every page, in the CLI and in alerts.

The line says what the tool thinks of a coin for someone who does not know what an AUC is: the
call (BULLISH / BEARISH / NEUTRAL with how often such calls were right out of time), or why there
is none (``"no call: none of its 4 models is better than a coin flip at telling rises from falls
over the 10 weeks they were tested on (best 48% vs a coin flip's 50%)"``), then the expected
move and volatility regime when a passing volatility model gives them (``"likely move over
24 h: within ±3.1%, 4 times in 5 · expected swings: high (larger than 92% of the last
year's)"``). No AUC, gate or baseline names: those are in the details. Beside it a small
market context:
24 h and 7 d change and the last week's volatility against its median over the last year.

* :func:`market_context`: the context from a coin's candles.
* :func:`coin_verdict`: the verdict of a signal (:class:`~core.signals.signal.Signal`) with its
  members' records; :func:`untrained_verdict` for a coin with candles and no models.

The gate numbers behind a "no call" are worded by :func:`core.words.card_verdict` (one
vocabulary); they belong in the details, not in the line. Nothing here imports Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.clock import span_words
from core.config import Paths
from core.models.base import Output
from core.registry.gates import card_verdict, clears_coin_flip, gate_checks, good_for
from core.registry.metadata import ModelMetadata
from core.signals.ensemble import SignalKind
from core.signals.signal import Signal

__all__ = [
    "CoinVerdict",
    "MarketContext",
    "coin_verdict",
    "market_context",
    "move_phrase",
    "untrained_symbols",
    "untrained_verdict",
    "verdicts",
]

#: The window of the volatility the context compares with its median over the last year.
VOL_WINDOW = pd.Timedelta(days=7)
YEAR = pd.Timedelta(days=365)


@dataclass(frozen=True)
class MarketContext:
    """What the market did lately: the change over 24 h and 7 d (fractions), the last week's
    volatility (standard deviation of candle log returns) divided by its median over the last
    year (``vol_ratio``; 1.0 is usual), and how long that median looks back (``history``)."""

    change_24h: float | None
    change_7d: float | None
    vol_ratio: float | None
    history: pd.Timedelta | None = None

    def words(self) -> str:
        """``"24 h −1.2% · 7 d +4.5% · past week's volatility 1.3× its one-year median"``."""
        parts = []
        for label, value in (("24 h", self.change_24h), ("7 d", self.change_7d)):
            if value is not None:
                parts.append(f"{label} {_signed(value)}")
        if self.vol_ratio is not None:
            year = self.history is None or self.history >= YEAR - pd.Timedelta(days=1)
            span = "its one-year median" if year else f"its median over {span_words(self.history)}"
            parts.append(f"past week's volatility {self.vol_ratio:.1f}× {span}")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "change_24h": self.change_24h,
            "change_7d": self.change_7d,
            "vol_ratio": self.vol_ratio,
            "vol_history_days": None if self.history is None else round(self.history.days, 1),
        }


def _signed(value: float, digits: int = 1) -> str:
    """``"+4.5%"`` / ``"−1.2%"`` (a true minus sign)."""
    text = f"{value:+.{digits}%}"
    return text.replace("-", "−")


def _round(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def market_context(candles: pd.DataFrame) -> MarketContext | None:
    """The context of a coin's stored candles (``open_time``, ``close``); None without candles.

    Changes are from the close at or before 24 h / 7 d before the last close; a change whose
    start lies before the first candle is None. Volatility is the standard deviation of log
    returns over the last 7 days, against the median of the same rolling figure over the last
    year (or the whole history when shorter than a year).
    """
    if candles is None or candles.empty or "close" not in candles:
        return None
    close = pd.Series(
        candles["close"].to_numpy(dtype="float64"),
        index=pd.DatetimeIndex(pd.to_datetime(candles["open_time"], utc=True)),
    ).sort_index()
    close = close[np.isfinite(close) & (close > 0)]
    if len(close) < 2:
        return None
    last_time, last = close.index[-1], float(close.iloc[-1])

    def change(back: pd.Timedelta) -> float | None:
        when = last_time - back
        if when < close.index[0]:
            return None
        before = close.asof(when)
        return _round(last / float(before) - 1.0) if before and np.isfinite(before) else None

    returns = np.log(close).diff().dropna()
    ratio = history = None
    if len(returns) >= 2:
        rolling = returns.rolling(VOL_WINDOW, min_periods=24).std().dropna()
        year = rolling[rolling.index >= last_time - YEAR]
        enough = len(year) and year.index[-1] - returns.index[0] >= 2 * VOL_WINDOW
        if enough:
            median = float(year.median())
            if median > 0:
                ratio = _round(float(year.iloc[-1]) / median)
                history = min(YEAR, last_time - returns.index[0])
    return MarketContext(
        change(pd.Timedelta(hours=24)), change(pd.Timedelta(days=7)), ratio, history
    )


@dataclass(frozen=True)
class CoinVerdict:
    """A coin's verdict: ``call`` (BULLISH, BEARISH, NEUTRAL, "no call", "not trained"),
    ``why`` (the sentence after the call), ``move`` and ``regime`` (None when no passing
    volatility model gives them), the market ``context`` and ``details``: one line per model
    with its gates in the one vocabulary (for an expander)."""

    symbol: str
    call: str
    why: str
    move: str | None = None
    regime: str | None = None
    context: MarketContext | None = None
    details: tuple[str, ...] = ()
    trained: bool = True

    @property
    def text(self) -> str:
        """The line without the coin: ``"no call: ... · likely range over 24 h: ±3.1% (80%) ·
        volatility normal"``."""
        parts = [self.why] + [p for p in (self.move, self.regime) if p]
        return " · ".join(parts)

    @property
    def line(self) -> str:
        """``"BTCUSDT: <text>"``: one line per coin (CLI, alerts, logs)."""
        return f"{self.symbol}: {self.text}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "call": self.call,
            "line": self.line,
            "why": self.why,
            "move": self.move,
            "regime": self.regime,
            "market": None if self.context is None else self.context.to_dict(),
            "market_words": None if self.context is None else self.context.words(),
            "details": list(self.details),
            "trained": self.trained,
        }


def move_phrase(expected_move: Mapping[str, Any] | None) -> str | None:
    """``"likely range over 24 h: ±3.1% (80%)"`` from a signal's expected move (the longest
    horizon it has); None without one."""
    if not expected_move:
        return None

    def hours(key: str) -> float:
        try:
            return float(str(key).removesuffix("h"))
        except ValueError:
            return 0.0

    key = max(expected_move, key=hours)
    bands = (expected_move[key] or {}).get("bands") or {}
    band = bands.get("80")
    if not band or band[0] is None or band[1] is None:
        return None
    low, high = float(band[0]), float(band[1])
    if abs(abs(low) - abs(high)) < 0.0015:
        width = f"±{max(abs(low), abs(high)):.1%}"
    else:
        width = f"{_signed(low)} to {_signed(high)}"
    return f"likely move over {str(key).removesuffix('h')} h: within {width}, 4 times in 5"


def _regime_phrase(regime: Mapping[str, Any] | None) -> str | None:
    if not regime or not regime.get("label"):
        return None
    percentile = regime.get("percentile")
    where = (
        f" (larger than {float(percentile):.0%} of the last year's)"
        if isinstance(percentile, int | float)
        else ""
    )
    return f"expected swings: {regime['label']}{where}"


def _test_weeks(records: list[ModelMetadata]) -> str | None:
    """``"10 weeks"``: the longest test window of the members (None when none is recorded)."""
    spans = []
    for r in records:
        test = (r.split or {}).get("test") or {}
        try:
            start, end = pd.Timestamp(test.get("start")), pd.Timestamp(test.get("end"))
        except (TypeError, ValueError):
            continue
        if pd.notna(start) and pd.notna(end) and end > start:
            spans.append(end - start)
    if not spans:
        return None
    weeks = max(spans) / pd.Timedelta(weeks=1)
    return f"{weeks:.0f} weeks" if weeks >= 2 else span_words(max(spans))


def _direction_figure(record: ModelMetadata) -> tuple[float, float, bool] | None:
    """(its score at telling the direction, the guess it stands beside, whether that guess is
    a coin flip): the direction AUC against 0.5 for probability models (how often it rates a
    rise above a fall), the direction hit rate against always saying the commoner direction
    for forecasters."""
    card = record.card
    if card is None:
        return None
    if card.output == Output.PROBABILITY.value:
        value = card.metrics.as_dict().get("direction_auc")
        return (float(value), 0.5, True) if isinstance(value, int | float) else None
    value = card.metrics.as_dict().get("directional_accuracy")
    base = card.baselines.as_dict().get("majority_direction")
    if isinstance(value, int | float):
        return float(value), float(base) if isinstance(base, int | float) else 0.5, False
    return None


def _figure_words(value: float, base: float, coin_flip: bool, *, best: bool) -> str:
    """``"48% vs a coin flip's 50%"``; a forecaster's hit rate beside always guessing the
    commoner direction."""
    lead = "best " if best else ""
    if coin_flip:
        return f"{lead}{value:.0%} vs a coin flip's {base:.0%}"
    return (
        f"{lead}right about the direction {value:.0%} of the time vs {base:.0%} for always "
        "guessing the commoner one"
    )


def _no_edge_why(signal: Signal, records: Mapping[str, ModelMetadata]) -> str:
    if signal.reason and signal.reason.startswith("no call:"):
        return signal.reason  # a call its own record does not back (the ensemble's words)
    votes = signal.votes
    if not votes:
        return "no call: no direction model is trained for this coin"
    members = [records[v.name] for v in votes if v.name in records]
    held_back = [v for v in votes if not v.passed and records.get(v.name) is not None]
    held_back = [v for v in held_back if records[v.name].gates_passed]
    if held_back:  # its own gates pass, but not among the family of tests trained together
        v = held_back[0]
        return f"no call: {v.label} {v.reason.removeprefix('no edge: ')}"
    n = len(votes)
    weeks = _test_weeks(members)
    over = f" over the {weeks} it was tested on" if weeks else " on the hours it was tested on"
    if n > 1:
        over = over.replace(" it was ", " they were ")
    scored = [(f, r) for r in members if (f := _direction_figure(r)) is not None]
    best, record = max(scored, key=lambda s: s[0][0] - s[0][1]) if scored else (None, None)
    # above the guess but not clearly (its interval reaches it), or not above it at all
    ahead = best is not None and best[0] > best[1]
    checks = gate_checks(record.card) if record is not None and record.card is not None else []
    # its direction against a coin flip, not the check that adds the volatility baseline's bar
    clear = clears_coin_flip(record.card) if record is not None and record.card else None
    failed = "; ".join(c.words() for c in checks if not c.passed)
    if ahead and clear and failed and best is not None:
        # its direction clears a coin flip, so the gap is not luck: another check stops the call
        who = "its model" if n == 1 else f"the best of its {n} models"
        return (
            f"no call: {who} tells rises from falls better than a coin flip{over} "
            f"({_figure_words(*best, best=False)}), but it fails: {failed}"
        )
    how = "clearly better" if ahead or best is None else "better"
    who = "its model is not" if n == 1 else f"none of its {n} models is"
    text = f"no call: {who} {how} than a coin flip at telling rises from falls{over}"
    if best is not None:
        text += f" ({_figure_words(*best, best=n > 1)}"
        text += ", a gap luck can give)" if ahead and clear is False else ")"
    return text


def _call_why(signal: Signal) -> str:
    kind = signal.signal
    head = kind.value
    if kind is SignalKind.NEUTRAL:
        head += f": no move beyond ±{signal.neutral_band:.1%} expected"
    if signal.confidence is None or not signal.support:
        return f"{head} (no earlier calls of this kind to measure how often it is right)"
    base = (
        f" (the called move happened {signal.base_rate:.0%} of the time anyway)"
        if signal.base_rate is not None
        else ""
    )
    return (
        f"{head}: such calls were right {signal.confidence:.0%} of {signal.support:,} times "
        f"on candles the models had not trained on{base}"
    )


def _details(signal: Signal, records: Mapping[str, ModelMetadata]) -> tuple[str, ...]:
    lines = []
    for v in signal.votes:
        record = records.get(v.name)
        words = card_verdict(record.card) if record is not None else v.reason
        if v.passed:
            words = f"votes; {words}"
        elif record is not None and record.gates_passed:
            words = v.reason
        use = good_for(record.card) if record is not None and record.card is not None else ""
        text = f"{v.label} ({v.name} {v.version}): {words}"
        if use and use not in text:
            text += f"; {use}"
        lines.append(text)
    if signal.vol_model:
        lines.append(f"Volatility: {signal.vol_model}")
    if signal.vol_note and not signal.expected_move and not signal.stale:
        lines.append(f"Expected move not shown: {signal.vol_note}")
    return tuple(lines)


#: Why a fresh coin's line has no likely-move range (none trained, or none passed its checks).
_NO_MOVE = "no likely-move range: no volatility forecast for this coin has passed its checks yet"


def coin_verdict(
    signal: Signal,
    records: Mapping[str, ModelMetadata],
    context: MarketContext | None = None,
) -> CoinVerdict:
    """The verdict of ``signal`` (judged at its ``as_of``), with its members' ``records``
    (model name → record) and the coin's market ``context``."""
    kind = signal.signal
    if kind is SignalKind.STALE:
        age = span_words(signal.age) if signal.age is not None else "too"
        call, why = (
            "no call",
            (
                f"no call: the candles are {age} old, older than the signal's "
                f"{span_words(signal.stale_after)} horizon; refresh them"
            ),
        )
    elif kind is SignalKind.NO_EDGE:
        call, why = "no call", _no_edge_why(signal, records)
        if signal.stale and signal.age is not None:
            why += f"; its candles are {span_words(signal.age)} old: refresh them"
    else:
        call, why = kind.value, _call_why(signal)
    if not signal.stale and not signal.expected_move and signal.vol_note:
        # the line says why a coin has no range beside coins that have one
        why += f"; {_NO_MOVE}"
    return CoinVerdict(
        symbol=signal.symbol,
        call=call,
        why=why,
        move=move_phrase(signal.expected_move),
        regime=_regime_phrase(signal.vol_regime),
        context=context,
        details=_details(signal, records),
    )


def untrained_verdict(symbol: str, context: MarketContext | None = None) -> CoinVerdict:
    """The verdict of a coin with candles and no models: it says so and what to do."""
    return CoinVerdict(
        symbol=symbol,
        call="not trained",
        why="no models yet: train this coin to get a verdict",
        context=context,
        trained=False,
    )


def verdicts(
    signals: tuple[Signal, ...] | list[Signal],
    records: Mapping[str, ModelMetadata],
    *,
    candles: Callable[[str, str], pd.DataFrame] | None = None,
    paths: Paths | None = None,
) -> list[CoinVerdict]:
    """The verdict of each signal, its market context from ``candles(symbol, timeframe)``
    (default: the stored candles of the home ``paths`` describes, the edge's ``context.paths``;
    a coin whose candles cannot be read gets no context)."""
    from core.data.store import load_candles
    from core.errors import CryptoVoltError

    load = candles or (lambda symbol, timeframe: load_candles(symbol, timeframe, paths=paths))
    out = []
    for signal in signals:
        try:
            context = market_context(load(signal.symbol, signal.timeframe))
        except CryptoVoltError:
            context = None
        out.append(coin_verdict(signal, records, context))
    return out


def untrained_symbols(
    trained: list[str] | tuple[str, ...], interval: str = "1h", *, paths: Paths | None = None
) -> list[str]:
    """Coins with stored ``interval`` candles (in the home ``paths`` describes) and no model
    among ``trained``, sorted."""
    from core.data.store import list_stored

    have = set(trained)
    return sorted({s for s, i in list_stored(paths=paths) if i == interval and s not in have})
