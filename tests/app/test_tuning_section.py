"""The Training page's Tuning section under AppTest: a stored study's trials, best and plot; the
form refuses to overwrite a stored study; a sweep started from the form runs in the background
and Cancel stops it; Train with "Run training on: Ray" makes Ray jobs that cancel ends."""

from __future__ import annotations

from pathlib import Path

import optuna
from streamlit.testing.v1 import AppTest

from core import jobs
from core.jobs.control import finish
from core.jobs.results import ModelResult
from core.jobs.tune_job import TuneJob, sweep_status
from core.tuning import TuneSpec
from core.tuning.study import _open
from tests.homes import env_home, env_runs
from tests.waiting import APP_TIMEOUT, wait_until

ROOT = Path(__file__).resolve().parents[2]
STUDY = "xgboost_btcusdt_1h"


def _page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    return at.switch_page("pages/training.py").run()


def _stored_study(home: Path, trials: int = 4) -> None:
    spec = TuneSpec("BTC", "xgb", trials=trials, fixed={"n_estimators": 20})
    study = _open(home, spec, resume=False, fresh=False)
    lr = optuna.distributions.FloatDistribution(0.01, 0.3, log=True)
    for value in (-0.02, 0.004, -0.01):
        trial = study.ask({"learning_rate": lr})
        study.tell(trial, value)
    pruned = study.ask({"learning_rate": lr})
    study.tell(pruned, state=optuna.trial.TrialState.PRUNED)
    job_id = jobs.prepare(
        TuneJob(spec, resume=True), home=env_home()
    )  # a finished sweep job of that study
    finish(
        job_id,
        jobs.JobState.SUCCEEDED,
        result=(ModelResult("xgboost_btcusdt", "v1"),),
        runs=env_runs(),
    )


def test_a_stored_study_shows_its_trials_best_and_plot(home_with_sample: Path):
    _stored_study(home_with_sample)
    at = _page()
    assert not at.exception
    summary = next(m.value for m in at.markdown if STUDY in m.value)
    assert "4 of 4 trials" in summary and "best mean skill +0.0040 (trial 1)" in summary
    assert "Tuned version **xgboost_btcusdt v1**" in summary and "not promoted" in summary
    table = at.dataframe[-1].value
    assert list(table["trial"]) == [3, 2, 1, 0] and set(table["state"]) == {"complete", "pruned"}
    assert at.get("plotly_chart")


def test_the_form_refuses_to_overwrite_a_stored_study(home_with_sample: Path):
    _stored_study(home_with_sample)
    at = _page()
    at.toggle(key="tuning_form_open").set_value(True).run()
    next(s for s in at.selectbox if s.label == "Model").set_value("xgboost")  # STUDY's kind
    next(b for b in at.button if b.label == "Start sweep").click().run()
    assert not at.exception
    assert any("is stored already" in e.value for e in at.error)
    assert (
        sweep_status(STUDY, home=env_home()).state is jobs.JobState.SUCCEEDED
    )  # nothing was started
    assert len(jobs.list_jobs(runs=env_runs())) == 1


def test_a_sweep_started_from_the_form_runs_and_cancel_stops_it(home_with_sample: Path):
    at = _page()
    at.toggle(key="tuning_form_open").set_value(True).run()
    next(s for s in at.selectbox if s.label == "Model").set_value("xgboost")  # STUDY's kind
    next(b for b in at.button if b.label == "Start sweep").click().run()
    assert not at.exception
    (job,) = jobs.list_jobs(
        kind="tune", runs=env_runs()
    )  # a sweep is a job: listed beside the others
    assert job.active and job.extra["study"] == STUDY and job.symbol == "BTCUSDT"
    at.run()
    cancel = next(b for b in at.button if b.label == "Cancel sweep")
    wait_until(
        lambda: sweep_status(STUDY, home=env_home()).pid, 120, "the sweep to record its process"
    )
    cancel.click().run()
    assert not at.exception
    assert sweep_status(STUDY, home=env_home()).state is jobs.JobState.CANCELLED


def test_train_on_ray_from_the_page_makes_ray_jobs_that_cancel_ends(home_with_sample: Path):
    at = _page()
    at.selectbox(key="training_executor").set_value("ray").run()
    at.multiselect(key="training_coins").set_value(["BTCUSDT"]).run()
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception
    (job,) = jobs.list_jobs(
        kind="train", runs=env_runs()
    )  # beside it, the ray-driver job that runs it
    assert [d.kind for d in jobs.list_jobs(kind="ray-driver", runs=env_runs())] == [
        jobs.JobKind.RAY_DRIVER
    ]
    assert job.extra["executor"] == "ray" and job.state is jobs.JobState.QUEUED
    # the detached Ray driver records itself; a job waiting for a worker lives while it does
    driver = wait_until(
        lambda: jobs.status(job.job_id, runs=env_runs()).extra.get("driver_pid"),
        120,
        "the Ray driver to record its pid",
        details=lambda: jobs.status(job.job_id, runs=env_runs()),
    )
    assert jobs.cancel(job.job_id, runs=env_runs()).state is jobs.JobState.CANCELLED
    # the driver dropped the cancelled task and ended
    wait_until(lambda: _gone(driver), 120, f"the Ray driver {driver} to end after the cancel")
    assert jobs.status(job.job_id, runs=env_runs()).state is jobs.JobState.CANCELLED


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True
