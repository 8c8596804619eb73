"""core.data.klines: kline bodies decode column-wise to exactly what json + parse_klines gives."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.data.klines import decode_klines, parse_klines
from tests.fake_binance import _kline

HOUR = 3_600_000
START = 1_700_000_000_000


def _body(rows: list[list]) -> bytes:
    return json.dumps(rows, separators=(",", ":")).encode()


def _rows(n: int = 1000) -> list[list]:
    return [_kline("BTCUSDT", START + i * HOUR, HOUR) for i in range(n)]


def test_fast_path_equals_json_and_parse_klines_bit_for_bit():
    rows = _rows()
    fast = decode_klines(_body(rows))
    pd.testing.assert_frame_equal(fast, parse_klines(rows), check_exact=True)
    assert fast["open"].iloc[7] == float(rows[7][1])
    assert fast["open_time"].iloc[0] == pd.Timestamp(START, unit="ms", tz="UTC")
    assert str(fast["close_time"].dtype) == "datetime64[ms, UTC]"


def test_other_json_shapes_take_the_json_path_with_the_same_result():
    rows = _rows(5)
    pretty = json.dumps(rows, indent=1).encode()
    pd.testing.assert_frame_equal(decode_klines(pretty), parse_klines(rows))
    assert decode_klines(b"[]").empty


@pytest.mark.parametrize(
    "body",
    [
        _body(_rows(3))[:-40],  # cut off mid-array
        b'[[1,"1","1"]]',  # three fields, not twelve
        _body([*_rows(2), [1, "2", "3"]]),  # one short row among good ones
        _body(_rows(2)).replace(b'"', b'"x', 1),  # a price that is not a number
        _body([[None, *(_rows(1)[0][1:])]]),  # a null open time
        b'{"code":-1121,"msg":"Invalid symbol."}',  # an object, not a list
    ],
    ids=["cut", "short", "one-short-row", "not-a-number", "null", "object"],
)
def test_broken_bodies_raise_value_error(body: bytes):
    with pytest.raises(ValueError):
        decode_klines(body)
