"""A coin picker where what is typed wins, and is parsed once, as it is typed.

Streamlit's multiselect matches typed text fuzzily (an in-order subsequence anywhere in a label)
and Enter takes the first match, so typing ``LTC`` + Enter picked "Polygon (POL, formerly MATIC)"
through the letters of "formerLy maTiC". Here options are labelled as every page names a coin
(:func:`core.data.coins.display_name`, "Bitcoin (BTC)") and only a label's start is matched: a
name typed from its start ("eth", "Sol") still finds its coin, a symbol that starts no name
(``LTC``, ``BTC``, ``ADA``) is added as typed.

What is typed is parsed the moment it is added (:func:`core.data.coins.parse_coin`, in the
widget's ``on_change``): ``ltc`` becomes ``LTCUSDT`` (its chip then reads like every other coin)
and ``btc/usd`` is taken out again with one ``error:`` line saying what to type instead. The
widget's value, and what :func:`coin_multiselect` returns, are exchange symbols, so nothing
downstream parses a user's text a second time (``BTCUSD`` → ``BTCUSDUSDT``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from core.data.coins import display_name, parse_coin
from core.errors import CryptoVoltError
from ui.text import plain

__all__ = ["coin_multiselect", "parse_picked"]


def _refused_key(key: str) -> str:
    return f"{key}__refused"


def parse_picked(picked: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(symbols, errors)``: each entry parsed once (duplicates kept once, in order); an entry
    that is not a coin gives an ``error:`` sentence instead of a symbol."""
    symbols: list[str] = []
    errors: list[str] = []
    for text in picked:
        try:
            symbols.append(parse_coin(str(text)).symbol)
        except CryptoVoltError as exc:
            errors.append(str(exc))
    return list(dict.fromkeys(symbols)), errors


def _normalise(key: str) -> None:
    picked = list(st.session_state.get(key) or [])
    symbols, errors = parse_picked(picked)
    if symbols != picked:  # only then: writing the value back sends it to the browser, which
        st.session_state[key] = symbols  # would undo a removal made meanwhile (fast Backspace)
    st.session_state[_refused_key(key)] = errors


def coin_multiselect(
    label: str,
    options: Sequence[str],
    *,
    key: str,
    help: str | None = None,
    container: Any = None,
    accept_new_options: bool = True,
) -> list[str]:
    """Symbols picked from ``options`` (``BTCUSDT``...) plus any typed, parsed (``"ltc"`` →
    ``LTCUSDT``); a typed entry that is not a coin is dropped and its ``error:`` line shown."""
    where = container if container is not None else st
    current = st.session_state.get(key)
    if current:  # a value set in code (a saved form, a test) is parsed like a typed one
        symbols, errors = parse_picked(current)
        if symbols != list(current):
            st.session_state[key] = symbols
            st.session_state[_refused_key(key)] = errors
    picked = where.multiselect(
        label,
        list(dict.fromkeys([*options, *(st.session_state.get(key) or [])])),
        format_func=display_name,
        key=key,
        on_change=_normalise,
        args=(key,),
        accept_new_options=accept_new_options,
        filter_mode="prefix",
        help=help or "Type a symbol (LTC, DOGE) and press Enter to add any Binance USDT pair.",
        placeholder="Pick coins or type a symbol",
    )
    for error in st.session_state.get(_refused_key(key)) or []:
        where.error(f"error: {plain(error)}", icon=":material/error:")
    return [str(p) for p in picked]
