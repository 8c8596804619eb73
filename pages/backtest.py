"""Backtest: a coin's ensemble signal traded on its out-of-sample test period."""

import streamlit as st

from core.config import BacktestConfig
from core.data.coins import display_name
from core.errors import CryptoVoltError
from core.signals.trading import StrategyConfig
from ui import deep_link, state
from ui.backtest_view import (
    SIZE_BY_CONFIDENCE,
    render_backtest,
    render_sizing_section,
    run_backtest,
)
from ui.frame import ensure_router
from ui.signals_view import current_symbols, render_verdict_lines
from ui.text import plain

ensure_router()

st.title("Backtest")
st.caption(
    "The ensemble's calls replayed on the test period the models never trained on: a call at "
    "the close of candle t trades at the open of t+1 and is held at least the signal's horizon, "
    "then kept while the call stays the same; fees and slippage on every entry and exit. Calls "
    "weaker than a minimum strength are not traded, and that threshold is chosen on the "
    "walk-forward folds, before the test window. Shown beside the same positions at zero cost "
    "and beside buying and holding over the same candles."
)

coins = current_symbols()
if not coins:
    st.info("No trained models yet: train a coin on the **Training** page first.")
    st.stop()
deep_link.seed_coin(state.SELECTED_COIN, coins)  # /backtest?coin=ETHUSDT
if st.session_state.get(state.SELECTED_COIN) not in coins:
    st.session_state[state.SELECTED_COIN] = coins[0]

a, b, c, d, e = st.columns([2, 1, 1, 1, 1.4], vertical_alignment="bottom")
coin = a.selectbox("Coin", coins, key=state.SELECTED_COIN, format_func=display_name)
deep_link.publish(coin=coin)
fee = b.number_input(
    "Fee per side (%)", 0.0, 5.0, 0.1, step=0.01, format="%.3f", key=state.BACKTEST_FEE
)
slippage = c.number_input("Slippage (bps)", 0.0, 500.0, 5.0, step=1.0, key=state.BACKTEST_SLIPPAGE)
long_short = d.toggle("Long/short", key=state.BACKTEST_LONG_SHORT, help="Short on BEARISH")
sized = e.toggle(
    "Size by confidence",
    key=SIZE_BY_CONFIDENCE,
    help="Each position takes clip((confidence - 0.5) / (0.6 - 0.5), 0, 1) of equity: nothing "
    "at a coin flip, full size at a 60% out-of-time hit rate or more.",
)
render_verdict_lines([coin])

config = None
try:
    config = BacktestConfig(fee=fee / 100, slippage_bps=slippage, allow_short=long_short)
    with st.spinner("Running the backtest…"):
        result = run_backtest(coin, config, StrategyConfig(size_by_confidence=sized))
except CryptoVoltError as exc:
    st.error(plain(exc), icon=":material/error:")
else:
    render_backtest(result)
if config is not None:
    render_sizing_section(coin, config)
