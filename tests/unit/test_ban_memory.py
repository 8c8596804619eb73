"""core.data.ban_memory: refusals per server in the home folder, the later end kept, expired
ones gone by themselves, a damaged file ignored (a fetch is not stopped by its own notes)."""

from __future__ import annotations

import json

from core.data import ban_memory
from core.data.ban_memory import BAN, PAUSE, recall, refusals_path, remember
from tests.homes import env_paths

API = "https://api.binance.com"
MIRROR = "https://data-api.binance.vision/"


def _file():
    """The ban memory of the home this test runs in."""
    return refusals_path(env_paths().data)


def test_a_ban_holds_for_its_server_until_its_end_and_then_is_gone():
    remember(API, BAN, 1_000.0 + 900, now=1_000.0, refusals=_file())
    found = recall(API + "/", now=1_500.0, refusals=_file())
    assert found is not None and (found.kind, found.until) == (BAN, 1_900.0)
    assert recall(MIRROR, now=1_500.0, refusals=_file()) is None  # another server: not banned
    assert recall(API, now=1_900.0, refusals=_file()) is None  # expired by itself
    # the next write drops the expired ban
    remember(MIRROR, PAUSE, 2_060.0, now=2_000.0, refusals=_file())
    assert set(json.loads(_file().read_text())) == {"https://data-api.binance.vision"}


def test_the_later_end_is_kept_and_a_ban_comes_before_a_pause():
    remember(API, BAN, 1_900.0, now=1_000.0, refusals=_file())
    # a shorter one answered to a request on the wire
    remember(API, BAN, 1_100.0, now=1_050.0, refusals=_file())
    remember(API, PAUSE, 2_000.0, now=1_050.0, refusals=_file())
    found = recall(API, now=1_060.0, refusals=_file())
    assert found is not None and (found.kind, found.until) == (BAN, 1_900.0)
    found = recall(API, now=1_950.0, refusals=_file())
    assert found is not None and (found.kind, found.until) == (PAUSE, 2_000.0)


def test_a_damaged_file_is_ignored_and_written_over(caplog):
    path = _file()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert recall(API, now=0.0, refusals=_file()) is None
    assert "cannot be read" in caplog.text
    remember(API, BAN, 100.0, now=0.0, refusals=_file())
    assert recall(API, now=50.0, refusals=_file()) == ban_memory.Refusal(
        "https://api.binance.com", BAN, 100.0, 0.0
    )
