"""ui.cells: table cells as read, thousands separated, empty where nothing is known."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ui.cells import cell, cells, number


def test_counts_have_thousands_separators_and_scores_five_digits():
    assert number(17520) == "17,520"
    assert number(17520.0) == "17,520"
    assert number(110) == "110"
    assert number(0.5312449) == "0.53124"
    assert cell(np.int64(1234567)) == "1,234,567"


def test_missing_values_are_empty_cells():
    frame = pd.DataFrame(
        {"calls": [17520, None], "PSI": [0.123, np.nan], "note": ["ok", None]}, dtype=object
    )
    shown = cells(frame)
    assert shown.to_dict("list") == {
        "calls": ["17,520", ""],
        "PSI": ["0.123", ""],
        "note": ["ok", ""],
    }
    assert cell(pd.NaT) == "" and cell(True) == "True"
