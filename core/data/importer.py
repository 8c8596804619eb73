"""Candle files a user already has → the store: Binance's archive files and plain CSV.

Binance publishes every kline as monthly and daily archives (``BTCUSDT-1h-2024-01.zip``, a zip
holding one header-less 12-column CSV, with ``BTCUSDT-1h-2024-01.zip.CHECKSUM`` beside it holding
its sha256). Spot archives give times in microseconds from 2025-01-01 on and in milliseconds
before: the unit is detected per file from the size of the numbers. A plain CSV with a header of
the usual names (``open_time``/``timestamp``/``date``, ``open``, ``high``, ``low``, ``close``,
``volume``, and optionally the rest of the kline fields) is read too.

Each file is one unit: its checksum (when the ``.CHECKSUM`` file is there) must match, else
nothing of it is stored; its candles pass the project's one seam check
(:func:`core.data.quarantine.admit`), so candles that disagree with the stored ones are held
back, not merged; the write is atomic (:func:`core.data.store.save_candles`) under the coin's
file lock, as a fetch. Gaps inside a file are reported, never filled.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import Interval, Paths
from core.context import Context
from core.data import quarantine, store
from core.data.coins import parse_coin
from core.errors import CorruptDataError, DataError, NoDataError

__all__ = ["ImportResult", "check_names", "import_file", "read_candle_file"]

_NAME = re.compile(r"^([A-Za-z0-9]+)-(\d+[mhdwM])-\d{4}-\d{2}(?:-\d{2})?$")
_MICROSECONDS = 10**14  # epoch ms stay below this until the year 5138; epoch µs are above it
_ALIASES = {
    "open_time": ("open_time", "open time", "timestamp", "time", "date", "datetime", "opentime"),
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
    "volume": ("volume", "vol"),
    "close_time": ("close_time", "close time", "closetime"),
    "quote_asset_volume": ("quote_asset_volume", "quote asset volume", "quote_volume"),
    "number_of_trades": ("number_of_trades", "number of trades", "count", "trades"),
    "taker_buy_base_volume": (
        "taker_buy_base_volume",
        "taker buy base asset volume",
        "taker_buy_volume",  # Binance's futures archives, which have a header
    ),
    "taker_buy_quote_volume": ("taker_buy_quote_volume", "taker buy quote asset volume"),
}


@dataclass
class ImportResult:
    """One file's outcome: ``stored`` (new candles merged), ``refused`` (bad checksum or an
    unreadable file: nothing stored) or ``conflict`` (held back by the seam check)."""

    path: str
    symbol: str
    interval: str
    status: str
    rows: int = 0
    new_rows: int = 0
    first: str | None = None
    last: str | None = None
    gaps: list[dict[str, object]] = field(default_factory=list)
    reason: str = ""
    checksum: str = "none"  # verified | none (no .CHECKSUM beside the file) | mismatch


def name_parts(path: Path) -> tuple[str, str] | None:
    """``BTCUSDT-1h-2024-01.zip`` → ``("BTCUSDT", "1h")``; None for other names."""
    stem = path.name
    for suffix in (".zip", ".csv"):
        stem = stem.removesuffix(suffix)
    found = _NAME.match(stem)
    return (found.group(1).upper(), found.group(2)) if found else None


def _checksum(path: Path, data: bytes) -> str:
    """``verified`` or ``none``; raises when the ``.CHECKSUM`` beside the file disagrees."""
    sidecar = path.with_name(path.name + ".CHECKSUM")
    if not sidecar.is_file():
        return "none"
    words = sidecar.read_text(errors="replace").split()
    expected = words[0].lower() if words else ""
    actual = hashlib.sha256(data).hexdigest()
    if expected != actual:
        raise DataError(
            f"{path.name}: its sha256 is {actual[:16]}…, but {sidecar.name} says "
            f"{expected[:16] or '(empty)'}…: the file is damaged or not the published one; "
            "download it again. Nothing from it was stored."
        )
    return "verified"


def _csv_bytes(path: Path, data: bytes) -> bytes:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if len(members) != 1:
            raise DataError(f"{path.name}: expected one CSV inside the zip, found {len(members)}.")
        try:
            return archive.read(members[0])
        except (zipfile.BadZipFile, OSError) as exc:  # a CRC error: a damaged archive
            raise DataError(f"{path.name}: the zip is damaged ({exc}); download it again.") from exc


def _epoch(values: pd.Series, name: str) -> pd.Series:
    """Epoch numbers in ms or µs (detected per file) → UTC times."""
    numbers = pd.to_numeric(values, errors="raise").astype("int64")
    micro = numbers >= _MICROSECONDS
    if micro.any() and not micro.all():
        raise DataError(f"{name}: times mix milliseconds and microseconds; fix the file.")
    unit = "us" if micro.all() else "ms"
    return pd.to_datetime(numbers, unit=unit, utc=True).astype(store.TIME_DTYPE)


def read_candle_file(path: Path, interval: str) -> tuple[pd.DataFrame, str]:
    """The candles of one file in the store's schema, and its checksum state.

    Raises:
        DataError: unreadable, a checksum that does not match, or missing columns.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}.") from exc
    checked = _checksum(path, data)
    text = _csv_bytes(path, data)
    first = text.split(b"\n", 1)[0].split(b",", 1)[0].strip()
    try:
        if first.isdigit():  # Binance's archive: header-less, the twelve kline fields
            raw = pd.read_csv(io.BytesIO(text), header=None, dtype=str)
            if raw.shape[1] < 11:
                raise DataError(f"{path.name}: {raw.shape[1]} columns, not Binance's twelve.")
            raw = raw.iloc[:, :11]
            raw.columns = list(store.COLUMNS)
        else:
            raw = pd.read_csv(io.BytesIO(text), dtype=str)
            raw = _rename(raw, path.name)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path.name}: not a candle CSV ({exc}).") from exc
    try:
        frame = _typed(raw, interval, path.name)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{path.name}: a value of the wrong kind ({exc}).") from exc
    return store.normalize_candles(frame), checked


def _rename(raw: pd.DataFrame, name: str) -> pd.DataFrame:
    by_name = {str(c).strip().lower(): c for c in raw.columns}
    out = {}
    for column, aliases in _ALIASES.items():
        found = next((by_name[a] for a in aliases if a in by_name), None)
        if found is not None:
            out[column] = raw[found]
    missing = [c for c in ("open_time", "open", "high", "low", "close", "volume") if c not in out]
    if missing:
        raise DataError(
            f"{name}: no column for {', '.join(missing)} (the header needs open_time or "
            "timestamp, open, high, low, close, volume)."
        )
    return pd.DataFrame(out)


def _typed(raw: pd.DataFrame, interval: str, name: str) -> pd.DataFrame:
    step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    first = str(raw["open_time"].iloc[0]) if len(raw) else "0"
    if first.strip().lstrip("-").isdigit():
        open_time = _epoch(raw["open_time"], name)
    else:
        open_time = pd.to_datetime(raw["open_time"], utc=True).astype(store.TIME_DTYPE)
    if "close_time" in raw and str(raw["close_time"].iloc[0]).strip().isdigit():
        close_time = _epoch(raw["close_time"], name)
    else:
        close_time = (open_time + step - pd.Timedelta(milliseconds=1)).astype(store.TIME_DTYPE)
    frame = pd.DataFrame({"open_time": open_time, "close_time": close_time})
    for column in store.COLUMNS:
        if column in frame:
            continue
        if column in raw:
            frame[column] = pd.to_numeric(raw[column], errors="raise")
        else:  # a plain CSV without the exchange's extra fields: unknown, not zero
            frame[column] = 0 if column == "number_of_trades" else np.nan
    return frame


def check_names(paths: list[Path], *, symbol: str | None, interval: str | None) -> None:
    """Refuse the whole run before any file is read when one file's coin or interval is unknown.

    Raises:
        DataError: a file whose name does not say its coin and interval, without the flags.
    """
    for path in paths:
        if not (symbol and interval) and name_parts(path) is None:
            _unnamed(path)


def _unnamed(path: Path) -> None:
    raise DataError(
        f"{path.name}: cannot tell the coin and interval from the name (Binance's look like "
        "BTCUSDT-1h-2024-01.zip): give --coin and --interval. Nothing was imported."
    )


def import_file(
    path: Path,
    *,
    symbol: str | None = None,
    interval: str | None = None,
    paths: Paths | None = None,
) -> ImportResult:
    """Read one file and store its candles where they fit (see the module's docstring), in the
    home ``paths`` describes (the edge's ``context.paths``; left out, a notebook's call, that of
    the home :meth:`core.context.Context.from_env` names, resolved here once)."""
    paths = paths or Context.from_env().paths

    named = name_parts(path)
    sym = parse_coin(symbol or (named[0] if named else "")).symbol if symbol or named else ""
    ivl = interval or (named[1] if named else "")
    if not sym or not ivl:
        _unnamed(path)
    ivl = Interval.parse(ivl).value
    result = ImportResult(str(path), sym, ivl, "refused")
    try:
        candles, result.checksum = read_candle_file(path, ivl)
    except DataError as exc:
        result.reason = str(exc)
        result.checksum = "mismatch" if "sha256" in str(exc) else result.checksum
        return result
    result.rows = len(candles)
    if candles.empty:
        result.reason = f"{path.name} holds no candles."
        return result
    result.first = candles["open_time"].iloc[0].isoformat()
    result.last = candles["open_time"].iloc[-1].isoformat()
    result.gaps = [
        {"after": row.after.isoformat(), "before": row.before.isoformat(), "missing": row.missing}
        for row in store.find_gaps(candles, ivl).itertuples()
    ]
    with store.FileLock(store.candle_path(sym, ivl, paths=paths)):
        try:
            existing = store.load_candles(sym, ivl, paths=paths)
        except (NoDataError, CorruptDataError):
            existing = store.empty_candles()
        conflict = quarantine.admit(
            existing,
            candles,
            symbol=sym,
            interval=ivl,
            source=f"the file {path.name}",
            paths=paths,
        )
        if conflict is not None:
            result.status, result.reason = "conflict", conflict.sentence()
            return result
        merged = store.merge_candles(candles, existing)  # stored candles win where both agree
        if len(merged) != len(existing):
            store.save_candles(merged, sym, ivl, paths=paths)
    result.status, result.new_rows = "stored", len(merged) - len(existing)
    return result
