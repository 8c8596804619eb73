"""Rebuild the bundled sample from the real Binance candles in ../shared/data/real/full12.

Run from the project folder: ``.venv/bin/python data/sample/make_sample.py [SOURCE_DIR]``.
Only needed when the sample changes; the app and tests read the Parquet files, never the source.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from core.data.store import normalize_candles  # noqa: E402

HERE = Path(__file__).resolve().parent
SOURCE = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared/data/real/full12"

for csv in sorted(SOURCE.glob("*_1h_12col.csv")):
    symbol = csv.name.split("_")[0]
    raw = pd.read_csv(csv)
    frame = normalize_candles(
        raw.rename(
            columns={
                "num_trades": "number_of_trades",
                "taker_buy_base": "taker_buy_base_volume",
                "taker_buy_quote": "taker_buy_quote_volume",
            }
        )
    )
    # The source's last row is the candle that was still open when it was downloaded.
    frame = frame.iloc[:-1]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, HERE / f"{symbol}-1h.parquet", compression="zstd")
    print(symbol, len(frame), frame["open_time"].iloc[0], frame["open_time"].iloc[-1])
