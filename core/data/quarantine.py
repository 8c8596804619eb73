"""Candles kept out of the store: new candles that do not fit the stored ones wait here for the
user's choice.

Every writer of candles (the fetch, the top-up of the Signals page / ``watch`` / ``signals
--refresh``, the bundled sample) passes the candles it is about to write through :func:`admit`,
the one seam check (:func:`core.data.seam.find_seams`): new candles that meet the stored ones with
a jump, or disagree with stored candles of the same hours, are not written. They are kept in
``{home}/data/quarantine/conflicts/{SYMBOL}-{interval}.parquet`` with a record beside it
(``.json``: what was found, from which source, when), both written atomically, and the stored
file is left byte for byte as it was. The coin then shows "conflict" on the Data page, its
Signals card and in the CLI until the user chooses (:func:`resolve`): **replace** the stored
series with the held candles (the old file is moved aside to ``data/quarantine/``, not deleted),
or **discard** the held candles. Another exchange's conflicts live in ``conflicts/{exchange}/``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.atomic import atomic_write, atomic_write_json, atomic_write_text
from core.config import Interval, Paths
from core.data import store
from core.data.coins import parse_coin
from core.data.fetch_log import fetch_log
from core.data.seam import find_seams
from core.errors import NoDataError

__all__ = [
    "Conflict",
    "admit",
    "conflicts",
    "held_candles",
    "held_path",
    "hold",
    "pending",
    "replace_series",
    "resolve",
    "resolve_hint",
]


def _folder(exchange: str, paths: Paths) -> Path:
    root = paths.quarantine / "conflicts"
    return root if exchange == store.DEFAULT_EXCHANGE else root / exchange


def held_path(
    symbol: str,
    interval: str | Interval = "1h",
    *,
    exchange: str = store.DEFAULT_EXCHANGE,
    paths: Paths,
) -> Path:
    """Where the held candles of a coin and interval are kept under the home ``paths`` describes
    (the record is the ``.json`` beside it)."""
    name = store.candle_path(symbol, interval, exchange=exchange, paths=paths).name
    return _folder(exchange, paths) / name


def _record_path(path: Path) -> Path:
    return path.with_suffix(".json")


def resolve_hint(symbol: str, interval: str = "1h") -> str:
    """How to resolve a coin's conflict, in words (the Data page's buttons and the CLI)."""
    coin = parse_coin(symbol)
    flag = "" if interval == "1h" else f" --interval {interval}"
    return (
        "Choose on the Data page (Replace with the new candles / Discard the new candles) or "
        f"with `python -m core data resolve --coin {coin.base}{flag} --replace` (the stored "
        "series is moved aside and the new candles take its place) or `--discard`."
    )


@dataclass(frozen=True)
class Conflict:
    """New candles of one coin that were kept out of the store, and why.

    ``reason`` is the seam check's sentences; ``source`` where the new candles came from (a base
    URL, "the bundled sample"); ``rows``, ``first`` and ``last`` describe the held candles and
    ``stored_rows``, ``stored_first``, ``stored_last`` the stored ones they did not fit (ISO UTC
    times); ``found_at`` when it was last found.
    """

    symbol: str
    interval: str
    exchange: str
    source: str
    reason: str
    rows: int
    first: str
    last: str
    stored_rows: int
    stored_first: str
    stored_last: str
    found_at: str

    def what(self) -> str:
        """What happened, without what to do (a page puts its own buttons beside it)."""
        return (
            f"{self.symbol} {self.interval}: {self.rows:,} new candle(s) from {self.source} "
            f"({_short(self.first)} to {_short(self.last)} UTC) were not stored and are held in "
            f"quarantine. {self.reason} The stored candles ({self.stored_rows:,}, "
            f"{_short(self.stored_first)} to {_short(self.stored_last)} UTC) are unchanged."
        )

    def sentence(self) -> str:
        """What happened and what to do, for the CLI and the logs."""
        return f"{self.what()} {resolve_hint(self.symbol, self.interval)}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conflict:
        values: dict[str, Any] = {
            k: (int(data[k]) if k.endswith("rows") else str(data[k]))
            for k in cls.__dataclass_fields__
        }
        return cls(**values)


def _short(iso: str) -> str:
    return iso[:16].replace("T", " ")


def _iso(ts: object) -> str:
    return str(pd.Timestamp(ts).strftime("%Y-%m-%dT%H:%M:%SZ"))


def held_candles(
    symbol: str,
    interval: str | Interval = "1h",
    *,
    exchange: str = store.DEFAULT_EXCHANGE,
    paths: Paths,
) -> pd.DataFrame:
    """The held candles of a coin (empty when none are held)."""
    path = held_path(symbol, interval, exchange=exchange, paths=paths)
    if not path.exists() or not _record_path(path).exists():
        return store.empty_candles()
    return store.normalize_candles(pq.read_table(path).to_pandas())


def pending(
    symbol: str,
    interval: str | Interval = "1h",
    *,
    exchange: str = store.DEFAULT_EXCHANGE,
    paths: Paths,
) -> Conflict | None:
    """The coin's unresolved conflict, or None. A damaged record reads as no conflict (the held
    candles stay on disk)."""
    try:
        path = _record_path(held_path(symbol, interval, exchange=exchange, paths=paths))
    except Exception:  # a stray file name that is not a symbol
        return None
    if not path.exists():
        return None
    try:
        return Conflict.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def conflicts(*, exchange: str = store.DEFAULT_EXCHANGE, paths: Paths) -> list[Conflict]:
    """Every unresolved conflict of ``exchange`` under the home ``paths`` describes, by symbol
    and interval."""
    folder = _folder(exchange, paths)
    found = []
    for path in sorted(folder.glob("*-*.json")) if folder.exists() else []:
        symbol, _, interval = path.stem.partition("-")
        with contextlib.suppress(Exception):
            conflict = pending(symbol, interval, exchange=exchange, paths=paths)
            if conflict is not None:
                found.append(conflict)
    return found


def hold(
    new: pd.DataFrame,
    stored: pd.DataFrame,
    *,
    symbol: str,
    interval: str,
    exchange: str,
    source: str,
    reason: str,
    paths: Paths,
) -> Conflict:
    """Keep ``new`` aside (merged with candles already held for the coin; the newer win) and
    record why; the store is not touched. Candles first, then the record, each atomically, so a
    record always has its candles."""
    path = held_path(symbol, interval, exchange=exchange, paths=paths)
    held = store.merge_candles(held_candles(symbol, interval, exchange=exchange, paths=paths), new)
    table = pa.Table.from_pandas(held, preserve_index=False)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    conflict = Conflict(
        symbol=symbol,
        interval=interval,
        exchange=exchange,
        source=source,
        reason=reason,
        rows=len(held),
        first=_iso(held["open_time"].iloc[0]),
        last=_iso(held["open_time"].iloc[-1]),
        stored_rows=len(stored),
        stored_first=_iso(stored["open_time"].iloc[0]) if len(stored) else "",
        stored_last=_iso(stored["open_time"].iloc[-1]) if len(stored) else "",
        found_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    atomic_write_json(_record_path(path), asdict(conflict))
    fetch_log(paths.logs).warning("%s", conflict.sentence())
    return conflict


def admit(
    stored: pd.DataFrame,
    new: pd.DataFrame,
    *,
    symbol: str,
    interval: str | Interval,
    exchange: str = store.DEFAULT_EXCHANGE,
    source: str,
    paths: Paths,
) -> Conflict | None:
    """The seam check every writer of candles calls before it writes ``new`` next to ``stored``.

    Returns None when the new candles fit (the caller writes them); otherwise they are held
    (:func:`hold`) and the :class:`Conflict` is returned: the caller must not write them.
    """
    interval = Interval.parse(interval).value
    seams = find_seams(stored, new, symbol=symbol, interval=interval)
    if not seams:
        return None
    reason = " ".join(s.sentence() for s in seams)
    return hold(
        new,
        stored,
        symbol=symbol,
        interval=interval,
        exchange=exchange,
        source=source,
        reason=reason,
        paths=paths,
    )


def _copy(source: Path, tmp: Path) -> None:
    shutil.copyfile(source, tmp)


def replace_series(
    new: pd.DataFrame,
    symbol: str,
    interval: str,
    *,
    exchange: str = store.DEFAULT_EXCHANGE,
    why: str,
    paths: Paths,
) -> str:
    """Make ``new`` the stored series of the coin, with no seam check (the user chose it): the
    old file is first copied to ``data/quarantine/{stem}.replaced.{stamp}.parquet`` with ``why``
    beside it, so nothing is lost. The caller holds the coin's file lock. Returns a sentence
    naming where the old series went ("" when there was none)."""
    target = store.candle_path(symbol, interval, exchange=exchange, paths=paths)
    moved = ""
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = paths.quarantine / f"{target.stem}.replaced.{stamp}.parquet"
        aside.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(aside, lambda tmp: _copy(target, tmp))
        atomic_write_text(aside.with_name(aside.name + ".reason.txt"), why + "\n")
        moved = f"The old series was moved to {aside}. "
    store.save_candles(new, symbol, interval, exchange=exchange, paths=paths)
    return moved


def _drop(path: Path) -> None:
    _record_path(path).unlink(missing_ok=True)  # the record first: no record, no conflict
    path.unlink(missing_ok=True)


def resolve(
    symbol: str,
    interval: str | Interval = "1h",
    *,
    replace: bool,
    exchange: str = store.DEFAULT_EXCHANGE,
    paths: Paths,
) -> str:
    """The user's choice for a coin in conflict; returns what was done, in words.

    ``replace``: the held candles become the stored series (the old file is moved to
    ``data/quarantine/`` with a note, not deleted); else the held candles are discarded and the
    stored series stays as it is.

    Raises:
        NoDataError: the coin has no conflict to resolve.
    """
    coin = parse_coin(symbol)
    interval = Interval.parse(interval).value
    path = held_path(coin.symbol, interval, exchange=exchange, paths=paths)
    target = store.candle_path(coin.symbol, interval, exchange=exchange, paths=paths)
    with store.FileLock(target):  # not while a fetch of the coin writes
        conflict = pending(coin.symbol, interval, exchange=exchange, paths=paths)
        if conflict is None:
            raise NoDataError(
                f"{coin.symbol} {interval} has no conflict to resolve: its stored candles are "
                "all there is (`python -m core data conflicts` lists the coins that have one)."
            )
        if not replace:
            _drop(path)
            fetch_log(paths.logs).info(
                "%s %s: discarded %d held candles", coin.symbol, interval, conflict.rows
            )
            return (
                f"Discarded the {conflict.rows:,} held candle(s) of {coin.symbol} {interval}; the "
                f"stored candles ({conflict.stored_rows:,}) stay as they were."
            )
        held = held_candles(coin.symbol, interval, exchange=exchange, paths=paths)
        moved = replace_series(
            held,
            coin.symbol,
            interval,
            exchange=exchange,
            why=f"replaced by {conflict.rows} candles from {conflict.source}: {conflict.reason}",
            paths=paths,
        )
        _drop(path)
    fetch_log(paths.logs).info(
        "%s %s: replaced by %d held candles", coin.symbol, interval, len(held)
    )
    return (
        f"{coin.symbol} {interval} now holds the {len(held):,} candle(s) from {conflict.source} "
        f"({_short(conflict.first)} to {_short(conflict.last)} UTC). {moved}A fetch fills the "
        "rest of the range from the source you fetch from."
    )
