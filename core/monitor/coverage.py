"""Live volatility health: do the journal's expected-move bands keep their promise? (issue 19.6)

Every signal the product showed with an expected move is in the journal with its bands
(``expected_move[horizon]["bands"][level] = [lo, hi]``, fractional returns) and its forecast
standard deviation. Once ``horizon`` hours have passed and their candles are stored, the forecast
has **matured**: the move from the signal's candle close to the close ``horizon`` candles later
either fell inside each band or not, and the Garman–Klass realised variance of those hours is the
volatility it forecast. Only matured forecasts are judged; nothing is refit or re-forecast here.

Per coin, horizon and level over the last ``status_days`` (30) days:

* **coverage**: the share of matured forecasts inside the band, with a Wilson interval beside the
  promised level. Hourly forecasts of a 6 h move share five of their six hours with the next, so
  the interval counts ``n / overlap`` independent forecasts (overlap: how many of the coin's
  forecasts a horizon holds, at most the horizon). The coin's cells are one family of tests, so
  each interval is at ``1 - 0.05 / cells`` (Bonferroni): five cells on track do not make one
  false alarm in six.
* **QLIKE** of the recorded forecast variance (``sigma**2``) against the realised variance, beside
  the same loss of the baselines the card judged it against (persistence; the EWMA with the card's
  decay; the training mean), computed on the same matured hours; the lowest is the best baseline.
  The realised variance is the one the model was trained and carded on (its record's
  ``target["realised_variance"]``): hourly Garman–Klass, or the sum of squared 5-minute returns
  when it learned that target. Without those 5-minute candles stored for the hours judged, the
  QLIKE is not measured and :attr:`VolHealth.skill_note` says so and what to fetch; a number in
  another measure would be a wrong number.

A coin is **degraded** when a band with at least :data:`MIN_EFFECTIVE` independent matured
forecasts has an interval that excludes its promised level (too narrow or too wide). That status
joins the coin's forward-test status (:func:`core.monitor.assess`), so the watch loop's alert
path fires once when it turns degraded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.config import Paths
from core.training import stats
from core.volatility import build_frame, ewma_forecast, persistence_forecast
from core.volatility.metrics import qlike

if TYPE_CHECKING:
    from core.registry.model_registry import ModelRegistry

__all__ = [
    "FAMILY_ALPHA",
    "MIN_EFFECTIVE",
    "VOL_STATUSES",
    "BandCoverage",
    "ForecastSkill",
    "VolHealth",
    "matured_moves",
    "vol_health",
]

#: Forecasts a band needs (counted independent) before its coverage is judged.
MIN_EFFECTIVE = 20
#: Family-wise error rate of the coin's coverage tests (split over its cells).
FAMILY_ALPHA = 0.05
VOL_STATUSES = ("on_track", "degraded", "not_enough_forecasts", "no_forecasts")
_HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class BandCoverage:
    """One band's live record: ``covered`` of ``forecasts`` matured (``effective`` independent),
    the rate and its interval at ``confidence``, beside the ``promised`` level."""

    horizon: str
    level: str
    promised: float
    forecasts: int
    covered: int
    effective: float
    rate: float | None
    low: float | None
    high: float | None
    confidence: float
    judged: bool

    @property
    def outside(self) -> bool:
        """The interval excludes the promised level (only for a judged band)."""
        if not self.judged or self.low is None or self.high is None:
            return False
        return not self.low <= self.promised <= self.high

    def words(self) -> str:
        rate = "n/a" if self.rate is None else f"{self.rate:.0%}"
        interval = (
            "" if self.low is None else f" ({self.confidence:.1%} {self.low:.0%}–{self.high:.0%})"
        )
        return (
            f"{self.horizon} {self.level}% band covered {rate}{interval} of {self.forecasts} "
            f"matured forecasts (about {self.effective:.0f} independent), promised {self.level}%"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "horizon": self.horizon,
            "level": self.level,
            "promised": self.promised,
            "forecasts": self.forecasts,
            "covered": self.covered,
            "effective": self.effective,
            "rate": self.rate,
            "low": self.low,
            "high": self.high,
            "confidence": self.confidence,
            "judged": self.judged,
            "outside": self.outside,
        }


@dataclass(frozen=True)
class ForecastSkill:
    """Live mean QLIKE of the recorded forecasts and of each baseline on the same matured hours."""

    horizon: str
    forecasts: int
    qlike: float | None
    baselines: dict[str, float | None]

    @property
    def best_baseline(self) -> str | None:
        known = {k: v for k, v in self.baselines.items() if v is not None}
        return min(known, key=known.__getitem__) if known else None

    @property
    def beats_best(self) -> bool | None:
        best = self.best_baseline
        if best is None or self.qlike is None:
            return None
        return self.qlike < float(self.baselines[best] or math.inf)

    def to_dict(self) -> dict[str, Any]:
        best = self.best_baseline
        return {
            "horizon": self.horizon,
            "forecasts": self.forecasts,
            "qlike": self.qlike,
            "baselines": dict(self.baselines),
            "best_baseline": best,
            "best_baseline_qlike": None if best is None else self.baselines[best],
            "beats_best_baseline": self.beats_best,
        }


@dataclass(frozen=True)
class VolHealth:
    """A coin's live volatility status (:data:`VOL_STATUSES`), why, and the records behind it."""

    symbol: str
    status: str
    reason: str
    matured: int
    pending: int
    window_days: int
    model: str | None = None
    coverage: tuple[BandCoverage, ...] = ()
    skill: tuple[ForecastSkill, ...] = ()
    #: Why the live QLIKE is not measured (the model's target needs candles not stored), or None.
    skill_note: str | None = None

    @property
    def degraded(self) -> bool:
        return self.status == "degraded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "status": self.status,
            "reason": self.reason,
            "matured": self.matured,
            "pending": self.pending,
            "window_days": self.window_days,
            "vol_model": self.model,
            "coverage": [c.to_dict() for c in self.coverage],
            "qlike": [s.to_dict() for s in self.skill],
            "qlike_note": self.skill_note,
        }


def _utc(value: Any) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _parse_model(label: Any) -> tuple[str, str] | None:
    parts = str(label or "").split()
    return (parts[0], parts[1]) if len(parts) == 2 else None


def _baseline_settings(
    registry: ModelRegistry | None, label: tuple[str, str] | None
) -> dict[str, Any]:
    """``{"6h": {"decay": d, "mean": m}, ...}`` of the volatility model that made the forecasts
    (empty when it is not in the registry any more: only persistence is then computed)."""
    from core.errors import CryptoVoltError

    if registry is None or label is None:
        return {}
    name, version = label
    try:
        record = registry.record(name, version)
        preds = registry.get_predictions(name, version)
    except CryptoVoltError:
        return {}
    out: dict[str, Any] = {}
    for key, detail in record.volatility.items():
        rows = preds[preds["horizon"] == key]
        mean = rows["forecast_mean"].dropna() if "forecast_mean" in rows else pd.Series([])
        out[key] = {
            "decay": detail.ewma_decay,
            "mean": float(mean.iloc[0]) if len(mean) else None,
        }
    return out


def target_measure(registry: ModelRegistry | None, label: tuple[str, str] | None) -> str | None:
    """The sub-hourly interval (``"5m"``) whose realised variance the model that made the
    forecasts was trained on, or None for hourly Garman–Klass (or a model no longer stored)."""
    from core.errors import CryptoVoltError

    if registry is None or label is None:
        return None
    try:
        record = registry.record(*label)
    except CryptoVoltError:
        return None
    found = (record.target or {}).get("realised_variance")
    if found is not None:
        return None if found == "1h_garman_klass" else str(found)
    # a version written before the target was recorded: its card note says it
    notes = record.card.notes if record.card is not None else ()
    for note in notes:
        if note.startswith("Target: realised variance from "):
            return note.split()[4]
    return None


def _in_measure(
    symbol: str,
    candles: pd.DataFrame,
    measure: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    paths: Paths | None,
) -> tuple[pd.DataFrame, str | None]:
    """``candles`` from a fortnight before ``start`` on (the baselines' look-back), with the
    stored ``measure`` candles' realised variance attached as the target; or the candles as they
    are and a sentence saying why the QLIKE is not measured and what to fetch."""
    from core.data.coins import parse_coin
    from core.data.store import load_candles
    from core.errors import DataError
    from core.volatility.intraday import (
        MIN_COVERAGE,
        attach_rv,
        hourly_rv,
        subhourly_coverage,
        uses_subhourly,
    )

    since = start - pd.Timedelta(days=14)
    recent = candles[pd.to_datetime(candles["open_time"], utc=True) >= since].reset_index(drop=True)
    days = int(math.ceil((end - since) / pd.Timedelta(days=1)))
    minutes = f"{int(measure.removesuffix('m'))}-minute" if measure.endswith("m") else measure
    fetch = (
        f"python -m core fetch --coins {parse_coin(symbol).base} --interval {measure} "
        f"--days {max(days, 1)}"
    )
    head = f"not measured: the model learned the realised variance of {minutes} candles, and"
    try:
        sub = load_candles(symbol, measure, paths=paths)
    except DataError:
        return (
            candles,
            f"{head} {minutes} candles are not stored for {symbol} — fetch them with `{fetch}`",
        )
    attached = attach_rv(recent, hourly_rv(sub, measure), measure)
    if not uses_subhourly(attached):
        share = subhourly_coverage(attached)
        return candles, (
            f"{head} the stored {minutes} candles of {symbol} cover only {share:.0%} of its hours "
            f"since {since:%Y-%m-%d} ({MIN_COVERAGE:.0%} needed) — fetch them with `{fetch}`"
        )
    return attached, None


def matured_moves(
    rows: Sequence[Mapping[str, Any]],
    candles: pd.DataFrame,
    *,
    end: pd.Timestamp,
    baselines: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, int]:
    """One row per (journal entry, horizon) whose ``horizon`` candles after it have closed by
    ``end`` and are stored: ``candle_time``, ``horizon``, ``sigma``, ``ret`` (fractional move),
    ``lo_{level}`` / ``hi_{level}``, ``y`` (log realised variance) and the log forecasts ``f`` and
    ``persistence`` / ``ewma`` / ``mean``; and how many are still pending."""
    closed = candles[pd.to_datetime(candles["open_time"], utc=True) + _HOUR <= end]
    closed = closed.sort_values("open_time").reset_index(drop=True)
    if closed.empty:
        return pd.DataFrame(), len(rows)
    hours = sorted({int(k.removesuffix("h")) for r in rows for k in r["expected_move"]})
    vf = build_frame(closed, hours)
    times = pd.DatetimeIndex(pd.to_datetime(closed["open_time"], utc=True))
    index = pd.Series(np.arange(len(times)), index=times)
    settings = baselines or {}
    base: dict[int, dict[str, np.ndarray]] = {}
    for h in hours:
        key = f"{h}h"
        base[h] = {"persistence": persistence_forecast(vf, h)}
        decay = (settings.get(key) or {}).get("decay")
        if decay is not None:
            base[h]["ewma"] = ewma_forecast(vf, h, float(decay))
        mean = (settings.get(key) or {}).get("mean")
        if mean is not None:
            base[h]["mean"] = np.full(len(times), float(mean))
    last = times[-1]
    out, pending = [], 0
    for row in rows:
        t = _utc(row["candle_time"])
        for key, move in row["expected_move"].items():
            h = int(key.removesuffix("h"))
            if t + h * _HOUR > last or t not in index.index:
                pending += 1
                continue
            i = int(index[t])
            ret = float(np.expm1(vf.frame[f"ret_{h}h"].iloc[i]))
            y = float(vf.frame[f"target_lrv_{h}h"].iloc[i])
            if not (math.isfinite(ret) and math.isfinite(y)):
                continue  # a missing candle in the window: not judged
            item: dict[str, Any] = {
                "candle_time": t,
                "horizon": key,
                "sigma": float(move["sigma"]),
                "ret": ret,
                "y": y,
                "f": 2.0 * math.log(float(move["sigma"])),
            }
            for level, (lo, hi) in move["bands"].items():
                item[f"lo_{level}"], item[f"hi_{level}"] = float(lo), float(hi)
            for name, f in base[h].items():
                item[name] = float(f[i])
            out.append(item)
    return pd.DataFrame(out), pending


def _coverage(frame: pd.DataFrame) -> list[BandCoverage]:
    cells = [
        (key, col.removeprefix("lo_"))
        for key in sorted(frame["horizon"].unique(), key=lambda k: int(k.removesuffix("h")))
        for col in frame.columns
        if col.startswith("lo_") and frame.loc[frame["horizon"] == key, col].notna().any()
    ]
    confidence = 1.0 - FAMILY_ALPHA / max(1, len(cells))
    out = []
    for key, level in cells:
        rows = frame[(frame["horizon"] == key) & frame[f"lo_{level}"].notna()]
        inside = (rows["ret"] >= rows[f"lo_{level}"]) & (rows["ret"] <= rows[f"hi_{level}"])
        n, k, h = len(rows), int(inside.sum()), int(key.removesuffix("h"))
        times = pd.DatetimeIndex(rows["candle_time"])
        span = (times.max() - times.min()) / _HOUR + h if n else h
        overlap = float(np.clip(n * h / span, 1.0, h)) if n else 1.0
        n_eff = max(1, round(n / overlap)) if n else 0
        low, high = stats.wilson_interval(min(n_eff, round(k / overlap)), n_eff, level=confidence)
        out.append(
            BandCoverage(
                horizon=key,
                level=level,
                promised=int(level) / 100,
                forecasts=n,
                covered=k,
                effective=round(n / overlap, 1) if n else 0.0,
                rate=k / n if n else None,
                low=low,
                high=high,
                confidence=confidence,
                judged=n / overlap >= MIN_EFFECTIVE if n else False,
            )
        )
    return out


def _skill(frame: pd.DataFrame) -> list[ForecastSkill]:
    out = []
    for key, rows in frame.groupby("horizon", sort=False):
        names = [c for c in ("persistence", "ewma", "mean") if c in rows]
        ok = np.isfinite(rows[["y", "f", *names]].to_numpy(dtype="float64")).all(axis=1)
        rows = rows[ok]
        n = len(rows)

        def mean_loss(column: str, rows: pd.DataFrame = rows) -> float | None:
            return float(np.mean(qlike(rows["y"], rows[column]))) if len(rows) else None

        out.append(ForecastSkill(str(key), n, mean_loss("f"), {c: mean_loss(c) for c in names}))
    return out


def _judge(coverage: Sequence[BandCoverage], matured: int, days: int) -> tuple[str, str]:
    if not matured:
        return "not_enough_forecasts", (
            f"No matured expected-move forecast in the last {days} days yet."
        )
    bad = [c for c in coverage if c.outside]
    if bad:
        return "degraded", (
            "Expected-move bands off their promise: " + "; ".join(c.words() for c in bad) + "."
        )
    if not any(c.judged for c in coverage):
        most = max((c.effective for c in coverage), default=0.0)
        return "not_enough_forecasts", (
            f"Not enough matured expected-move forecasts yet: about {most:.0f} independent in the "
            f"last {days} days; {MIN_EFFECTIVE} are needed to judge a band."
        )
    judged = sum(c.judged for c in coverage)
    return "on_track", (
        f"Expected-move bands on track: each of the {judged} judged band(s) covers within its "
        "interval of the promised level."
    )


def vol_health(
    symbol: str,
    rows: Sequence[Mapping[str, Any]],
    candles: pd.DataFrame | None,
    *,
    end: pd.Timestamp,
    days: int = 30,
    registry: ModelRegistry | None = None,
    paths: Paths | None = None,
) -> VolHealth:
    """The coin's live volatility health from its journal ``rows`` with an expected move
    (:func:`core.signals.journal.expected_moves`) and its stored 1 h ``candles``."""
    start = end - pd.Timedelta(days=days)
    recent = [r for r in rows if start <= _utc(r["candle_time"]) <= end]
    if not recent:
        return VolHealth(
            symbol,
            "no_forecasts",
            f"No expected move shown for {symbol} in the last {days} days.",
            0,
            0,
            days,
        )
    label = _parse_model(recent[-1].get("vol_model"))
    model = None if label is None else " ".join(label)
    if candles is None or candles.empty:
        return VolHealth(
            symbol,
            "not_enough_forecasts",
            f"No stored candles for {symbol} to judge its expected moves against.",
            0,
            len(recent),
            days,
            model,
        )
    measure = target_measure(registry, label)
    note = None
    if measure is not None:  # judge the forecasts in the realised variance the model learned
        candles, note = _in_measure(symbol, candles, measure, start, end, paths=paths)
    frame, pending = matured_moves(
        recent, candles, end=end, baselines=_baseline_settings(registry, label)
    )
    if frame.empty:
        status, reason = _judge((), 0, days)
        return VolHealth(symbol, status, reason, 0, pending, days, model, skill_note=note)
    coverage = tuple(_coverage(frame))
    status, reason = _judge(coverage, len(frame), days)
    skill = () if note is not None else tuple(_skill(frame))
    return VolHealth(
        symbol, status, reason, len(frame), pending, days, model, coverage, skill, note
    )
