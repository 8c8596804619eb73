"""A coin picker where what is typed wins.

Streamlit's multiselect matches typed text fuzzily (an in-order subsequence anywhere in a label)
and Enter takes the first match, so typing ``LTC`` + Enter picked "Polygon (POL, formerly MATIC)"
through the letters of "formerLy maTiC", and a typed pair only came after every match. Here the
labels start with the symbol (:func:`core.data.coins.picker_label`) and only a label's start is
matched: ``ETH`` still finds Ethereum, ``LTC`` matches nothing, so the typed symbol is what Enter
adds (parsed later with :func:`core.data.coins.parse_coins`: ``LTC`` means LTCUSDT).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from core.data.coins import picker_label

__all__ = ["coin_multiselect"]


def coin_multiselect(
    label: str,
    options: Sequence[str],
    *,
    key: str,
    help: str | None = None,
    container: Any = None,
    accept_new_options: bool = True,
) -> list[str]:
    """Symbols picked from ``options`` (``BTCUSDT``...) plus any text typed as it was typed
    (``"LTC"``): parse the result with :func:`core.data.coins.parse_coins`."""
    where = container if container is not None else st
    picked = where.multiselect(
        label,
        list(options),
        format_func=picker_label,
        key=key,
        accept_new_options=accept_new_options,
        filter_mode="prefix",
        help=help or "Type a symbol (LTC, DOGE) and press Enter to add any Binance USDT pair.",
        placeholder="Pick coins or type a symbol",
    )
    return [str(p) for p in picked]
