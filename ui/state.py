"""Every Session State key the app uses, in one place. Values are small identifiers only."""

from __future__ import annotations

#: Data page: coins ticked for fetching (list of symbols), interval, range in days.
FETCH_COINS = "fetch_coins"
FETCH_INTERVAL = "fetch_interval"
FETCH_DAYS = "fetch_days"
#: The coin selected on Charts / Backtest (a symbol like "BTCUSDT").
SELECTED_COIN = "selected_coin"
#: Models page: coin filter (list of symbols), kind filter (list of model kinds), the model
#: name whose charts are shown, and the two versions compared side by side.
MODELS_COINS = "models_coins"
MODELS_TYPES = "models_types"
MODELS_SELECTED = "models_selected"
MODELS_COMPARE = "models_compare"
#: Signals page: sort order, auto-refresh on/off, and the last Refresh's one-line messages.
SIGNALS_SORT = "signals_sort"
SIGNALS_AUTO_REFRESH = "signals_auto_refresh"
SIGNALS_REFRESH_NOTES = "signals_refresh_notes"
SIGNALS_LAST_REFRESH = "signals_last_refresh"  # when the last auto top-up ran (UTC datetime)
#: Backtest page: fee per side (fraction), slippage (bps), long/short switch.
BACKTEST_FEE = "backtest_fee"
BACKTEST_SLIPPAGE = "backtest_slippage_bps"
BACKTEST_LONG_SHORT = "backtest_long_short"
#: Training page: coins and models picked in the form, the prefix of the settings inputs' keys,
#: the ids of jobs launched by the last Train click, and of jobs active at the last poll (a job
#: leaving that list reruns the page so polling stops and registry views refresh).
TRAINING_COINS = "training_coins"
TRAINING_MODELS = "training_models"
TRAINING_SETTING_PREFIX = "training_setting_"
TRAINING_LAUNCHED = "training_launched"
#: Training page: the coins of a Train click waiting in the "Yes, start N jobs" dialog (more
#: than three). Each confirmation dialog's open state lives in a key, so it survives reruns
#: until answered or dismissed.
TRAINING_CONFIRM = "training_confirm"
#: Models page: the coin a ``?coin=`` link named (copied into the coin filter).
MODELS_URL_COIN = "models_url_coin"
#: Models page: the version shown of a model (its index among the model's versions); the key
#: is this prefix plus the model name, so each model keeps its own choice.
MODELS_VERSION = "models_version_"
#: Models page: the "name version" waiting in the delete dialog.
MODELS_DELETE = "models_delete"
#: Data page: the "symbol interval" whose held candles wait in the replace dialog.
DATA_REPLACE = "data_replace"
TRAINING_ACTIVE_JOBS = "training_active_jobs"
#: Training page: where Train runs the jobs, "local" (the job queue) or "ray" (Ray installed).
TRAINING_EXECUTOR = "training_executor"
#: Training page, Tuning section: the study whose trials are shown (``kind_symbol_interval``).
TUNING_STUDY = "tuning_study"
#: Training page, Tuning section: whether the "Start a new sweep" form is open.
TUNING_FORM = "tuning_form_open"
#: Charts page: candle interval shown, range preset ("7d".."all"), ticked overlays and lower panes
#: (lists of labels from ui.charts.OVERLAYS / ui.charts.PANES). The coin is SELECTED_COIN.
CHART_INTERVAL = "chart_interval"
CHART_RANGE = "chart_range"
CHART_OVERLAYS = "chart_overlays"
CHART_PANES = "chart_panes"
#: Charts page: prefix of the Window slider's key (one slider per coin, interval and range).
CHART_WINDOW = "chart_window"
#: Data page: id of the fetch job being watched (its state is on disk under runs/), and the
#: one-line message of the last "Load bundled sample".
FETCH_JOB = "fetch_job"
FETCH_SAMPLE_NOTE = "fetch_sample_note"
#: Data page: the "Load bundled sample" dialog is open (stored candles it would meet: it asks
#: first), and the one-line message of the last conflict resolved (replace / discard).
SAMPLE_CONFIRM = "sample_confirm"
DATA_RESOLVED = "data_resolved"
#: Monitor page: the coin whose scores, plot and drift are shown (a symbol).
MONITOR_COIN = "monitor_coin"
#: Monitor page: the notification URLs being edited in the Alerts field (saved on Save).
ALERT_URLS = "alert_urls"
#: Data page, Import: the drop zone's key prefix and round (a new round empties it after an
#: import), the coin and interval for files named otherwise, the button, and the last import's
#: (status, sentence) per file.
IMPORT_FILES = "import_files"
IMPORT_ROUND = "import_round"
IMPORT_COIN = "import_coin"
IMPORT_INTERVAL = "import_interval"
IMPORT_BUTTON = "import_button"
IMPORT_RESULTS = "import_results"
#: Every page: show times in UTC instead of the browser's time zone (the sidebar's switch).
TIMES_UTC = "times_utc"
