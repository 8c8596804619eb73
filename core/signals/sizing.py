"""Volatility-target sizing in the backtest: the forecast's sizing beside trailing and none.

A long position in the coin takes ``w = min(cap, target / daily_sigma)`` of equity, where
``target`` is the user's daily volatility target (default 2%, as on the Signals card) and
``daily_sigma`` one of:

* **forecast**: the coin's volatility model's forecast standard deviation, chosen as the live
  card chooses it (:func:`core.volatility.live.load_live_volatility`): the 24 h forecast when that
  horizon passed its gates, else a passing shorter one scaled by ``sqrt(24 / h)``. Only the
  model's **test window** is used: the forecasts saved at training time for hours the model was
  never fit or calibrated on, so every hour is sized by a model that never saw it.
* **trailing**: the realised volatility of the last ``trailing_hours`` candles (default 168, a
  week: the HAR's longest lag), from the same Garman–Klass hourly variances the forecast targets,
  scaled to a day. Fixed in advance, not tuned.
* **buy and hold**: the whole equity in the coin, never rebalanced.

**Execution.** The sizes are set at the close of candle t from what is known then and traded at
the open of t+1; positions are rebalanced every ``rebalance`` candles (the forecast's horizon:
the forecast says how volatile those hours will be). Between rebalances the weight drifts with
the price. Every trade pays the backtest's fee plus its slippage on the notional traded
(``|new weight - drifted weight|`` of equity); everything is sold at the last close, with costs.
Buy-and-hold pays the same on its one buy and one sell.

**Holding the target.** Per rebalance period the position's realised variance is the sum over
its candles of the weight held squared times the candle's Garman–Klass variance; its daily
volatility is compared with the target as ``log(realised / target)``. ``tracking_error`` is the
root mean square of that over the periods every strategy was invested (lower is closer to the
target); ``bias`` its mean. The forecast "holds the target closer" than trailing (or
buy-and-hold) only when a one-sided Diebold–Mariano–HLN test on the squared errors gives p < 0.05
**and** its tracking error is at least :data:`MATERIAL_GAIN` (a tenth) lower. The second condition
is about size: when volatility never changes, a forecast fit on thousands of hours still beats a
week's window by that window's own sampling noise, about ``1 - 1/sqrt(1 + R/W)`` (6.5% for daily
periods against a week), which says nothing about forecasting.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.config import BacktestConfig, Paths
from core.errors import ConfigError, ModelNotFoundError
from core.signals.trading import compute_metrics
from core.volatility import garman_klass
from core.volatility.metrics import diebold_mariano

if TYPE_CHECKING:
    from core.registry.model_registry import ModelRegistry

__all__ = [
    "MATERIAL_GAIN",
    "SIZING_METHODS",
    "SIZING_METRICS",
    "SizingComparisons",
    "SizingConfig",
    "SizingMetrics",
    "SizingResult",
    "SizingStats",
    "TargetComparison",
    "VolForecast",
    "load_vol_forecast",
    "sizing_backtest",
    "sizing_coin",
]

#: The three ways to size, in the order they are shown.
SIZING_METHODS = ("forecast", "trailing", "buy_and_hold")
#: The metrics of a :class:`SizingStats`, in the order tables show them.
SIZING_METRICS = (
    "total_return",
    "cagr",
    "sharpe",
    "max_drawdown",
    "turnover",
    "avg_size",
    "realised_vol",
    "tracking_error",
    "bias",
)
_HOUR = pd.Timedelta(hours=1)
_SIGNIFICANCE = 0.05
#: Smallest relative reduction of the tracking error that counts as holding the target closer.
MATERIAL_GAIN = 0.10


@dataclass(frozen=True)
class SizingConfig:
    """``vol_target``: daily volatility target (fraction); ``cap``: largest weight (1 = no
    leverage); ``trailing_hours``: the trailing window; ``rebalance``: candles between
    rebalances (None: the forecast's horizon)."""

    vol_target: float = 0.02
    cap: float = 1.0
    trailing_hours: int = 168
    rebalance: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.vol_target <= 1:
            raise ConfigError(
                f"vol_target must be a daily volatility in (0, 1] (0.02 = 2%), got "
                f"{self.vol_target}."
            )
        if not 0 < self.cap <= 10:
            raise ConfigError(f"cap must be in (0, 10], got {self.cap}.")
        if not 2 <= self.trailing_hours <= 24 * 365:
            raise ConfigError(f"trailing_hours must be 2..8760, got {self.trailing_hours}.")
        if self.rebalance is not None and not 1 <= self.rebalance <= 24 * 30:
            raise ConfigError(f"rebalance must be 1..720 candles, got {self.rebalance}.")


@dataclass(frozen=True)
class VolForecast:
    """A coin's out-of-time daily sigma forecasts (``daily_sigma`` indexed by the open time of the
    candle whose close they were made at), the model they come from and how."""

    symbol: str
    model: str  # "vol_har_btcusdt v3"
    horizon: int  # hours of the forecast used
    basis: str  # "24 h forecast sigma" / "6h sigma x sqrt(24/6)"
    gates_passed: bool
    daily_sigma: pd.Series


@dataclass(frozen=True)
class SizingStats:
    """What one way of sizing did over the test window: total return, CAGR, Sharpe (as
    :func:`~core.signals.trading.compute_metrics` gives them), max drawdown, turnover (equity
    traded, in multiples), avg_size (mean weight), tracking error and bias (RMS and mean of
    ``log(realised / target)`` over the counted periods) and the realised daily volatility.
    None where undefined (no counted period)."""

    total_return: float
    cagr: float | None
    sharpe: float | None
    max_drawdown: float
    turnover: float
    avg_size: float | None
    tracking_error: float | None
    bias: float | None
    realised_vol: float | None

    def to_dict(self) -> dict[str, float | None]:
        """The JSON form (the fields in order)."""
        return asdict(self)


@dataclass(frozen=True)
class SizingMetrics:
    """The :class:`SizingStats` of each of :data:`SIZING_METHODS`."""

    forecast: SizingStats
    trailing: SizingStats
    buy_and_hold: SizingStats

    def to_dict(self) -> dict[str, dict[str, float | None]]:
        """The JSON form: ``{"forecast", "trailing", "buy_and_hold"}``."""
        return {
            "forecast": self.forecast.to_dict(),
            "trailing": self.trailing.to_dict(),
            "buy_and_hold": self.buy_and_hold.to_dict(),
        }


@dataclass(frozen=True)
class TargetComparison:
    """Does the forecast hold the target closer than another sizing? A one-sided DM-HLN test on
    the squared tracking errors (``p_value``, None when the errors give no test) over ``periods``,
    ``gain`` the relative reduction of the tracking error (None when undefined), and ``better``:
    p < 0.05 and gain at least :data:`MATERIAL_GAIN`."""

    p_value: float | None
    gain: float | None
    periods: int
    better: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the fields in order)."""
        return asdict(self)


@dataclass(frozen=True)
class SizingComparisons:
    """The forecast against trailing sizing and against buy-and-hold."""

    vs_trailing: TargetComparison
    vs_buy_and_hold: TargetComparison

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The JSON form: ``{"forecast_vs_trailing", "forecast_vs_buy_and_hold"}``."""
        return {
            "forecast_vs_trailing": self.vs_trailing.to_dict(),
            "forecast_vs_buy_and_hold": self.vs_buy_and_hold.to_dict(),
        }


@dataclass(frozen=True)
class SizingResult:
    """``equity``: one row per candle (open_time, close, and per method its weight and equity);
    ``metrics``: each method's :class:`SizingStats`; ``tests``: the forecast against trailing and
    against buy-and-hold (:class:`TargetComparison`)."""

    symbol: str
    forecast: VolForecast
    config: BacktestConfig
    sizing: SizingConfig
    rebalance: int
    equity: pd.DataFrame
    metrics: SizingMetrics
    tests: SizingComparisons
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no per-candle rows)."""
        times = self.equity["open_time"]
        return {
            "symbol": self.symbol,
            "vol_model": self.forecast.model,
            "forecast_horizon": f"{self.forecast.horizon}h",
            "basis": self.forecast.basis,
            "gates_passed": self.forecast.gates_passed,
            "vol_target": self.sizing.vol_target,
            "cap": self.sizing.cap,
            "trailing_hours": self.sizing.trailing_hours,
            "rebalance_hours": self.rebalance,
            "fee": self.config.fee,
            "slippage_bps": self.config.slippage_bps,
            "start": str(times.iloc[0]) if len(times) else None,
            "end": str(times.iloc[-1]) if len(times) else None,
            "candles": len(self.equity),
            "metrics": self.metrics.to_dict(),
            "tests": self.tests.to_dict(),
            "notes": self.notes,
        }


def _daily_basis(horizons: list[str]) -> tuple[str, float, str]:
    """(horizon key, factor to a day, words): 24 h itself, else the shortest scaled by
    sqrt(24/h), as the live position size does."""
    if "24h" in horizons:
        return "24h", 1.0, "24 h forecast sigma"
    key = min(horizons, key=lambda k: int(k.removesuffix("h")))
    hours = int(key.removesuffix("h"))
    return key, math.sqrt(24 / hours), f"{key} sigma x sqrt(24/{hours})"


def load_vol_forecast(registry: ModelRegistry, symbol: str) -> VolForecast:
    """The coin's out-of-time daily sigma from its volatility model's saved test window.

    The model is the one the live card shows (most passing horizons, then lowest QLIKE); a coin
    whose volatility models all fail their gates uses its first promoted one, marked
    ``gates_passed=False`` (the live card shows no position size for it).

    Raises:
        ModelNotFoundError: the coin has no volatility model (the message says how to train one).
    """
    from core.volatility.live import load_live_volatility, volatility_versions

    live = load_live_volatility(registry, symbol)
    if live is not None:
        name, version = live.record.name, live.record.version
        passed = list(live.model.passed_horizons)
    else:
        versions = volatility_versions(registry, symbol)
        if not versions:
            raise ModelNotFoundError(
                f"{symbol} has no volatility model to size by: train one "
                f"(`python -m core volatility --coins {symbol}`)."
            )
        name, version = versions[0]
        passed = []
    preds = registry.get_predictions(name, version)
    horizons = sorted(str(h) for h in preds["horizon"].unique())
    key, factor, basis = _daily_basis(passed or horizons)
    rows = preds[preds["horizon"] == key].sort_values("open_time")
    times = pd.DatetimeIndex(pd.to_datetime(rows["open_time"], utc=True)).as_unit("ns")
    sigma = pd.Series(rows["sigma"].to_numpy(dtype="float64") * factor, index=times)
    return VolForecast(
        symbol=symbol,
        model=f"{name} {version}",
        horizon=int(key.removesuffix("h")),
        basis=basis,
        gates_passed=bool(passed),
        daily_sigma=sigma[~sigma.index.duplicated()],
    )


def _trailing_sigma(candles: pd.DataFrame, hours: int) -> pd.Series:
    """Daily sigma from the mean Garman–Klass variance of the last ``hours`` hourly candles
    ending at each candle (NaN when a candle of the window is missing)."""
    times = pd.DatetimeIndex(candles["open_time"]).as_unit("ns")
    v = pd.Series(
        garman_klass(candles["open"], candles["high"], candles["low"], candles["close"]),
        index=times,
    )
    grid = pd.date_range(times[0], times[-1], freq=_HOUR)
    mean = v.reindex(grid).rolling(hours, min_periods=hours).mean()
    return np.sqrt(mean * 24.0)


def _simulate(
    opens: np.ndarray,
    closes: np.ndarray,
    targets: np.ndarray,
    rebalance: np.ndarray,
    cost: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Equity (starting at 1) at each close, the weight held through each candle, turnover."""
    n = len(opens)
    equity, held = np.empty(n), np.zeros(n)
    eq, w, turnover = 1.0, 0.0, 0.0
    for k in range(n):
        if k:
            gap = opens[k] / closes[k - 1] - 1.0
            grown = 1.0 + w * gap
            eq *= grown
            w = w * (1.0 + gap) / grown if grown > 0 else 0.0
        if rebalance[k] and np.isfinite(targets[k]):
            traded = abs(targets[k] - w)
            eq *= 1.0 - traded * cost
            turnover += traded
            w = float(targets[k])
        held[k] = w
        r = closes[k] / opens[k] - 1.0
        grown = 1.0 + w * r
        eq *= grown
        w = w * (1.0 + r) / grown if grown > 0 else 0.0
        if k == n - 1:
            eq *= 1.0 - abs(w) * cost
            turnover += abs(w)
        equity[k] = eq
    return equity, held, turnover


def sizing_backtest(
    candles: pd.DataFrame,
    forecast: VolForecast,
    *,
    config: BacktestConfig | None = None,
    sizing: SizingConfig | None = None,
) -> SizingResult:
    """Forecast, trailing and buy-and-hold sizing over the forecast's test window (module doc).

    ``candles``: the coin's hourly candles (store schema), covering the test window and the
    trailing window before it.

    Raises:
        ValueError: no candle falls in the forecast's window.
    """
    config = config or BacktestConfig()
    sizing = sizing or SizingConfig()
    rebalance = sizing.rebalance or forecast.horizon
    sigma = forecast.daily_sigma.dropna()
    if sigma.empty:
        raise ValueError(f"{forecast.symbol}: the volatility model saved no test-window forecast")
    frame = candles.assign(open_time=pd.to_datetime(candles["open_time"], utc=True))
    frame = frame.sort_values("open_time").drop_duplicates("open_time").reset_index(drop=True)
    times = pd.DatetimeIndex(frame["open_time"]).as_unit("ns")
    first, last = sigma.index[0] + _HOUR, sigma.index[-1] + _HOUR
    inside = (times >= first) & (times <= last)
    if inside.sum() < 2:
        raise ValueError(
            f"{forecast.symbol}: no stored candles in the volatility model's test window "
            f"({first:%Y-%m-%d} → {last:%Y-%m-%d}); fetch the coin's candles again."
        )
    period = frame[inside].reset_index(drop=True)
    when = times[inside]
    # What was known at the close of the previous hour decides this candle's size.
    decided_at = when - _HOUR
    daily = {
        "forecast": sigma.reindex(decided_at).to_numpy(),
        "trailing": _trailing_sigma(frame, sizing.trailing_hours).reindex(decided_at).to_numpy(),
    }
    hours_in = ((when - when[0]) / _HOUR).to_numpy().astype("int64")
    block = hours_in // rebalance
    is_rebalance = hours_in % rebalance == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        targets = {name: np.minimum(sizing.cap, sizing.vol_target / s) for name, s in daily.items()}
    hold = np.zeros(len(period), dtype=bool)
    hold[0] = True
    targets["buy_and_hold"] = np.ones(len(period))
    opens = period["open"].to_numpy(dtype="float64")
    closes = period["close"].to_numpy(dtype="float64")
    cost = config.fee + config.slippage_bps / 10_000
    var = garman_klass(opens, period["high"], period["low"], closes)
    equity = pd.DataFrame({"open_time": when, "close": closes})
    held: dict[str, np.ndarray] = {}
    turnovers: dict[str, float] = {}
    for name in SIZING_METHODS:
        mask = hold if name == "buy_and_hold" else is_rebalance
        eq, w, turnover = _simulate(opens, closes, targets[name], mask, cost)
        equity[f"{name}_weight"] = w
        equity[name] = eq * config.initial_cash
        held[name], turnovers[name] = w, turnover
    errors, valid = _tracking(held, var, block, rebalance, sizing.vol_target)
    stats = {
        name: _metrics(
            equity[name],
            held[name],
            turnovers[name],
            errors[name],
            valid,
            config,
            realised_vol=_realised(held[name], var, block, rebalance, valid),
        )
        for name in SIZING_METHODS
    }
    metrics = SizingMetrics(
        forecast=stats["forecast"], trailing=stats["trailing"], buy_and_hold=stats["buy_and_hold"]
    )
    tests = SizingComparisons(
        vs_trailing=_compare(errors["forecast"][valid], errors["trailing"][valid]),
        vs_buy_and_hold=_compare(errors["forecast"][valid], errors["buy_and_hold"][valid]),
    )
    notes = _notes(forecast, sizing, rebalance, when, tests)
    return SizingResult(
        forecast.symbol, forecast, config, sizing, rebalance, equity, metrics, tests, notes
    )


def _tracking(
    held: dict[str, np.ndarray],
    var: np.ndarray,
    block: np.ndarray,
    rebalance: int,
    target: float,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per rebalance period and method ``log(realised daily vol / target)``, and which periods
    count: complete (``rebalance`` candles), every method invested, every variance known."""
    blocks = int(block.max()) + 1
    counts = np.bincount(block, minlength=blocks)
    known = np.bincount(block, weights=np.isfinite(var).astype(float), minlength=blocks)
    v = np.nan_to_num(var)
    errors, valid = {}, (counts == rebalance) & (known == rebalance)
    for name, w in held.items():
        realised = np.bincount(block, weights=w**2 * v, minlength=blocks) * 24.0 / rebalance
        with np.errstate(divide="ignore", invalid="ignore"):
            errors[name] = 0.5 * np.log(realised) - math.log(target)
        valid &= realised > 0
    return errors, valid


def _realised(
    w: np.ndarray, var: np.ndarray, block: np.ndarray, rebalance: int, valid: np.ndarray
) -> float | None:
    """The position's daily realised volatility over the counted periods."""
    if not valid.any():
        return None
    per = np.bincount(block, weights=w**2 * np.nan_to_num(var), minlength=len(valid))
    return float(math.sqrt(np.mean(per[valid]) * 24.0 / rebalance))


def _metrics(
    equity: pd.Series,
    w: np.ndarray,
    turnover: float,
    errors: np.ndarray,
    valid: np.ndarray,
    config: BacktestConfig,
    *,
    realised_vol: float | None,
) -> SizingStats:
    base = compute_metrics(equity, [], w, "1h", initial=config.initial_cash, size=w)
    e = errors[valid]
    return SizingStats(
        total_return=base.total_return,
        cagr=base.cagr,
        sharpe=base.sharpe,
        max_drawdown=base.max_drawdown,
        turnover=float(turnover),
        avg_size=float(np.mean(w)) if len(w) else None,
        tracking_error=float(np.sqrt(np.mean(e**2))) if len(e) else None,
        bias=float(np.mean(e)) if len(e) else None,
        realised_vol=realised_vol,
    )


def _compare(forecast_err: np.ndarray, other_err: np.ndarray) -> TargetComparison:
    """One-sided DM-HLN on squared tracking errors, and the relative reduction of the tracking
    error (``gain``): is the forecast's lower, clearly and by enough to matter?"""
    res = diebold_mariano(forecast_err**2, other_err**2, horizon=1)
    p = None if not np.isfinite(res.p_value) else float(res.p_value)
    rmse_f = float(np.sqrt(np.mean(forecast_err**2))) if len(forecast_err) else float("nan")
    rmse_o = float(np.sqrt(np.mean(other_err**2))) if len(other_err) else float("nan")
    gain = 1.0 - rmse_f / rmse_o if rmse_o > 0 else float("nan")
    return TargetComparison(
        p_value=p,
        gain=None if not np.isfinite(gain) else gain,
        periods=int(res.n),
        better=bool(
            p is not None and p < _SIGNIFICANCE and np.isfinite(gain) and gain >= MATERIAL_GAIN
        ),
    )


def _notes(
    forecast: VolForecast,
    sizing: SizingConfig,
    rebalance: int,
    when: pd.DatetimeIndex,
    tests: SizingComparisons,
) -> list[str]:
    notes = [
        f"Out-of-time forecasts of {forecast.model} ({forecast.basis}) on its test window "
        f"{when[0]:%Y-%m-%d %H:%M} → {when[-1]:%Y-%m-%d %H:%M} UTC: the model never saw "
        "these hours.",
        f"Target {sizing.vol_target:.2%} a day, at most {sizing.cap:g}x equity, rebalanced "
        f"every {rebalance} h; trailing sizing uses the last {sizing.trailing_hours} h of "
        "realised volatility.",
    ]
    if not forecast.gates_passed:
        notes.append(
            "This volatility model fails its gates: the Signals card shows no position size "
            "for it; the numbers here show why."
        )
    for t, words in (
        (tests.vs_trailing, "trailing sizing"),
        (tests.vs_buy_and_hold, "buy and hold"),
    ):
        g = t.gain
        if t.p_value is None or g is None:  # a flat or empty error series: nothing to test
            notes.append(
                f"The forecast is not compared with {words}: their tracking errors over "
                f"{t.periods} periods give no test."
            )
            continue
        p = f"{t.p_value:.3g}"
        gain = f"{abs(g):.0%} {'lower' if g >= 0 else 'higher'}"
        verdict = "holds the target closer than" if t.better else "is not shown to beat"
        notes.append(
            f"The forecast {verdict} {words}: tracking error {gain} (DM-HLN p {p} over "
            f"{t.periods} periods; needs p < {_SIGNIFICANCE} and at least "
            f"{MATERIAL_GAIN:.0%})."
        )
    return notes


def sizing_coin(
    symbol: str,
    registry: ModelRegistry,
    *,
    candles: pd.DataFrame | None = None,
    config: BacktestConfig | None = None,
    sizing: SizingConfig | None = None,
    paths: Paths | None = None,
) -> SizingResult:
    """:func:`sizing_backtest` of a coin's promoted volatility model on its stored 1 h candles
    (``candles``, else those of the home ``paths`` describes: the edge's ``context.paths``).

    Raises:
        ModelNotFoundError: the coin has no volatility model.
        NoDataError: no stored candles; fetch them first.
    """
    from core.config import Interval
    from core.data.coins import parse_coin
    from core.data.store import load_candles

    coin = parse_coin(symbol).symbol
    forecast = load_vol_forecast(registry, coin)
    if candles is None:
        candles = load_candles(coin, Interval.parse("1h"), paths=paths)
    return sizing_backtest(candles, forecast, config=config, sizing=sizing)
