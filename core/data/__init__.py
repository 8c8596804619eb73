"""Candles: coins, the ExchangeClient protocol and its Binance client, the store, and fetching.

This is the stage's public face; the modules below it are importable too."""

from __future__ import annotations

from core.data.binance import KLINES_LIMIT, BinanceClient
from core.data.coins import (
    DEFAULT_COINS,
    QUOTE,
    STABLECOINS,
    Coin,
    display_name,
    ensure_tradeable,
    is_stablecoin,
    parse_coin,
    parse_coins,
)
from core.data.exchange import ExchangeClient
from core.data.fetch import fetch_coins, load_sample
from core.data.fetch_log import log_path
from core.data.fetch_status import (
    FetchEvent,
    FetchResult,
    FetchStatus,
    coverage_status,
    expected_candles,
)
from core.data.klines import parse_klines
from core.data.ratelimit import KLINES_WEIGHT, WEIGHT_LIMIT, RateLimiter, describe_wait
from core.data.store import (
    COLUMNS,
    FLOAT_COLUMNS,
    Coverage,
    candle_mtime_ns,
    candle_path,
    coverage,
    drop_open_candles,
    empty_candles,
    export_csv,
    find_gaps,
    list_stored,
    load_candles,
    merge_candles,
    normalize_candles,
    save_candles,
    stored_fingerprint,
)

__all__ = [
    "BinanceClient",
    "COLUMNS",
    "Coin",
    "Coverage",
    "DEFAULT_COINS",
    "ExchangeClient",
    "FLOAT_COLUMNS",
    "FetchEvent",
    "FetchResult",
    "FetchStatus",
    "KLINES_LIMIT",
    "KLINES_WEIGHT",
    "QUOTE",
    "RateLimiter",
    "STABLECOINS",
    "WEIGHT_LIMIT",
    "candle_mtime_ns",
    "candle_path",
    "coverage",
    "coverage_status",
    "describe_wait",
    "display_name",
    "drop_open_candles",
    "empty_candles",
    "ensure_tradeable",
    "expected_candles",
    "export_csv",
    "fetch_coins",
    "find_gaps",
    "is_stablecoin",
    "list_stored",
    "load_candles",
    "load_sample",
    "log_path",
    "merge_candles",
    "normalize_candles",
    "parse_coin",
    "parse_coins",
    "parse_klines",
    "save_candles",
    "stored_fingerprint",
]
