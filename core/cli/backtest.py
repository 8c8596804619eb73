"""``python -m core backtest --coin BTC``: the ensemble signal traded on the out-of-sample period."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from core.cli._common import format_table
from core.config import BacktestConfig
from core.data.coins import parse_coin
from core.signals.backtest import backtest_coin, cost_column
from core.signals.trading import METRIC_NAMES, BacktestResult, StrategyConfig, TradeStats

if TYPE_CHECKING:
    from core.registry.model_registry import ModelRegistry
    from core.signals.sizing import SizingResult

__all__ = ["register", "run"]

_PERCENT = {"total_return", "cagr", "max_drawdown", "win_rate", "exposure", "avg_size"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "backtest",
        help="trade a coin's ensemble signal on its out-of-sample test period",
        description=(
            "Replays the ensemble's calls on the test-period predictions saved at training time: "
            "a call at the close of candle t trades at the open of t+1 and is held at least the "
            "signal's horizon, then kept while the call stays the same; fees and slippage on "
            "every entry and exit. Calls weaker than a minimum strength are not traded; that "
            "threshold is chosen on the walk-forward folds (before the test window) to "
            "maximise the return after costs. Shown beside the same positions at zero cost "
            "and beside buy-and-hold over the same period."
        ),
    )
    parser.add_argument("--coin", required=True, help="the coin, e.g. BTC or ETHUSDT")
    parser.add_argument(
        "--fee", type=float, default=0.001, help="fee per side as a fraction (default 0.001)"
    )
    parser.add_argument(
        "--slippage-bps", type=float, default=5.0, help="slippage in basis points (default 5)"
    )
    parser.add_argument(
        "--long-short", action="store_true", help="go short on BEARISH (default: long/flat)"
    )
    parser.add_argument(
        "--size-by-confidence",
        action="store_true",
        help="size each position by its call's out-of-time confidence: "
        "clip((confidence - 0.5) / (FULL - 0.5), 0, 1) of equity",
    )
    parser.add_argument(
        "--full-size-at",
        type=float,
        default=0.60,
        metavar="FULL",
        help="confidence at which a sized position is full size (default 0.60)",
    )
    parser.add_argument(
        "--hold",
        type=int,
        default=None,
        help="candles a position is held at least (default: the signal's horizon)",
    )
    parser.add_argument(
        "--sizing",
        action="store_true",
        help="instead of the direction calls: long positions sized to --vol-target by the "
        "volatility forecast, beside the same sizing by trailing volatility and buy-and-hold, "
        "on the volatility model's test window",
    )
    parser.add_argument(
        "--vol-target",
        type=float,
        default=0.02,
        help="daily volatility target of --sizing, as a fraction (default 0.02 = 2%%)",
    )
    parser.add_argument(
        "--trailing-hours",
        type=int,
        default=168,
        help="window of the trailing-volatility sizing of --sizing (default 168 = a week)",
    )
    parser.add_argument(
        "--rebalance-hours",
        type=int,
        default=None,
        help="hours between rebalances of --sizing (default: the forecast's horizon)",
    )
    parser.add_argument("--trades", action="store_true", help="also list every trade")
    parser.add_argument("--json", action="store_true", help="print metrics and trades as JSON")
    parser.set_defaults(func=run)


def _fmt(name: str, value: float | int | None) -> str:
    if value is None:
        return "n/a"
    if name in _PERCENT:
        return f"{value:.2%}"
    if name == "trades":
        return str(value)
    return f"{value:.2f}"


def _grid_summary(result: BacktestResult) -> dict[str, Any] | None:
    """The test window's best cell after the fact, beside the cell the folds chose."""
    grid = result.grid
    if grid is None or result.threshold is None:
        return None
    column = cost_column(grid.costs, result.config)
    best = int(np.argmax(grid.total_return[:, column]))
    chosen = int(np.argmin(np.abs(grid.thresholds - result.threshold.min_strength)))
    return {
        "thresholds": len(grid.thresholds),
        "cost_levels": [list(c) for c in grid.costs],
        "chosen_min_strength": float(grid.thresholds[chosen]),
        "chosen_return": float(grid.total_return[chosen, column]),
        "best_after_the_fact_min_strength": float(grid.thresholds[best]),
        "best_after_the_fact_return": float(grid.total_return[best, column]),
        "note": "choosing the best cell after seeing the test window is overfitting",
    }


def _as_json(result: BacktestResult) -> str:
    trades = result.trades.assign(
        entry_time=result.trades["entry_time"].astype(str),
        exit_time=result.trades["exit_time"].astype(str),
    )
    payload = {
        "symbol": result.symbol,
        "interval": result.interval,
        "signal": "NO_EDGE" if result.no_edge else None,
        "fee": result.config.fee,
        "slippage_bps": result.config.slippage_bps,
        "long_short": result.config.allow_short,
        "size_by_confidence": result.strategy.size_by_confidence,
        "full_size_at": result.strategy.full_size_at,
        "hold": result.hold,
        "start": str(result.equity["open_time"].iloc[0]),
        "end": str(result.equity["open_time"].iloc[-1]),
        "threshold": result.threshold.to_dict() if result.threshold else None,
        "metrics": result.metrics.to_dict(),
        "grid": _grid_summary(result),
        "trades": trades.to_dict("records"),
        "notes": result.notes,
    }
    return json.dumps(payload, indent=2, default=str)


_SIZING_PERCENT = {"total_return", "cagr", "max_drawdown", "avg_size", "realised_vol"}


def _sizing_fmt(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if name in _SIZING_PERCENT:
        return f"{value:.2%}"
    if name == "turnover":
        return f"{value:.1f}x"
    return f"{value:.3f}" if name in {"tracking_error", "bias"} else f"{value:.2f}"


def _run_sizing(args: argparse.Namespace, config: BacktestConfig, registry: ModelRegistry) -> int:
    from core.signals.sizing import SizingConfig, sizing_coin

    sizing = SizingConfig(
        vol_target=args.vol_target,
        trailing_hours=args.trailing_hours,
        rebalance=args.rebalance_hours,
    )
    result = sizing_coin(
        parse_coin(args.coin).symbol,
        registry,
        config=config,
        sizing=sizing,
        paths=args.context.paths,
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
        return 0
    print(
        f"{result.symbol} volatility-target sizing, {sizing.vol_target:.2%} a day, fee "
        f"{config.fee:.3%} per side, slippage {config.slippage_bps:g} bps"
    )
    for note in result.notes:
        print(note)
    print(_sizing_table(result))
    return 0


def _sizing_table(result: SizingResult) -> str:
    from core.signals.sizing import SIZING_METRICS

    m = result.metrics
    columns = {
        "forecast sizing": m.forecast.to_dict(),
        "trailing sizing": m.trailing.to_dict(),
        "buy and hold": m.buy_and_hold.to_dict(),
    }
    rows = [
        [name, *(_sizing_fmt(name, c[name]) for c in columns.values())] for name in SIZING_METRICS
    ]
    return format_table(["metric", *columns], rows)


def _metrics_table(result: BacktestResult) -> str:
    m = result.metrics
    legs: dict[str, TradeStats | None] = {
        "strategy": m.strategy,
        "zero cost": m.zero_cost,
        "buy and hold": m.buy_and_hold,
    }
    columns = {title: {} if leg is None else leg.to_dict() for title, leg in legs.items()}
    rows = [[name, *(_fmt(name, c.get(name)) for c in columns.values())] for name in METRIC_NAMES]
    return format_table(["metric", *columns], rows)


def run(args: argparse.Namespace) -> int:
    from core.registry.model_registry import ModelRegistry

    config = BacktestConfig(
        fee=args.fee, slippage_bps=args.slippage_bps, allow_short=args.long_short
    )
    if args.sizing:
        return _run_sizing(args, config, ModelRegistry(args.context.paths.models))
    strategy = StrategyConfig(
        hold=args.hold, size_by_confidence=args.size_by_confidence, full_size_at=args.full_size_at
    )
    result = backtest_coin(
        parse_coin(args.coin).symbol,
        ModelRegistry(args.context.paths.models),
        config=config,
        strategy=strategy,
        paths=args.context.paths,
    )
    if args.json:
        print(_as_json(result))
        return 0
    mode = "long/short" if config.allow_short else "long/flat"
    sizing = ", sized by confidence" if strategy.size_by_confidence else ""
    print(
        f"{result.symbol} {result.interval} backtest, {mode}{sizing}, fee {config.fee:.3%} per "
        f"side, slippage {config.slippage_bps:g} bps, held >= {result.hold} candles"
    )
    for note in result.notes:
        print(note)
    if result.threshold is not None:
        t = result.threshold
        print(t.summary)
        if t.margins:
            margins = ", ".join(f"{name} {m:g}" for name, m in t.margins.items())
            print(f"Vote margins (as trained, unchanged): {margins}.")
    print(_metrics_table(result))
    summary = _grid_summary(result)
    if summary:
        print(
            f"Test-window grid ({summary['thresholds']} thresholds x "
            f"{len(summary['cost_levels'])} cost levels): the folds' choice made "
            f"{summary['chosen_return']:+.2%}; the best threshold after the fact "
            f"({summary['best_after_the_fact_min_strength']:.2f}) made "
            f"{summary['best_after_the_fact_return']:+.2%}, but choosing it after seeing the "
            "test window is overfitting."
        )
    if args.trades and len(result.trades):
        trade_rows = [
            [
                t.side,
                f"{t.size:.2f}",
                f"{t.entry_time:%Y-%m-%d %H:%M}",
                f"{t.entry_price:,.6g}",
                f"{t.exit_time:%Y-%m-%d %H:%M}",
                f"{t.exit_price:,.6g}",
                str(t.bars),
                f"{t.ret:+.2%}",
            ]
            for t in result.trades.rename(columns={"return": "ret"}).itertuples()
        ]
        print()
        print(
            format_table(
                ["side", "size", "entry", "price", "exit", "price", "candles", "return"],
                trade_rows,
            )
        )
    return 0
