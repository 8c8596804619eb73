"""The Training page keeps one job per coin: a coin with a queued job turns Train off in words;
a failed or cancelled card has Restart, which starts the same job again; a sweep started from the
page does not stay a zombie of the server once it ends."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import jobs
from core.jobs.tune_job import sweep_status
from tests.homes import env_home, env_runs
from tests.waiting import APP_TIMEOUT, wait_until

ROOT = Path(__file__).resolve().parents[2]
STUDY = "xgboost_btcusdt_1h"


def _page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    return at.switch_page("pages/training.py").run()


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in at.error] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def _train_button(at: AppTest):
    return next(b for b in at.button if b.label == "Train")


def _state_letter(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return None


def test_a_busy_coin_turns_train_off_and_a_cancelled_card_restarts(
    home_with_sample: Path, monkeypatch
):
    monkeypatch.setenv("CRYPTOVOLT_JOB_SLOTS", "1")
    slots = home_with_sample / "runs" / ".slots"
    slots.mkdir(parents=True)
    with open(slots / "0.lock", "a+") as held:  # keeps the jobs queued: nothing trains here
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        first = jobs.launch(jobs.JobSpec("BTC", models=("xgboost",)), home=env_home())
        try:
            at = _page()
            at.multiselect(key="training_coins").set_value(["ETHUSDT", "BTCUSDT"]).run()
            at.button_group(key="training_models").set_value(["xgboost"]).run()
            assert not at.exception
            assert _train_button(at).disabled
            text = _texts(at)
            assert f"Bitcoin (BTC) already has a training job queued ({first})" in text
            assert (
                "One job per coin at a time" in text and "take Bitcoin (BTC) out of Coins" in text
            )
            assert [j.job_id for j in jobs.list_jobs(runs=env_runs())] == [first]

            next(b for b in at.button if b.key == f"cancel_{first}").click().run()
            assert jobs.status(first, runs=env_runs()).state is jobs.JobState.CANCELLED
            assert not _train_button(at).disabled  # the coin is free again
            restart = next(b for b in at.button if b.key == f"restart_{first}")
            restart.click().run()
            assert not at.exception
            newest = jobs.list_jobs(runs=env_runs())[0]
            assert newest.job_id != first and newest.symbol == "BTCUSDT"
            assert newest.state is jobs.JobState.QUEUED and newest.models == ("xgboost",)
            assert _train_button(at).disabled  # busy again
        finally:
            for job in jobs.list_jobs(runs=env_runs()):
                jobs.cancel(job.job_id, runs=env_runs())


def test_a_sweep_started_from_the_page_is_reaped_when_it_ends(home_with_sample: Path):
    at = _page()
    at.toggle(key="tuning_form_open").set_value(True).run()
    next(s for s in at.selectbox if s.label == "Model").set_value("xgboost")  # STUDY's kind
    next(b for b in at.button if b.label == "Start sweep").click().run()
    assert not at.exception
    job_id = sweep_status(STUDY, home=env_home()).job_id
    pid = json.loads((home_with_sample / "runs" / job_id / "pid.json").read_text())["pid"]
    at.run()
    cancel = next(b for b in at.button if b.label == "Cancel sweep")
    cancel.click().run()
    assert sweep_status(STUDY, home=env_home()).state is jobs.JobState.CANCELLED
    wait_until(
        lambda: _state_letter(pid) is None,
        60,
        "the sweep's process to be reaped (not left as a zombie of the server)",
    )
