"""``python -m core features --coin BTC --out btc_features.parquet``: features and targets."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.atomic import atomic_write
from core.cli._common import format_table
from core.config import Interval, TargetConfig
from core.data.coins import parse_coin
from core.data.store import load_candles
from core.errors import ConfigError
from core.features.causal import FEATURES, NEXT_CLOSE, feature_frame
from core.features.docs import features_markdown

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "features",
        help="compute a coin's features and targets from its stored candles",
        description=(
            "Writes one row per stored candle: open_time (UTC), close, every feat_* column "
            "(causal, scale-free, NaN during warm-up), then the targets target_up_<pct>pct_<h>h "
            "and target_next_close (NaN where the future is unknown). --indicators adds the raw "
            "indicator values (price units) after the features. The file type follows --out "
            "(.parquet or .csv). Without --out, prints a summary. --list / --list-md print the "
            "feature catalogue instead (docs/FEATURES.md is --list-md)."
        ),
    )
    parser.add_argument("--coin", help="the coin, e.g. BTC or ETHUSDT")
    parser.add_argument("--interval", default="1h", help="candle interval (default 1h)")
    parser.add_argument("--out", type=Path, help="output file, .parquet or .csv")
    parser.add_argument(
        "--horizon", type=int, default=6, help="target horizon in candles (default 6)"
    )
    parser.add_argument(
        "--threshold", type=float, default=0.01, help="target rise as a fraction (default 0.01)"
    )
    parser.add_argument(
        "--indicators", action="store_true", help="also write the raw indicator columns"
    )
    listing = parser.add_mutually_exclusive_group()
    listing.add_argument("--list", action="store_true", help="print the features as a table")
    listing.add_argument(
        "--list-md", action="store_true", help="print the features as Markdown (docs/FEATURES.md)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.list_md:
        print(features_markdown(), end="")
        return 0
    if args.list:
        rows: list[tuple[object, ...]] = [
            (s.name, s.warmup, s.description) for s in FEATURES.values()
        ]
        print(format_table(["feature", "warm-up", "meaning"], rows))
        return 0
    if not args.coin:
        raise ConfigError("say which coin: --coin BTC (or --list to see the features).")
    target = TargetConfig(horizon=args.horizon, threshold=args.threshold)
    interval = Interval.parse(args.interval)
    suffix = args.out.suffix.lower() if args.out else ""
    if args.out and suffix not in {".parquet", ".csv"}:
        raise ConfigError(f"--out {args.out} must end in .parquet or .csv.")
    coin = parse_coin(args.coin)
    candles = load_candles(coin.symbol, interval, paths=args.context.paths)
    frame = feature_frame(
        candles,
        horizon=target.horizon,
        threshold=target.threshold,
        include_indicators=args.indicators,
    )
    if args.out:
        out = args.out.expanduser().resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            atomic_write(
                out,
                lambda tmp: frame.to_csv(tmp, index=False, date_format="%Y-%m-%dT%H:%M:%SZ"),
            )
        else:
            atomic_write(out, lambda tmp: frame.to_parquet(tmp, index=False))
        print(f"wrote {len(frame):,} rows x {frame.shape[1]} columns for {coin.symbol} to {out}")
        return 0
    feats = frame[list(FEATURES)]
    complete = int(feats.notna().all(axis=1).sum())
    labelled = frame[target.column].dropna()
    rows = [
        ("candles", f"{len(frame):,}"),
        ("from", str(frame["open_time"].iloc[0]) if len(frame) else "-"),
        ("to", str(frame["open_time"].iloc[-1]) if len(frame) else "-"),
        ("features", str(len(FEATURES))),
        ("rows with every feature", f"{complete:,}"),
        (f"{target.column} base rate", f"{labelled.mean():.3f}" if len(labelled) else "-"),
        (f"{NEXT_CLOSE} rows", f"{int(frame[NEXT_CLOSE].notna().sum()):,}"),
    ]
    print(f"{coin.symbol} {interval.value}: no --out given, summary only")
    print(format_table(["", "value"], rows))
    return 0
