"""``python -m core backtest --coin BTC``: the ensemble signal traded on the out-of-sample period."""

from __future__ import annotations

import argparse
import json

from core.cli._common import format_table
from core.config import BacktestConfig
from core.data.coins import parse_coin
from core.signals.backtest import METRIC_NAMES, BacktestResult, backtest_coin

__all__ = ["register", "run"]

_PERCENT = {"total_return", "cagr", "max_drawdown", "win_rate", "exposure"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backtest",
        help="trade a coin's ensemble signal on its out-of-sample test period",
        description=(
            "Replays the ensemble rule on the test-period predictions saved at training time: "
            "a signal at the close of candle t trades at the open of t+1, with fees and "
            "slippage on every entry and exit; compared with buy-and-hold over the same period."
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


def _as_json(result: BacktestResult) -> str:
    trades = result.trades.assign(
        entry_time=result.trades["entry_time"].astype(str),
        exit_time=result.trades["exit_time"].astype(str),
    )
    payload = {
        "symbol": result.symbol,
        "interval": result.interval,
        "fee": result.config.fee,
        "slippage_bps": result.config.slippage_bps,
        "long_short": result.config.allow_short,
        "start": str(result.equity["open_time"].iloc[0]),
        "end": str(result.equity["open_time"].iloc[-1]),
        "metrics": result.metrics,
        "trades": trades.to_dict("records"),
        "notes": result.notes,
    }
    return json.dumps(payload, indent=2)


def run(args: argparse.Namespace) -> int:
    from core.registry.model_registry import ModelRegistry

    config = BacktestConfig(
        fee=args.fee, slippage_bps=args.slippage_bps, allow_short=args.long_short
    )
    result = backtest_coin(parse_coin(args.coin).symbol, ModelRegistry(), config=config)
    if args.json:
        print(_as_json(result))
        return 0
    mode = "long/short" if config.allow_short else "long/flat"
    print(
        f"{result.symbol} {result.interval} backtest, {mode}, fee {config.fee:.3%} per side, "
        f"slippage {config.slippage_bps:g} bps"
    )
    for note in result.notes:
        print(note)
    rows = [
        [
            name,
            _fmt(name, result.metrics["strategy"][name]),
            _fmt(name, result.metrics["buy_and_hold"][name]),
        ]
        for name in METRIC_NAMES
    ]
    print(format_table(["metric", "strategy", "buy and hold"], rows))
    if args.trades and len(result.trades):
        trade_rows = [
            [
                t.side,
                f"{t.entry_time:%Y-%m-%d %H:%M}",
                f"{t.entry_price:,.6g}",
                f"{t.exit_time:%Y-%m-%d %H:%M}",
                f"{t.exit_price:,.6g}",
                f"{t.ret:+.2%}",
            ]
            for t in result.trades.rename(columns={"return": "ret"}).itertuples()
        ]
        print()
        print(format_table(["side", "entry", "price", "exit", "price", "return"], trade_rows))
    return 0
