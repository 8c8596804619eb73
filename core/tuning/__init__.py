"""Hyperparameter sweeps: Optuna studies whose objective is the walk-forward score inside the
training period only (nested: the test window is never seen), pruned per fold, stored in SQLite
under ``{home}/tuning/`` so a killed sweep resumes; the best settings train a normal registered
version whose card records the study, the trials tried and the search space.

Importing this package loads neither Optuna nor Ray (they load inside the functions that use
them). A sweep runs as a job: :mod:`core.jobs.tune_job`. This is the stage's public face; the
modules below it are importable too.
"""

from __future__ import annotations

from core.tuning.space import describe, space_for, tunable
from core.tuning.state import lock_holder, storage_path, study_lock, study_name
from core.tuning.study import SweepCancelled, TuneSpec, counts, load_study, run_sweep
from core.tuning.sweeps import list_studies, trials_frame

__all__ = [
    "SweepCancelled",
    "TuneSpec",
    "counts",
    "describe",
    "list_studies",
    "load_study",
    "lock_holder",
    "run_sweep",
    "space_for",
    "storage_path",
    "study_lock",
    "study_name",
    "trials_frame",
    "tunable",
]
