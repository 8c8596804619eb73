"""Bad state and bad input end in one ``error:`` line that says what to do, never a traceback;
a damaged journal line is skipped by every reader. Every command runs as a real subprocess.

Full and read-only disks are real: a tmpfs of a few kilobytes (or mounted read-only) in a private
mount namespace (``unshare --mount``), which needs root; without it those tests are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from core.signals import journal
from tests.unit.test_journal import make_signal

ROOT = Path(__file__).resolve().parents[2]
TOY = {"CRYPTOVOLT_MODEL_PLUGINS": "tests.toy_kind"}


def cli(
    *args: str, mount: tuple[Path, str] | None = None, then: str = "true", **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m core ARGS``; with ``mount`` (folder, tmpfs options), on a tmpfs mounted on
    that folder first (and the shell command ``then`` run), seen by this process alone."""
    argv: Sequence[str] = [sys.executable, "-m", "core", *args]
    if mount is not None:
        where, options = mount
        script = f'mount -t tmpfs -o {options} tmpfs "{where}" && {then} && exec "$@"'
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *argv]
    return subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_error(done: subprocess.CompletedProcess[str]) -> str:
    """The one ``error:`` line of a run that failed cleanly."""
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def _can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c"]
        + ["mount -t tmpfs -o size=4k tmpfs /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs root and unshare --mount")


# --- the journal ------------------------------------------------------------------------------


def test_a_damaged_journal_line_is_skipped_by_every_cli_reader_and_verify_names_it(home: Path):
    journal.record(home, [make_signal(candle=k) for k in range(3)])
    path = home / "journal" / "signals.jsonl"
    first = json.loads(path.read_bytes().split(b"\n")[0])
    first.pop("symbol")
    with open(path, "ab") as handle:
        handle.write(b"[1,2,3]\n" + b'\xff{"id": "x"}\n' + json.dumps(first).encode() + b"\n")

    done = cli("journal", "verify")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    for number in (4, 5, 6):
        assert f"line {number} is not a journal entry" in done.stdout

    for args in (["journal", "export", "--format", "json"], ["monitor", "--json"]):
        done = cli(*args)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        warned = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
        assert [w.split(" is not")[0] for w in warned] == [
            f"warning: {path} line {n}" for n in (4, 5, 6)
        ]
    assert len(json.loads(cli("journal", "export", "--format", "json").stdout)) == 3


# --- bad input: one line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["fetch", "--coins", ","], "no coin named in ','"),
        (["signals", "--coins", " , "], "no coin named in ' , '"),
        (["fetch", "--coins", "BTC", "--base-url", "http://[::1"], "is not a valid URL"),
        (["fetch", "--coins", "BTC", "--base-url", "http://127.0.0.1:abc"], "is not a valid URL"),
        (["journal", "export", "--out", "{home}"], "is a folder: name a file"),
        (["export", "--coin", "BTC", "--out", "{home}"], "is a folder: name a file"),
    ],
)
def test_bad_input_ends_in_one_error_line(home: Path, args: list[str], words: str):
    if args[0] == "export":
        assert cli("fetch", "--sample", "--coins", "BTC").returncode == 0
    line = one_error(cli(*[a.replace("{home}", str(home)) for a in args]))
    assert words in line


def test_features_out_naming_a_folder_is_one_error_line(home: Path):
    assert cli("fetch", "--sample", "--coins", "BTC").returncode == 0
    folder = home / "btc.parquet"
    folder.mkdir()
    line = one_error(cli("features", "--coin", "BTC", "--out", str(folder)))
    assert line == f"error: {folder} is a folder: name a file to write instead."


def test_a_home_that_is_a_file_is_one_error_line(home: Path):
    file = home / "not-a-folder"
    file.write_text("x")
    line = one_error(cli("fetch", "--sample", CRYPTOVOLT_HOME=str(file)))
    assert line.startswith(f"error: CRYPTOVOLT_HOME={file} is a file, not a folder")


def test_a_model_plugin_that_cannot_be_imported_is_one_error_line(home: Path):
    line = one_error(cli("models", "list", CRYPTOVOLT_MODEL_PLUGINS="no_such_plugin_module"))
    assert "CRYPTOVOLT_MODEL_PLUGINS names 'no_such_plugin_module'" in line


@needs_mount
def test_a_read_only_home_is_one_error_line(home: Path):
    line = one_error(cli("fetch", "--sample", mount=(home, "ro,size=64k")))
    assert "is on a read-only file system: set CRYPTOVOLT_HOME to a folder you can write" in line


@needs_mount
def test_a_full_disk_during_fetch_names_each_coin_and_keeps_what_was_saved(home: Path):
    from tests.fake_binance import FakeBinance

    with FakeBinance() as fake:
        done = cli(
            "fetch",
            "--coins",
            "BTC,ETH",
            "--days",
            "400",
            "--base-url",
            fake.url,
            mount=(home, "size=400k"),
        )
    line = one_error(done)
    assert line.startswith("error: 2 of 2 coin(s) failed: BTCUSDT: the disk is full: ")
    for symbol in ("BTCUSDT", "ETHUSDT"):
        assert f"{symbol} failed: the disk is full: " in done.stdout
    assert "Free some space" in line


# --- a home with the sample and a (fast, test-only) trained model -----------------------------


@pytest.fixture(scope="module")
def toy_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("toy-home")
    env = {"CRYPTOVOLT_HOME": str(folder), **TOY}
    assert cli("fetch", "--sample", "--coins", "BTC,ETH", **env).returncode == 0
    done = cli("train", "--coins", "BTC", "--models", "toyflow", **env)
    assert done.returncode == 0, done.stderr
    return folder


def test_models_verify_reports_an_unreadable_metadata_and_exits_1(home: Path, toy_home: Path):
    shutil.copytree(toy_home, home, dirs_exist_ok=True)
    assert cli("models", "verify", **TOY).returncode == 0
    (home / "models" / "toyflow_btcusdt" / "v1" / "metadata.json").write_text("{not json")
    done = cli("models", "verify", **TOY)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stdout.startswith("FAILED  toyflow_btcusdt v1: metadata.json cannot be read")


@needs_mount
def test_a_full_disk_during_train_registers_nothing_and_says_so(home: Path, toy_home: Path):
    shutil.copytree(toy_home, home, dirs_exist_ok=True)
    models = home / "models"
    before = sorted(p.name for p in (models / "toyflow_btcusdt").iterdir())
    done = cli("train", "--coins", "BTC", "--models", "toyflow", mount=(models, "size=8k"), **TOY)
    line = one_error(done)
    assert line.startswith(f"error: BTCUSDT: the disk is full: {models}/toyflow_btcusdt ")
    assert sorted(p.name for p in (models / "toyflow_btcusdt").iterdir()) == before


@needs_mount
def test_a_home_on_a_full_disk_trains_to_one_error_line_without_log_tracebacks(
    home: Path, toy_home: Path
):
    fill = (
        f"cp -r {toy_home}/. {home}/ && rm -f {home}/logs/*.log "  # a log's last page has room
        f"&& (dd if=/dev/zero of={home}/fill bs=4k 2>/dev/null; true)"
    )
    done = cli(
        "train", "--coins", "BTC", "--models", "toyflow", mount=(home, "size=4m"), then=fill, **TOY
    )
    line = one_error(done)  # the log lines lost to the full disk print no "Logging error"
    # a foreground training is a job: its folder is the first thing it writes
    assert line.startswith(f"error: BTCUSDT: the disk is full: {home}/runs/")


@needs_mount
def test_a_full_disk_during_signals_is_one_error_line(home: Path, toy_home: Path):
    shutil.copytree(toy_home, home, dirs_exist_ok=True)
    folder = home / "journal"
    folder.mkdir()
    done = cli(
        "signals",
        "--coins",
        "BTC",
        mount=(folder, "size=4k"),
        then=f"dd if=/dev/zero of={folder}/fill bs=4k count=1 2>/dev/null",
        CRYPTOVOLT_NOW="2025-05-30T02:00:00+00:00",
        **TOY,
    )
    line = one_error(done)
    assert line.startswith(f"error: the disk is full: {folder}/signals.jsonl could not be written")


# --- a reference coin that ends before the coin's test window ---------------------------------


def test_train_leaves_out_a_reference_coin_that_ends_early_and_says_so(home: Path):
    from core.data.store import load_candles, save_candles
    from tests.monitor_journal import continuation

    assert cli("fetch", "--sample", "--coins", "BTC,ETH").returncode == 0
    btc = load_candles("BTCUSDT").iloc[-3000:]
    save_candles(
        pd.concat([btc, continuation(btc, 1000, regime="stable")], ignore_index=True), "BTCUSDT"
    )
    save_candles(load_candles("ETHUSDT").iloc[-3000:], "ETHUSDT")  # ends where BTC's sample ends

    done = cli("train", "--coins", "BTC", "--models", "xgb_direction", "--trees", "20")
    assert done.returncode == 0, done.stderr
    assert (
        "note: xgb_direction_btcusdt v1: ETHUSDT ends 2025-05-30 00:00 UTC, before BTCUSDT's "
        "last candle (2025-07-10 16:00 UTC): trained without the ETHUSDT inputs. Fetch ETHUSDT "
        "(`python -m core fetch --coins ETH`) and train again to use them."
    ) in done.stdout
    meta = json.loads((home / "models/xgb_direction_btcusdt/v1/metadata.json").read_text())
    assert meta["data"]["context"] == ["BTCUSDT"]
    assert list(meta["data"]["context_left_out"]) == ["ETHUSDT"]
    card = cli("models", "show", "xgb_direction_btcusdt")
    assert "note: ETHUSDT ends 2025-05-30 00:00 UTC, before BTCUSDT's last candle" in card.stdout


def test_signals_and_watch_carry_on_over_a_damaged_journal_line(home: Path, toy_home: Path):
    shutil.copytree(toy_home, home, dirs_exist_ok=True)
    journal.record(home, [make_signal(candle=k) for k in range(3)])
    path = home / "journal" / "signals.jsonl"
    with open(path, "ab") as handle:
        handle.write(b"[1,2,3]\n" + b'\xff{"id": "x"}\n')
    clock = home / "clock.txt"
    clock.write_text("2025-05-30T01:00:10+00:00\n")  # just after the sample's last close
    runs = {
        "signals": cli(
            "signals", "--coins", "BTC", CRYPTOVOLT_NOW="2025-05-30T01:00:10+00:00", **TOY
        ),
        "watch": cli(
            *["watch", "--once", "--quick", "--coins", "BTC", "--clock-file", str(clock)],
            BINANCE_BASE_URL="http://127.0.0.1:9",  # up to date: nothing to ask Binance
            **TOY,
        ),
    }
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.stderr)
        assert "Traceback" not in done.stderr
        warned = [line for line in done.stderr.splitlines() if " is not a journal entry " in line]
        assert len(warned) == 2 and f"{path} line 4" in warned[0], (name, done.stderr)
    assert "cycle at 2025-05-30T01:00:10+00:00: ok" in runs["watch"].stdout
    assert list(journal.entries(home)["symbol"]) == ["BTCUSDT"] * 4  # the three, and BTC's signal


def test_a_reader_that_closes_the_pipe_early_ends_the_command_quietly(home: Path):
    """`python -m core kinds | head -1`: the reader is gone before the command writes (its end of
    the pipe is closed before the command starts, so the write fails every time); the command
    exits as a shell expects after SIGPIPE (141), with no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "core", "kinds"],
            cwd=ROOT,
            env={**os.environ, "CRYPTOVOLT_HOME": str(home)},
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr
