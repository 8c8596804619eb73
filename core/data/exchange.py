"""What the fetch needs from an exchange: :class:`ExchangeClient`.

:mod:`core.data.fetch` talks to an exchange only through this protocol, so another exchange is one
new client module; :class:`core.data.binance.BinanceClient` is the implementation today. A client
returns candles in the store's schema (:data:`core.data.store.COLUMNS`, UTC times), is safe to
share between the fetch's threads, and raises :class:`core.errors.BinanceError` subclasses (the
exchange error family) for failures, each message saying what to do.

Its :attr:`~ExchangeClient.name` also decides where its candles are stored:
:func:`core.data.store.candle_path` keeps Binance at ``data/raw/{SYMBOL}-{interval}.parquet`` and
puts any other exchange under ``data/raw/{name}/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import pandas as pd

from core.config import Interval

__all__ = ["DEFAULT_EXCHANGE", "ExchangeClient"]

DEFAULT_EXCHANGE = "binance"


@runtime_checkable
class ExchangeClient(Protocol):
    """An exchange's market data, as the fetch uses it."""

    #: Lower-case letters and digits (``"binance"``); names the storage folder.
    name: str
    #: Where requests go, for log lines and messages.
    base_url: str
    #: The most candles one :meth:`klines` call returns.
    page_limit: int

    def klines(
        self,
        symbol: str,
        interval: str | Interval,
        *,
        start_ms: int,
        end_ms: int | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """One page of candles with ``start_ms <= open_time (<= end_ms)``, oldest first, in the
        store's schema; it may end with the still-open candle."""
        ...

    def iter_klines(
        self,
        symbol: str,
        interval: str | Interval,
        *,
        start_ms: int,
        end_ms: int,
        now_ms: int,
    ) -> Iterator[pd.DataFrame]:
        """Closed candles (close time before ``now_ms``) from ``start_ms`` to ``end_ms``, one
        frame per page, oldest first."""
        ...

    def server_time_ms(self) -> int:
        """The exchange's clock, epoch milliseconds."""
        ...

    def list_symbols(self, *, quote: str | None = None) -> list[str]:
        """Every pair that trades now (optionally only those quoted in ``quote``), sorted."""
        ...

    def validate_symbol(self, symbol: str) -> str:
        """The pair's symbol if the exchange lists it; raises UnknownSymbolError if not."""
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...
