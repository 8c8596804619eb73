"""Candle storage: one Parquet file per coin and interval, written atomically.

``{home}/data/raw/{SYMBOL}-{interval}.parquet`` holds the twelve Binance kline fields we keep
(``COLUMNS``), sorted by ``open_time`` with no duplicates. That is Binance's place; another
exchange's candles go to ``{home}/data/raw/{exchange}/{SYMBOL}-{interval}.parquet`` (every
function takes ``exchange=``, default ``"binance"``), so files written before exchanges had names
stay where they are. Every function takes the home's folders as ``paths=``
(:class:`core.config.Paths`, the edge's ``context.paths``: the CLI's ``args.context``, the
dashboard's ``ui.context.context()``); left out (a notebook's ``load_candles("BTCUSDT", "1h")``),
they are those of the home :meth:`core.context.Context.from_env` names, resolved once in the
public function called, as ``ModelRegistry()`` and ``BinanceClient()`` do. Missing candles
(exchange halts) are reported by :func:`find_gaps`, never filled with invented candles. A file
that cannot be read is moved to ``{home}/data/quarantine/`` and reported as
:class:`CorruptDataError`, so a new fetch can write a fresh one.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.atomic import atomic_write
from core.config import Interval, Paths
from core.context import Context
from core.data.coins import parse_coin
from core.errors import ConfigError, CorruptDataError, CryptoVoltError, NoDataError
from core.locks import acquire_lock

__all__ = [
    "COLUMNS",
    "FLOAT_COLUMNS",
    "Coverage",
    "FileLock",
    "candle_mtime_ns",
    "candle_path",
    "coverage",
    "drop_open_candles",
    "empty_candles",
    "export_csv",
    "find_gaps",
    "list_stored",
    "load_candles",
    "merge_candles",
    "normalize_candles",
    "save_candles",
    "stored_fingerprint",
]


class FileLock:
    """An exclusive lock on one candle file (beside it, ``.{name}.lock``): a fetch, an import
    or a conflict's resolution of a coin holds it while it reads and writes, so two processes
    never write the same candles at once."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(f".{path.name}.lock")

    def __enter__(self) -> FileLock:
        self._held = acquire_lock(self.path)
        return self

    def __exit__(self, *exc: object) -> None:
        self._held.release()


COLUMNS: tuple[str, ...] = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_asset_volume",
    "number_of_trades",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
)
FLOAT_COLUMNS: tuple[str, ...] = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_asset_volume",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
)
TIME_DTYPE = "datetime64[ms, UTC]"
#: The exchange whose files live directly in ``data/raw/`` (where every file was before).
DEFAULT_EXCHANGE = "binance"
_EXCHANGE_NAME = re.compile(r"[a-z][a-z0-9]{0,31}")


def _paths(paths: Paths | None) -> Paths:
    """``paths``, else the folders of the home the environment names (a notebook's call)."""
    return paths if paths is not None else Context.from_env().paths


def _exchange_dir(exchange: str, paths: Paths) -> Path:
    if not _EXCHANGE_NAME.fullmatch(exchange or ""):
        raise ConfigError(f"{exchange!r} is not an exchange name (lower-case letters and digits).")
    return paths.raw if exchange == DEFAULT_EXCHANGE else paths.raw / exchange


def candle_path(
    symbol: str,
    interval: str | Interval = "1h",
    *,
    exchange: str = DEFAULT_EXCHANGE,
    paths: Paths | None = None,
) -> Path:
    """``{home}/data/raw/{SYMBOL}-{interval}.parquet`` for Binance, ``{home}/data/raw/{exchange}/
    {SYMBOL}-{interval}.parquet`` for any other exchange; symbol and exchange are validated first.

    Raises:
        InvalidSymbolError: not a symbol. ConfigError: not an exchange name.
    """
    coin = parse_coin(symbol)
    folder = _exchange_dir(exchange, _paths(paths))
    return folder / f"{coin.symbol}-{Interval.parse(interval).value}.parquet"


def candle_mtime_ns(
    symbol: str,
    interval: str | Interval = "1h",
    *,
    exchange: str = DEFAULT_EXCHANGE,
    paths: Paths | None = None,
) -> int:
    """The candle file's ``st_mtime_ns``, 0 when there is none: a cache key that changes
    whenever the file is rewritten (every save replaces it)."""
    try:
        return candle_path(symbol, interval, exchange=exchange, paths=paths).stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def empty_candles() -> pd.DataFrame:
    """A zero-row frame with the store's columns and dtypes."""
    return normalize_candles(pd.DataFrame({c: [] for c in COLUMNS}))


def _to_utc(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        out = pd.to_datetime(values.astype("int64"), unit="ms", utc=True)
    else:
        out = pd.to_datetime(values, utc=True)
    return out.astype(TIME_DTYPE)


def normalize_candles(frame: pd.DataFrame) -> pd.DataFrame:
    """Coerce a candle frame to the store's schema: exact columns and dtypes, sorted, deduped.

    Times may come as epoch milliseconds, ISO strings or datetimes. Later rows win on duplicate
    ``open_time`` (a re-fetched candle replaces the stored one).
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise CorruptDataError(f"candle data lacks the columns {', '.join(missing)}.")
    out = pd.DataFrame(
        {
            "open_time": _to_utc(frame["open_time"]),
            **{c: frame[c].astype("float64") for c in ("open", "high", "low", "close", "volume")},
            "close_time": _to_utc(frame["close_time"]),
            "quote_asset_volume": frame["quote_asset_volume"].astype("float64"),
            "number_of_trades": frame["number_of_trades"].astype("int64"),
            "taker_buy_base_volume": frame["taker_buy_base_volume"].astype("float64"),
            "taker_buy_quote_volume": frame["taker_buy_quote_volume"].astype("float64"),
        }
    )
    out = out.drop_duplicates("open_time", keep="last").sort_values("open_time")
    return out.reset_index(drop=True)


def merge_candles(existing: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Union of two candle frames, deduped by ``open_time`` (``new`` wins), sorted."""
    if existing.empty:
        return normalize_candles(new)
    if new.empty:
        return normalize_candles(existing)
    return normalize_candles(pd.concat([existing, new], ignore_index=True))


def drop_open_candles(frame: pd.DataFrame, now: datetime | None = None) -> pd.DataFrame:
    """Drop every candle that has not closed yet (``close_time >= now``)."""
    now_ts = pd.Timestamp(now or datetime.now(UTC))
    if now_ts.tzinfo is None:
        now_ts = now_ts.tz_localize("UTC")
    return frame.loc[frame["close_time"] < now_ts].reset_index(drop=True)


def _quarantine(path: Path, reason: str, paths: Paths) -> Path:
    target_dir = paths.quarantine
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), target)
    (target.with_suffix(target.suffix + ".reason.txt")).write_text(reason + "\n")
    return target


def load_candles(
    symbol: str,
    interval: str | Interval = "1h",
    *,
    exchange: str = DEFAULT_EXCHANGE,
    paths: Paths | None = None,
) -> pd.DataFrame:
    """The stored candles of one coin and interval, in the store's schema.

    Raises:
        NoDataError: nothing stored yet; the message says how to fetch it.
        CorruptDataError: the file could not be read or has the wrong columns; it has been moved
            to ``data/quarantine/`` and the message says so.
    """
    paths = _paths(paths)
    path = candle_path(symbol, interval, exchange=exchange, paths=paths)
    coin = parse_coin(symbol)
    if not path.exists():
        raise NoDataError(
            f"No {Interval.parse(interval).value} candles for {coin.symbol} in {path.parent}. "
            f"Fetch them first: the Data page, or `python -m core fetch --coins {coin.base}`."
        )
    try:
        table = pq.read_table(path)
        frame = table.to_pandas()
        if list(frame.columns) != list(COLUMNS):
            raise ValueError(f"unexpected columns {list(frame.columns)}")
        frame = normalize_candles(frame)
    except Exception as exc:  # any unreadable file is reported the same way
        moved = _quarantine(path, f"{type(exc).__name__}: {exc}", paths)
        raise CorruptDataError(
            f"The candle file for {coin.symbol} ({path.name}) is damaged ({exc}). It was moved to "
            f"{moved} and can be fetched again."
        ) from exc
    return frame


def save_candles(
    frame: pd.DataFrame,
    symbol: str,
    interval: str | Interval = "1h",
    *,
    exchange: str = DEFAULT_EXCHANGE,
    paths: Paths | None = None,
) -> Path:
    """Write candles atomically (temp file + ``os.replace``); returns the file's path."""
    path = candle_path(symbol, interval, exchange=exchange, paths=paths)
    table = pa.Table.from_pandas(normalize_candles(frame), preserve_index=False)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    return path


def find_gaps(frame: pd.DataFrame, interval: str | Interval = "1h") -> pd.DataFrame:
    """Runs of missing candles between the first and last stored one.

    Returns a frame with ``after`` (last candle before the gap), ``before`` (first candle after)
    and ``missing`` (how many candles are absent), one row per gap.
    """
    step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    times = frame["open_time"]
    diffs = times.diff()
    idx = np.flatnonzero(diffs.to_numpy() > step.to_timedelta64())
    return pd.DataFrame(
        {
            "after": times.iloc[idx - 1].to_numpy(),
            "before": times.iloc[idx].to_numpy(),
            "missing": ((diffs.iloc[idx] / step).astype("int64") - 1).to_numpy(),
        }
    )


@dataclass(frozen=True)
class Coverage:
    """What is stored for one coin and interval."""

    symbol: str
    interval: str
    rows: int = 0
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    missing: int = 0
    gaps: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)
    size_bytes: int = 0
    error: str = ""


def coverage(
    symbol: str,
    interval: str | Interval = "1h",
    *,
    exchange: str = DEFAULT_EXCHANGE,
    frame: pd.DataFrame | None = None,
    paths: Paths | None = None,
) -> Coverage:
    """Rows, first and last candle, missing candles and gaps, and size on disk for one file.

    ``frame``: the file's candles when the caller just saved them (the fetch), so the file is
    not read again. Never raises for data problems: a missing file gives ``rows=0``, a damaged
    one ``error``.
    """
    paths = _paths(paths)
    coin = parse_coin(symbol)
    interval = Interval.parse(interval).value
    path = candle_path(coin.symbol, interval, exchange=exchange, paths=paths)
    if frame is None and path.exists():
        frame = _open_times(path)  # None when the file needs the full load's checks
    if frame is not None and not frame.empty and path.exists():
        gaps = find_gaps(frame, interval)
        return Coverage(
            symbol=coin.symbol,
            interval=interval,
            rows=len(frame),
            first=frame["open_time"].iloc[0],
            last=frame["open_time"].iloc[-1],
            missing=int(gaps["missing"].sum()) if len(gaps) else 0,
            gaps=gaps,
            size_bytes=path.stat().st_size,
        )
    try:
        frame = load_candles(coin.symbol, interval, exchange=exchange, paths=paths)
    except NoDataError:
        return Coverage(coin.symbol, interval)
    except CorruptDataError as exc:
        return Coverage(coin.symbol, interval, error=str(exc))
    gaps = find_gaps(frame, interval)
    return Coverage(
        symbol=coin.symbol,
        interval=interval,
        rows=len(frame),
        first=frame["open_time"].iloc[0] if len(frame) else None,
        last=frame["open_time"].iloc[-1] if len(frame) else None,
        missing=int(gaps["missing"].sum()) if len(gaps) else 0,
        gaps=gaps,
        size_bytes=path.stat().st_size,
    )


def _open_times(path: Path) -> pd.DataFrame | None:
    """Only the ``open_time`` column of a well-formed candle file (all a coverage needs: a tenth
    of a full load), or None when the file is not one (wrong columns, unsorted, unreadable), so
    the full load reports and quarantines it."""
    try:
        parquet = pq.ParquetFile(path)
        if parquet.schema_arrow.names != list(COLUMNS):
            return None
        times = parquet.read(columns=["open_time"]).column(0).to_pandas()
        times = times.astype(TIME_DTYPE)
    except Exception:  # any problem: the full load says what it is
        return None
    if not (times.is_monotonic_increasing and times.is_unique):
        return None
    return pd.DataFrame({"open_time": times})


def list_stored(
    *, exchange: str = DEFAULT_EXCHANGE, paths: Paths | None = None
) -> list[tuple[str, str]]:
    """``(symbol, interval)`` for every candle file of ``exchange`` under the home folder, sorted."""
    folder = _exchange_dir(exchange, _paths(paths))
    if not folder.exists():
        return []
    found = []
    for path in sorted(folder.glob("*-*.parquet")):
        symbol, _, interval = path.stem.partition("-")
        found.append((symbol, interval))
    return found


def stored_fingerprint(
    *, exchange: str = DEFAULT_EXCHANGE, paths: Paths | None = None
) -> tuple[tuple[str, str, int], ...]:
    """``(symbol, interval, mtime_ns)`` for every stored candle file: a cache key that changes
    whenever a file is added, removed or rewritten."""
    paths = _paths(paths)
    keys = []
    for symbol, interval in list_stored(exchange=exchange, paths=paths):
        with contextlib.suppress(CryptoVoltError):  # a stray file name that is not a symbol
            mtime = candle_mtime_ns(symbol, interval, exchange=exchange, paths=paths)
            if mtime:
                keys.append((symbol, interval, mtime))
    return tuple(keys)


def export_csv(
    symbol: str,
    interval: str | Interval = "1h",
    *,
    exchange: str = DEFAULT_EXCHANGE,
    paths: Paths | None = None,
) -> bytes:
    """The stored candles as CSV bytes (ISO UTC times), for downloads and ``core export``."""
    frame = load_candles(symbol, interval, exchange=exchange, paths=paths)
    return bytes(frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ").encode("utf-8"))
