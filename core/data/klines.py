"""Binance kline bodies → frames in the store's schema, column-wise (no Python loop per row).

:func:`decode_klines` reads the body Binance sends (``[[open_ms,"open",...,"0"],...]``, numbers
only) with pyarrow's CSV reader once the brackets and quotes are dropped: one C++ pass, about a
third of the CPU of ``json.loads`` plus building columns from Python lists (bench/results/fetch.md
has the profile). Any other shape (pretty-printed, nulls, an error object) goes through
:func:`json.loads` and :func:`parse_klines`, which say what is wrong.
"""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from core.data.store import COLUMNS, TIME_DTYPE

__all__ = ["decode_klines", "parse_klines"]

_FLOAT_FIELDS = (
    (1, "open"),
    (2, "high"),
    (3, "low"),
    (4, "close"),
    (5, "volume"),
    (7, "quote_asset_volume"),
    (9, "taker_buy_base_volume"),
    (10, "taker_buy_quote_volume"),
)


def parse_klines(rows: list[list[Any]]) -> pd.DataFrame:
    """Binance's kline arrays (twelve fields each) → a frame in the store's schema.

    Field 12 ("ignore") is checked for presence and dropped; prices and volumes arrive as strings
    and become float64 (one pyarrow cast for all eight columns), times (epoch ms) UTC datetimes,
    the trade count int64. Column-wise throughout: no Python loop per row.

    Raises:
        ValueError: a row without twelve fields or with values of the wrong kind.
    """
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in COLUMNS}).pipe(_typed)
    if not isinstance(rows, list) or not isinstance(rows[0], list) or len(rows[0]) != 12:
        raise ValueError("a kline row without the twelve Binance fields")
    try:
        cols = list(zip(*rows, strict=True))
    except (TypeError, ValueError):
        raise ValueError("a kline row without the twelve Binance fields") from None
    n = len(rows)
    try:
        flat = pa.array(
            list(itertools.chain.from_iterable(cols[i] for i, _ in _FLOAT_FIELDS)), pa.string()
        )
        floats = pc.cast(flat, pa.float64()).to_numpy().reshape(len(_FLOAT_FIELDS), n)
        ints = np.array([cols[0], cols[6], cols[8]], dtype=np.int64)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"a kline row with values of the wrong kind ({exc})") from None
    data: dict[str, Any] = {name: floats[k] for k, (_, name) in enumerate(_FLOAT_FIELDS)}
    data["open_time"] = _utc_ms(ints[0])
    data["close_time"] = _utc_ms(ints[1])
    data["number_of_trades"] = ints[2]
    # built in the store's column order: selecting columns afterwards costs more than the rest
    return pd.DataFrame({c: data[c] for c in COLUMNS})


def _utc_ms(epoch_ms: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(epoch_ms.astype("datetime64[ms]")).tz_localize("UTC")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in ("open_time", "close_time"):
        out[col] = pd.to_datetime(out[col].astype("int64"), unit="ms", utc=True).astype(TIME_DTYPE)
    out["number_of_trades"] = out["number_of_trades"].astype("int64")
    return out[list(COLUMNS)]


_WIRE_NAMES = [f"f{i}" for i in range(12)]
_INT_FIELDS = {0: "open_time", 6: "close_time", 8: "number_of_trades"}
_CSV_READ = pa_csv.ReadOptions(column_names=_WIRE_NAMES, use_threads=False)
_CSV_PARSE = pa_csv.ParseOptions(newlines_in_values=False)
_CSV_CONVERT = pa_csv.ConvertOptions(
    column_types={f"f{i}": pa.int64() if i in _INT_FIELDS else pa.float64() for i in range(11)},
    include_columns=_WIRE_NAMES[:11],
    null_values=[],
    strings_can_be_null=False,
)


def decode_klines(body: bytes) -> pd.DataFrame:
    """A ``GET /api/v3/klines`` body → a store-schema frame.

    Raises:
        ValueError: a body that is not a list of twelve-field klines (invalid or cut-off JSON,
            rows of the wrong length, values of the wrong kind).
    """
    plain = (
        body[:2] == b"[["
        and body[-2:] == b"]]"
        and not any(c in body for c in (b"{", b"\n", b" ", b"n", b"N", b"\\"))
    )
    if not plain:
        rows = json.loads(body)
        if not isinstance(rows, list):
            raise ValueError(f"klines answered with {type(rows).__name__}, not a list")
        return parse_klines(rows)
    text = body[2:-2].translate(None, b'"').replace(b"],[", b"\n")
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text),
            read_options=_CSV_READ,
            parse_options=_CSV_PARSE,
            convert_options=_CSV_CONVERT,
        )
    except pa.ArrowInvalid as exc:
        raise ValueError(
            f"a kline row without the twelve Binance fields or of the wrong kind ({exc})"
        ) from None
    if table.num_rows != body.count(b"],[") + 1:
        raise ValueError("a kline body whose rows do not add up")
    data: dict[str, Any] = {}
    for i, name in _FLOAT_FIELDS:
        data[name] = table.column(f"f{i}").to_numpy()
    for i, name in _INT_FIELDS.items():
        values = table.column(f"f{i}").to_numpy()
        data[name] = values if name == "number_of_trades" else _utc_ms(values)
    return pd.DataFrame({c: data[c] for c in COLUMNS})
