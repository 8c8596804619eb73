"""Realised variance of each hour from its sub-hourly candles (5 m by preference): the target.

An hourly range estimator (Garman–Klass, :mod:`core.volatility.realized`) sees four prices of an
hour; the sum of squared log returns of the hour's twelve 5-minute candles sees thirteen, and is
a far less noisy measure of the variance the hour really had (Andersen, Bollerslev, Diebold and
Labys, 2001; Liu, Patton and Sheppard, 2015: 5-minute RV is hard to beat). A forecast judged
against a less noisy target is judged more fairly, so when sub-hourly candles cover a coin the
volatility target (``target_lrv_{h}h``) is built from them; the inputs keep the hourly ranges.

Per hour ``H`` with sub-hourly candles ``1..k`` (``k = 60 / step``)::

    rv_H = ln(C_1 / O_1)**2 + sum_{i=2..k} ln(C_i / C_{i-1})**2

The first return runs from the hour's own first open, not from the previous hour's last close,
so each hour's value depends on that hour's candles only (no "overnight" return borrowed from a
neighbour; crypto trades around the clock, so the gap between a close and the next open is a
tick, and the returns still span the hour from its open to its close). An hour with any of its
``k`` candles missing is NaN: never filled, so a forward sum touching it is NaN too.

Which sub-hourly candles count: the first stored interval of :data:`SUBHOURLY` (5 m, else 3 m)
whose complete hours cover at least :data:`MIN_COVERAGE` of the hourly candles' hours; otherwise
the hourly Garman–Klass target, and :func:`target_note` says which one a card was judged on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.config import Interval, Paths
from core.errors import NoDataError

__all__ = [
    "MIN_COVERAGE",
    "SUBHOURLY",
    "TargetVariance",
    "attach_rv",
    "attach_subhourly",
    "hourly_rv",
    "subhourly_coverage",
    "target_interval",
    "target_note",
    "target_variance",
    "uses_subhourly",
]

#: Sub-hourly intervals tried for the target, in order of preference: 5 m is the usual balance
#: between sampling error (more returns) and microstructure noise (bid-ask bounce at 1 m).
#: Coarser candles are not used: k squared returns have a relative error of about sqrt(2 / k),
#: while hourly Garman–Klass is worth about 7 squared returns, so 15 m (k = 4) and 30 m (k = 2)
#: would be noisier than the hourly range (bench/results/intraday_target.md: on real POL, a
#: 30 m RV target gave a 6 h HAR R² of 0.41 against 0.49 for hourly Garman–Klass).
SUBHOURLY: tuple[str, ...] = ("5m", "3m")
#: Share of the hourly candles' hours that must have complete sub-hourly candles.
MIN_COVERAGE = 0.95
_HOUR = pd.Timedelta(hours=1)
_ATTR = "subhourly_rv"


def hourly_rv(sub: pd.DataFrame, interval: str | Interval) -> pd.Series:
    """Realised variance per hour from ``sub`` (store schema, one interval that divides an hour):
    a Series indexed by the hour's open time (UTC), NaN for an hour with a candle missing.

    Raises:
        ValueError: ``interval`` is not shorter than an hour or does not divide it.
    """
    step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    if step >= _HOUR or _HOUR % step != pd.Timedelta(0):
        raise ValueError(f"{interval} candles do not divide an hour: use 5m (or 1m, 3m, 15m, 30m).")
    per_hour = int(_HOUR / step)
    if sub.empty:
        return pd.Series(dtype="float64", index=pd.DatetimeIndex([], tz="UTC"))
    times = pd.DatetimeIndex(sub["open_time"])
    hours = times.floor("h")
    grid = pd.date_range(hours[0], hours[-1] + _HOUR - step, freq=step)
    frame = sub.set_index(times)[["open", "close"]].astype("float64")
    frame = frame[~frame.index.duplicated(keep="last")].reindex(grid)
    o = frame["open"].to_numpy().reshape(-1, per_hour)
    c = frame["close"].to_numpy().reshape(-1, per_hour)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.log(c[:, :1] / o[:, :1])
        rest = np.log(c[:, 1:] / c[:, :-1])
    returns = np.concatenate([first, rest], axis=1)
    bad = ~np.isfinite(returns).all(axis=1) | ~((o > 0) & (c > 0)).all(axis=1)
    rv = np.where(bad, np.nan, (returns**2).sum(axis=1))
    return pd.Series(rv, index=grid[::per_hour], name="rv")


class TargetVariance:
    """The sub-hourly realised variance attached to a coin's hourly candles, and where from."""

    def __init__(self, rv: pd.Series, interval: str, coverage: float) -> None:
        self.rv = rv
        self.interval = interval
        self.coverage = coverage


def _coverage(rv: pd.Series, hourly: pd.DataFrame) -> float:
    if hourly.empty:
        return 0.0
    hours = pd.DatetimeIndex(hourly["open_time"])
    return float(np.isfinite(rv.reindex(hours).to_numpy(dtype="float64")).mean())


def attach_subhourly(
    symbol: str, hourly: pd.DataFrame, *, paths: Paths | None = None
) -> pd.DataFrame:
    """``hourly`` with the coin's stored sub-hourly realised variance attached (the first
    interval of :data:`SUBHOURLY` covering :data:`MIN_COVERAGE` of its hours), or as it is when
    none covers it. Carried in ``DataFrame.attrs``, so :func:`target_variance` finds it wherever
    the frame goes; the candles themselves are not changed. ``paths``: the home whose store is
    read (the edge's ``context.paths``)."""
    from core.data.store import load_candles

    best: TargetVariance | None = None
    for interval in SUBHOURLY:
        try:
            sub = load_candles(symbol, interval, paths=paths)
        except NoDataError:
            continue
        rv = hourly_rv(sub, interval)
        share = _coverage(rv, hourly)
        candidate = TargetVariance(rv, interval, share)
        if share >= MIN_COVERAGE:
            best = candidate
            break
        if best is None or share > best.coverage:
            best = candidate
    out = hourly.copy()
    if best is not None:
        out.attrs[_ATTR] = best
    return out


def attach_rv(hourly: pd.DataFrame, rv: pd.Series, interval: str) -> pd.DataFrame:
    """``hourly`` with the per-hour realised variance ``rv`` (from :func:`hourly_rv` of
    ``interval`` candles) attached as :func:`attach_subhourly` does, its coverage measured on
    ``hourly``'s own hours (the target uses it only when that reaches :data:`MIN_COVERAGE`)."""
    out = hourly.copy()
    out.attrs[_ATTR] = TargetVariance(rv, interval, _coverage(rv, hourly))
    return out


def target_interval(candles: pd.DataFrame) -> str | None:
    """The sub-hourly interval whose realised variance is the target of ``candles`` (``"5m"``),
    or None for the hourly Garman–Klass target."""
    found = _attached(candles)
    return found.interval if found is not None and uses_subhourly(candles) else None


def subhourly_coverage(candles: pd.DataFrame) -> float:
    """The share of ``candles``' hours the attached sub-hourly realised variance covers (0.0
    when none is attached)."""
    found = _attached(candles)
    return 0.0 if found is None else found.coverage


def _attached(candles: pd.DataFrame) -> TargetVariance | None:
    found = candles.attrs.get(_ATTR)
    return found if isinstance(found, TargetVariance) else None


def uses_subhourly(candles: pd.DataFrame) -> bool:
    """True when the target of ``candles`` is the attached sub-hourly realised variance."""
    found = _attached(candles)
    return found is not None and found.coverage >= MIN_COVERAGE


def target_variance(candles: pd.DataFrame, grid: pd.DataFrame, hourly: np.ndarray) -> np.ndarray:
    """The per-grid-hour variance the forward target sums: the attached sub-hourly realised
    variance when it covers the candles (hours without it NaN, never filled), else ``hourly``
    (the Garman–Klass variance of each grid row)."""
    found = _attached(candles)
    if found is None or not uses_subhourly(candles) or candles.empty:
        return hourly
    # The grid is hourly from the first candle on (missing candles are rows without a time).
    hours = pd.date_range(pd.Timestamp(candles["open_time"].iloc[0]), periods=len(grid), freq="h")
    return np.asarray(found.rv.reindex(hours).to_numpy(dtype="float64"))


def target_note(candles: pd.DataFrame) -> str | None:
    """One sentence for the card: which realised variance the targets were judged on, and why
    when stored sub-hourly candles were not enough; None when none are stored (the default
    hourly Garman–Klass target, which a card without this note was judged on)."""
    found = _attached(candles)
    if found is None:
        return None
    if found.coverage >= MIN_COVERAGE:
        return (
            f"Target: realised variance from {found.interval} candles (sum of squared "
            f"{found.interval} log returns per hour, {found.coverage:.1%} of hours covered); "
            "inputs from hourly ranges."
        )
    return (
        f"Target: hourly Garman–Klass variance ({found.interval} candles cover only "
        f"{found.coverage:.1%} of its hours, {MIN_COVERAGE:.0%} needed: fetch 5m candles for "
        "the whole range for a sharper target)."
    )
