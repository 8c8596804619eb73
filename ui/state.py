"""Every Session State key the app uses, in one place. Values are small identifiers only."""

from __future__ import annotations

#: Data page: coins ticked for fetching (list of symbols), interval, range in days.
FETCH_COINS = "fetch_coins"
FETCH_INTERVAL = "fetch_interval"
FETCH_DAYS = "fetch_days"
#: The coin selected on Charts / Backtest (a symbol like "BTCUSDT").
SELECTED_COIN = "selected_coin"
