"""Table cells as the viewer reads them: ``17,520`` rather than ``17520``, and an empty cell
rather than ``None`` or ``nan``.

``st.dataframe`` tables get the same from ``st.column_config.NumberColumn(format="localized")``
(the Data and Models pages); ``st.table`` draws what it is given, so its frames go through
:func:`cells` first.
"""

from __future__ import annotations

import math
from numbers import Number

import pandas as pd

__all__ = ["cell", "cells", "number"]


def number(value: float) -> str:
    """``17,520`` for a count, ``0.53124`` for a score: thousands separated, five digits."""
    if float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    return f"{value:,.5g}"


def cell(value: object) -> str:
    """One cell: ``""`` for a missing value, :func:`number` for a number, else its text."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Number):
        as_float = float(value)  # type: ignore[arg-type]
        return "" if math.isnan(as_float) else number(as_float)
    return str(value)


def cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell of ``frame`` through :func:`cell` (index and headers kept)."""
    return frame.map(cell)
