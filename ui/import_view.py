"""Data page, Import: a drop zone for candle files the user already has.

Binance's kline archives (``BTCUSDT-1h-2024-01.zip``, monthly or daily, with or without the
``.CHECKSUM`` beside them) and plain CSV with a header go through the same importer as
``python -m core import`` (:mod:`core.data.importer`): a checksum dropped with its file is
verified (a mismatch stores nothing of that file), candles that disagree with the stored ones are
held back as a fetch's are (the coverage table shows the conflict and its choices), gaps are
reported, never filled, and each file's candles are written atomically. One result per file.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.config import Interval
from core.data.importer import ImportResult, import_file, name_parts
from core.errors import CryptoVoltError
from ui import state
from ui.context import context
from ui.text import plain

__all__ = ["FileOutcome", "import_uploads", "render_import"]

#: What the drop zone takes (the checksum files end in ``.CHECKSUM``).
TYPES = ["zip", "csv", "checksum"]
_SIDECAR = ".checksum"


@dataclass(frozen=True)
class FileOutcome:
    """One dropped file's result: ``status`` stored | refused | conflict, and the sentence."""

    name: str
    status: str
    sentence: str


def _sentence(name: str, r: ImportResult) -> str:
    if r.status != "stored":
        return f"{name}: {r.reason}"
    checked = {"verified": "sha256 verified", "none": "no .CHECKSUM dropped with it"}[r.checksum]
    missing = sum(int(str(g["missing"])) for g in r.gaps)
    gaps = f"; {len(r.gaps)} gap(s), {missing:,} candle(s) missing (not filled)" if r.gaps else ""
    return (
        f"{name}: {r.symbol} {r.interval}, {r.rows:,} candles from {r.first} to {r.last}; "
        f"{r.new_rows:,} new stored ({checked}){gaps}."
    )


def import_uploads(
    files: list[tuple[str, bytes]], *, coin: str | None = None, interval: str | None = None
) -> list[FileOutcome]:
    """Import dropped ``(name, content)`` files; one outcome per candle file, in the order given.

    The files are written to a private temporary folder under their own names (so a
    ``.CHECKSUM`` lands beside its file), then each candle file goes through
    :func:`core.data.importer.import_file`; ``coin`` / ``interval`` apply only to files whose
    name does not say them (a Binance archive's name always wins). A checksum without its file
    is reported as refused. Raises nothing for one file.
    """
    outcomes: list[FileOutcome] = []
    with tempfile.TemporaryDirectory(prefix="cryptovolt-import-") as scratch:
        folder = Path(scratch)
        names = []
        for raw_name, content in files:
            name = Path(raw_name.replace("\\", "/")).name  # a name, never a path
            if not name or name in (".", ".."):
                continue
            (folder / name).write_bytes(content)
            if name not in names:
                names.append(name)
        data = [n for n in names if not n.lower().endswith(_SIDECAR)]
        for name in names:
            if name.lower().endswith(_SIDECAR) and name[: -len(_SIDECAR)] not in data:
                outcomes.append(
                    FileOutcome(
                        name,
                        "refused",
                        f"{name}: a checksum without its file ({name[: -len(_SIDECAR)]}): drop "
                        "both together.",
                    )
                )
        for name in data:
            named = name_parts(folder / name) is not None
            if not named and not (coin and interval):
                said = (
                    f"{name}: the name does not say the coin and interval (Binance's look like "
                    "BTCUSDT-1h-2024-01.zip): fill in Coin and Interval above and drop it again."
                )
                outcomes.append(FileOutcome(name, "refused", said))
                continue
            # the fields are for files named otherwise: a Binance name always says its own
            given = {} if named else {"symbol": coin or None, "interval": interval or None}
            try:
                result = import_file(folder / name, paths=context().paths, **given)
            except CryptoVoltError as exc:  # a name that says no coin, an unknown coin
                outcomes.append(FileOutcome(name, "refused", f"{name}: {exc}"))
                continue
            outcomes.append(FileOutcome(name, result.status, _sentence(name, result)))
    return outcomes


def render_import() -> None:
    """The drop zone, the coin / interval for files named otherwise, the Import button and the
    last import's result per file."""
    with st.expander("Import candle files you have (Binance archives or CSV)", expanded=False):
        st.caption(
            "Drop Binance's kline archives (BTCUSDT-1h-2024-01.zip, monthly or daily, from "
            "data.binance.vision) with their .CHECKSUM files to have them verified, or a CSV "
            "with a header (open_time or timestamp, open, high, low, close, volume). Candles that "
            "disagree with the stored ones are held back, as a fetch's are; gaps are listed, "
            "never filled. The same as `python -m core import`."
        )
        round_ = int(st.session_state.get(state.IMPORT_ROUND, 0))
        dropped = st.file_uploader(
            "Candle files",
            type=TYPES,
            accept_multiple_files=True,
            key=f"{state.IMPORT_FILES}_{round_}",
        )
        left, right = st.columns(2)
        coin = left.text_input(
            "Coin, for files whose name does not say it",
            key=state.IMPORT_COIN,
            placeholder="e.g. BTC",
        )
        interval = right.selectbox(
            "Interval, for files whose name does not say it",
            [""] + [i.value for i in Interval],
            key=state.IMPORT_INTERVAL,
            format_func=lambda v: v or "from the file name",
        )
        count = len(dropped or [])
        if st.button(
            f"Import {count} file{'s' if count != 1 else ''}",
            icon=":material/upload_file:",
            disabled=not count,
            key=state.IMPORT_BUTTON,
        ):
            files = [(f.name, f.getvalue()) for f in dropped or []]
            with st.spinner("Importing…"):
                outcomes = import_uploads(files, coin=coin.strip() or None, interval=interval)
            st.session_state[state.IMPORT_RESULTS] = [(o.status, o.sentence) for o in outcomes]
            st.session_state[state.IMPORT_ROUND] = round_ + 1  # an empty drop zone again
            st.rerun()
        for status, sentence in st.session_state.get(state.IMPORT_RESULTS, []):
            if status == "stored":
                st.success(plain(sentence), icon=":material/check_circle:")
            elif status == "conflict":
                st.warning(
                    plain(sentence)
                    + " Choose below: replace the stored candles, or discard these.",
                    icon=":material/call_split:",
                )
            else:
                st.error(plain(sentence), icon=":material/block:")
