"""Reading sweeps' studies for the page and the CLI: which studies are stored, and their trials.

A sweep runs as a job (:mod:`core.jobs.tune_job`: launch, status, cancel like any other job);
what it leaves here is the study under ``{home}/tuning/``, which these read as trials finish.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.errors import JobError
from core.tuning import state
from core.tuning.study import load_study

__all__ = ["list_studies", "trials_frame"]


def list_studies(home: Path) -> list[str]:
    """Every study under the home folder, newest first."""
    folder = state.tuning_dir(home)
    if not folder.is_dir():
        return []
    paths = [p for p in folder.iterdir() if p.suffix == ".db"]
    paths.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return list(dict.fromkeys(p.stem for p in paths))


def trials_frame(home: Path, name: str) -> pd.DataFrame:
    """One row per trial of study ``name``: number, state, value (mean fold skill), seconds,
    the folds scored and every searched setting. Empty when the study has no trials yet."""
    try:
        study = load_study(home, name)
    except JobError:  # not created yet (or being created by the sweep that just started)
        return pd.DataFrame(columns=["trial", "state", "value", "seconds", "folds"])
    rows = []
    for trial in study.get_trials(deepcopy=False):
        seconds = None
        if trial.datetime_start and trial.datetime_complete:
            seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
        rows.append(
            {
                "trial": trial.number,
                "state": trial.state.name.lower(),
                "value": trial.value,
                "seconds": None if seconds is None else round(seconds, 1),
                "folds": len(trial.intermediate_values),
                **trial.params,
            }
        )
    return pd.DataFrame(rows)
