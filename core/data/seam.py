"""The seam check: do new candles join the stored ones, or is there a jump?

On Binance a candle opens where the one before it closed (trading never stops between them), so
across an hour the open of the next candle and the close of the last differ by a fraction of a
percent, and the same candle asked for twice is the same candle. When new candles meet the stored
ones with a jump (default: more than 20%) or disagree with stored candles of the same hours (by
more than 0.5%), the two runs most likely come from different sources (another base URL or
mirror, Binance's testnet, an exchange that lists another asset under the same symbol, a
hand-copied file) or the stored series is broken; charting them as one series would draw a fake
move and teach models a jump that never happened.

:func:`find_seams` is the check; :func:`core.data.quarantine.admit` is the one place every writer
of candles (fetch, the top-up of Signals / watch / ``signals --refresh``, the bundled sample)
calls it, and it keeps candles that fail it out of the store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from core.config import Interval

__all__ = ["OVERLAP_TOLERANCE", "SEAM_JUMP", "Seam", "find_seams"]

#: Relative price change across a seam above which it is a conflict (0.20 = 20%).
SEAM_JUMP = 0.20
#: Relative difference between two copies of the same candle's close (or open) above which they
#: disagree. The same source gives the same candle; 0.5% leaves room for rounding, not for a
#: different price series.
OVERLAP_TOLERANCE = 0.005


@dataclass(frozen=True)
class Seam:
    """Where new candles do not fit the stored ones.

    ``side`` is ``"tail"`` (new candles after the stored ones: the last stored close against the
    first new open), ``"head"`` (new candles before them: the last new close against the first
    stored open) or ``"overlap"`` (new candles for hours already stored: the stored close against
    the new close of the candle that differs most; ``count`` of them differ).
    """

    symbol: str
    interval: str
    side: Literal["tail", "head", "overlap"]
    stored_time: pd.Timestamp
    stored_price: float
    new_time: pd.Timestamp
    new_price: float
    count: int = 1

    @property
    def change(self) -> float:
        """Relative change from the stored price to the new one (9.0 = ten times as high)."""
        return self.new_price / self.stored_price - 1.0

    def sentence(self) -> str:
        """What was found, in one sentence (what to do is the caller's: it knows the choices)."""
        fmt = "%Y-%m-%d %H:%M"
        if self.side == "tail":
            where = (
                f"the first new candle ({self.new_time:{fmt}} UTC) opens at "
                f"{self.new_price:,.6g}, {self.change:+.0%} from the last stored close "
                f"({self.stored_price:,.6g} at {self.stored_time:{fmt}} UTC)"
            )
        elif self.side == "head":
            where = (
                f"the last new candle before the stored ones ({self.new_time:{fmt}} UTC) closes "
                f"at {self.new_price:,.6g}, {self.change:+.0%} from the first stored open "
                f"({self.stored_price:,.6g} at {self.stored_time:{fmt}} UTC)"
            )
        else:
            where = (
                f"{self.count:,} new candle(s) for hours already stored disagree with them, "
                f"most at {self.new_time:{fmt}} UTC: close {self.new_price:,.6g} against "
                f"{self.stored_price:,.6g} stored ({self.change:+.1%})"
            )
        return (
            f"Price jump at the seam of {self.symbol} {self.interval}: {where}, far more than a "
            "candle normally moves, so the new and the stored candles probably come from "
            "different sources (check the base URL) or the series is broken."
        )


def _valid(price: float) -> bool:
    return bool(pd.notna(price)) and price > 0


def _jump(seam: Seam, threshold: float, step: pd.Timedelta) -> bool:
    """A jump beyond ``threshold`` per candle between the two, scaled like a random walk's
    spread (by the square root of the candles between them): across an exchange halt or the
    months between the bundled sample and a later fetch, prices really move further."""
    if not (_valid(seam.stored_price) and _valid(seam.new_price)):
        return False
    candles = max(1.0, abs(seam.new_time - seam.stored_time) / step)
    return abs(seam.change) > threshold * math.sqrt(candles)


def _overlap(
    stored: pd.DataFrame, new: pd.DataFrame, symbol: str, interval: str, tolerance: float
) -> Seam | None:
    both = new[["open_time", "open", "close"]].merge(
        stored[["open_time", "open", "close"]], on="open_time", suffixes=("_new", "_stored")
    )
    if both.empty:
        return None
    diff = pd.concat(
        [
            (both["close_new"] / both["close_stored"] - 1.0).abs(),
            (both["open_new"] / both["open_stored"] - 1.0).abs(),
        ],
        axis=1,
    ).max(axis=1)
    # a non-positive or missing price on either side is a disagreement too
    diff = diff.where(both[["close_new", "close_stored"]].gt(0).all(axis=1), float("inf"))
    bad = diff.gt(tolerance) | diff.isna()
    if not bad.any():
        return None
    worst = both.loc[diff.fillna(float("inf")).idxmax()]
    return Seam(
        symbol,
        interval,
        "overlap",
        worst["open_time"],
        float(worst["close_stored"]),
        worst["open_time"],
        float(worst["close_new"]),
        int(bad.sum()),
    )


def find_seams(
    stored: pd.DataFrame,
    new: pd.DataFrame,
    *,
    symbol: str,
    interval: str,
    threshold: float = SEAM_JUMP,
    tolerance: float = OVERLAP_TOLERANCE,
) -> list[Seam]:
    """Where the candles of ``new`` do not fit the candles of ``stored`` (both in the store's
    schema, sorted by ``open_time``): a jump larger than ``threshold`` where new candles after or
    before the stored run meet it (times the square root of the candles between, when the two
    do not touch), or new candles for stored hours whose close or open differs by
    more than ``tolerance``. ``new`` may hold the stored candles too (identical rows agree).

    Returns at most one :class:`Seam` per side (tail, head, overlap); none when either is empty.
    """
    if stored.empty or new.empty:
        return []
    first, last = stored["open_time"].iloc[0], stored["open_time"].iloc[-1]
    step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    seams = []
    tail = new.loc[new["open_time"] > last]
    if len(tail) and threshold > 0:
        before, after = stored.iloc[-1], tail.iloc[0]
        seam = Seam(
            symbol,
            interval,
            "tail",
            last,
            float(before["close"]),
            after["open_time"],
            float(after["open"]),
        )
        if _jump(seam, threshold, step):
            seams.append(seam)
    head = new.loc[new["open_time"] < first]
    if len(head) and threshold > 0:
        after, before = stored.iloc[0], head.iloc[-1]
        seam = Seam(
            symbol,
            interval,
            "head",
            first,
            float(after["open"]),
            before["open_time"],
            float(before["close"]),
        )
        if _jump(seam, threshold, step):
            seams.append(seam)
    inside = new.loc[(new["open_time"] >= first) & (new["open_time"] <= last)]
    if len(inside):
        overlap = _overlap(stored, inside, symbol, interval, tolerance)
        if overlap is not None:
            seams.append(overlap)
    return seams
