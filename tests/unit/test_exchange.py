"""The ExchangeClient protocol: Binance implements it, fetch depends on it, paths carry exchanges."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from core.data import store
from core.data.binance import BinanceClient
from core.data.exchange import ExchangeClient
from core.data.fetch import fetch_coins
from core.data.fetch_status import FetchStatus
from core.errors import ConfigError, UnknownSymbolError
from tests.fake_binance import FakeBinance


def test_binance_client_is_an_exchange_client():
    with BinanceClient("http://127.0.0.1:9") as client:
        assert isinstance(client, ExchangeClient)
        assert client.name == "binance" and client.page_limit == 1000


def test_binance_keeps_todays_paths_and_another_exchange_gets_its_own_folder(home: Path):
    raw = home / "data" / "raw"
    assert store.candle_path("BTC") == raw / "BTCUSDT-1h.parquet"
    assert store.candle_path("BTC", "4h", exchange="binance") == raw / "BTCUSDT-4h.parquet"
    assert store.candle_path("BTC", exchange="kraken") == raw / "kraken" / "BTCUSDT-1h.parquet"
    with pytest.raises(ConfigError):
        store.candle_path("BTC", exchange="../etc")


def test_store_functions_keep_exchanges_apart(home: Path, btc_candles: pd.DataFrame):
    store.save_candles(btc_candles.head(10), "BTC", exchange="kraken")
    assert store.list_stored() == [] and store.list_stored(exchange="kraken") == [("BTCUSDT", "1h")]
    assert store.coverage("BTC", exchange="kraken").rows == 10
    assert store.coverage("BTC").rows == 0
    assert store.candle_mtime_ns("BTC") == 0 and store.candle_mtime_ns("BTC", exchange="kraken")
    store.save_candles(btc_candles.head(5), "ETH")
    [(symbol, interval, mtime)] = store.stored_fingerprint()
    assert (symbol, interval) == ("ETHUSDT", "1h") and mtime == store.candle_mtime_ns("ETH")


class _Renamed:
    """Another exchange client: Binance's wire format under another name (what fetch sees)."""

    def __init__(self, inner: BinanceClient) -> None:
        self.inner = inner
        self.name = "otherex"
        self.base_url = inner.base_url
        self.page_limit = 500

    def __getattr__(self, attr: str):
        return getattr(self.inner, attr)


def test_fetch_uses_any_exchange_client_and_stores_under_its_name(home: Path):
    with FakeBinance(listed_hours=1_200) as fake, BinanceClient(fake.url) as inner:
        client = _Renamed(inner)
        assert isinstance(client, ExchangeClient)
        [result] = fetch_coins(["BTC"], days=30, client=client)
    assert result.status is FetchStatus.UP_TO_DATE
    assert store.list_stored() == [], "nothing written to Binance's place"
    assert len(store.load_candles("BTC", exchange="otherex")) == 720
    assert "Binance" not in result.note


def test_server_time_and_symbol_validation_against_the_fake(fake_binance: FakeBinance):
    with BinanceClient(fake_binance.url) as client:
        assert abs(client.server_time_ms() - pd.Timestamp.now(tz="UTC").value // 1e6) < 60_000
        assert client.validate_symbol("btc") == "BTCUSDT"
        with pytest.raises(UnknownSymbolError, match="FOOUSDT"):
            client.validate_symbol("FOO")


EXCHANGE_INFO = {
    "timezone": "UTC",
    "symbols": [
        {"symbol": "ETHUSDT", "status": "TRADING", "baseAsset": "ETH", "quoteAsset": "USDT"},
        {"symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT"},
        {"symbol": "ETHBTC", "status": "TRADING", "baseAsset": "ETH", "quoteAsset": "BTC"},
        {"symbol": "MATICUSDT", "status": "BREAK", "baseAsset": "MATIC", "quoteAsset": "USDT"},
    ],
}


@pytest.fixture
def exchange_info_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (stdlib name)
            body = json.dumps(EXCHANGE_INFO).encode()
            self.send_response(200 if self.path == "/api/v3/exchangeInfo" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_list_symbols_reads_exchange_info_trading_pairs_only(exchange_info_server: str):
    with BinanceClient(exchange_info_server) as client:
        assert client.list_symbols() == ["BTCUSDT", "ETHBTC", "ETHUSDT"]
        assert client.list_symbols(quote="usdt") == ["BTCUSDT", "ETHUSDT"]
