"""A page's coin and interval in its URL: ``/charts?coin=ETHUSDT&interval=4h``; the Models
page's model and version too (``/models?coin=BTCUSDT&model=xgb_direction_btcusdt&version=v2``).

A link opens the page on what it names, and changing the coin or interval on the page writes it
back to the address bar, so a bookmark or a link shared opens the same view. The widgets keep
their own Session State keys (the coin is shared by Charts and Backtest); :func:`seed` copies a
URL value into the widget's key before the widget is drawn, once per new URL value, and
:func:`publish` writes the widget's value to the URL after it is drawn. A value in the URL that
is not on offer (a coin without candles, ``?coin=btc/usd``) is left out of the page and off the
URL, and the page opens as it would without it.

Streamlit's own ``bind="query-params"`` puts a selectbox's *label* in the URL ("Ethereum (ETH)"),
not the symbol a link should carry, so the URL is handled here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from core.data.coins import parse_coin
from core.errors import CryptoVoltError

__all__ = ["COIN", "INTERVAL", "MODEL", "VERSION", "publish", "seed", "seed_coin"]

#: Query parameter names.
COIN = "coin"
INTERVAL = "interval"
MODEL = "model"
VERSION = "version"


def _seen_key(name: str) -> str:
    return f"_url_seen_{name}"


def seed(
    name: str,
    key: str,
    options: Sequence[str],
    *,
    parse: Callable[[str], str] = str,
) -> str | None:
    """Put the URL's ``?name=`` value into Session State ``key`` when it is new (a link just
    opened, not the value this page wrote itself) and one of ``options``. Returns the value
    taken, or None."""
    raw = st.query_params.get(name)
    if raw is None or raw == st.session_state.get(_seen_key(name)):
        return None
    st.session_state[_seen_key(name)] = raw
    try:
        value = parse(raw)
    except (CryptoVoltError, ValueError):
        return None
    if value not in options:
        return None
    st.session_state[key] = value
    return value


def seed_coin(key: str, options: Sequence[str]) -> str | None:
    """:func:`seed` for ``?coin=``: any spelling of a coin (``eth``, ``ETH/USDT``, ``ETHUSDT``)."""
    return seed(COIN, key, options, parse=lambda raw: parse_coin(raw).symbol)


def publish(**values: str | None) -> None:
    """Write the page's current values to the URL (``publish(coin="ETHUSDT", interval="4h")``);
    None takes a parameter off."""
    for name, value in values.items():
        if value is None:
            st.query_params.pop(name, None)
            st.session_state.pop(_seen_key(name), None)
            continue
        if st.query_params.get(name) != value:
            st.query_params[name] = value
        st.session_state[_seen_key(name)] = value
