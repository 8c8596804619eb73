"""The seam check: do newly fetched candles join the stored ones, or is there a jump?

On Binance a candle opens where the one before it closed (trading never stops between them), so
across an hour the open of the next candle and the close of the last differ by a fraction of a
percent. When a top-up's first new open lies far from the last stored close (default: more than
20%), the two runs most likely come from different sources (another base URL, an exchange that
lists another asset under the same symbol, a hand-copied file) or the stored series is broken;
charting them as one series would draw a fake 10x move and teach models a jump that never
happened. :func:`find_seams` compares the candles stored before a fetch with those after it, at
both ends (the tail that was appended and the head that was prepended), and :func:`seam_report`
turns what it finds into the sentences the fetch result, the Data page and ``core fetch`` show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from core.data.fetch_log import fetch_log

__all__ = ["SEAM_JUMP", "Seam", "find_seams", "seam_report"]

#: Relative price change across a seam above which it is reported (0.20 = 20%).
SEAM_JUMP = 0.20


@dataclass(frozen=True)
class Seam:
    """A jump where new candles meet stored ones.

    ``side`` is ``"tail"`` (new candles after the stored ones: the last stored close against the
    first new open) or ``"head"`` (new candles before them: the last new close against the first
    stored open). ``stored_*`` and ``new_*`` are the two candles' open times and prices.
    """

    symbol: str
    interval: str
    side: Literal["tail", "head"]
    stored_time: pd.Timestamp
    stored_price: float
    new_time: pd.Timestamp
    new_price: float

    @property
    def change(self) -> float:
        """Relative change from the stored price to the new one (9.0 = ten times as high)."""
        return self.new_price / self.stored_price - 1.0

    def sentence(self) -> str:
        """What was found and what to do, in one sentence."""
        fmt = "%Y-%m-%d %H:%M"
        if self.side == "tail":
            where = (
                f"the first new candle ({self.new_time:{fmt}} UTC) opens at "
                f"{self.new_price:,.6g}, {self.change:+.0%} from the last stored close "
                f"({self.stored_price:,.6g} at {self.stored_time:{fmt}} UTC)"
            )
        else:
            where = (
                f"the last new candle before the stored ones ({self.new_time:{fmt}} UTC) closes "
                f"at {self.new_price:,.6g}, {self.change:+.0%} from the first stored open "
                f"({self.stored_price:,.6g} at {self.stored_time:{fmt}} UTC)"
            )
        return (
            f"Price jump at the seam of {self.symbol} {self.interval}: {where}, far more than a "
            "candle normally moves, so the new and the stored candles probably come from "
            "different sources or the series is broken; check the base URL, and if the new "
            f"source is right, delete data/raw/{self.symbol}-{self.interval}.parquet and fetch "
            "again."
        )


def _valid(price: float) -> bool:
    return bool(pd.notna(price)) and price > 0


def find_seams(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    symbol: str,
    interval: str,
    threshold: float = SEAM_JUMP,
) -> list[Seam]:
    """Jumps larger than ``threshold`` where the candles of ``after`` that ``before`` lacked meet
    the candles ``before`` had (both frames in the store's schema, sorted by ``open_time``).

    Returns at most one :class:`Seam` per side; none when ``before`` or the new part is empty.
    """
    if before.empty or after.empty or threshold <= 0:
        return []
    first, last = before["open_time"].iloc[0], before["open_time"].iloc[-1]
    seams = []
    tail = after.loc[after["open_time"] > last]
    if len(tail):
        stored = before.iloc[-1]
        new = tail.iloc[0]
        seam = Seam(
            symbol,
            interval,
            "tail",
            last,
            float(stored["close"]),
            new["open_time"],
            float(new["open"]),
        )
        if _valid(seam.stored_price) and _valid(seam.new_price) and abs(seam.change) > threshold:
            seams.append(seam)
    head = after.loc[after["open_time"] < first]
    if len(head):
        stored = before.iloc[0]
        new = head.iloc[-1]
        seam = Seam(
            symbol,
            interval,
            "head",
            first,
            float(stored["open"]),
            new["open_time"],
            float(new["close"]),
        )
        if _valid(seam.stored_price) and _valid(seam.new_price) and abs(seam.change) > threshold:
            seams.append(seam)
    return seams


def seam_report(before: pd.DataFrame, after: pd.DataFrame, *, symbol: str, interval: str) -> str:
    """The seams between ``before`` and ``after`` as sentences ("" when the runs join), each
    also written to the fetch log as a warning."""
    sentences = [s.sentence() for s in find_seams(before, after, symbol=symbol, interval=interval)]
    for sentence in sentences:
        fetch_log().warning("%s", sentence)
    return " ".join(sentences)
