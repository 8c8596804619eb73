"""A sweep's trials as Ray tasks: each task runs trials against the same study file.

Every task opens the study from its SQLite file under the home folder (the Ray nodes must see
that folder, as for Ray training jobs) and runs trials until the study holds the trials asked
for; Optuna's storage keeps them consistent and the pruner sees every task's folds. Parallel
tasks can overshoot by up to one trial each (a trial running when the count is reached ends).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.config import Paths
from core.errors import JobError
from core.tuning.study import TuneSpec, counts, load_study, optimize_here

__all__ = ["optimize_on_ray"]


def _task(home: str, spec: dict[str, Any], seed: int) -> int:
    """Trials in a Ray worker on the study and the candles under ``home`` (the task writes no
    environment)."""
    sweep = TuneSpec.from_dict(spec)
    study = load_study(Path(home), sweep.study, seed=seed)
    optimize_here(sweep, study, None, paths=Paths(Path(home)))
    return counts(study)["finished"]


def optimize_on_ray(
    connect: Callable[[], Any],
    spec: TuneSpec,
    on_trial: Callable[[Any, Any], None] | None = None,
    *,
    home: Path,
    workers: int | None = None,
    poll: float = 1.0,
) -> None:
    """Run the sweep ``spec`` (its study under ``home``) as up to ``workers`` (default: the cluster's CPUs)
    parallel Ray tasks; ``on_trial(study, trial)`` is called here for each trial that finished.
    ``connect()`` connects this process to Ray with its workers in the home folder and returns
    the ``ray`` module (the job layer gives it); Ray is shut down here when the trials end.

    Raises:
        ConfigError / JobError: Ray missing or unreachable (see core.jobs.ray_executor), or a
            task failed (with its reason).
    """
    ray = connect()
    refs: list[Any] = []
    try:
        study = load_study(home, spec.study)
        already = counts(study)["finished"]
        left = spec.trials - already
        if left <= 0:
            return
        cpus = int(ray.cluster_resources().get("CPU", 1))
        n = max(1, min(workers or cpus, left))
        task = ray.remote(num_cpus=1, max_retries=0)(_task)
        refs = [
            task.options(name=f"cryptovolt-tune-{spec.study}-{i}").remote(
                str(home), spec.to_dict(), 1000 * (i + 1) + already
            )
            for i in range(n)
        ]
        seen = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=len(pending), timeout=poll)
            for ref in done:
                try:
                    ray.get(ref)
                except ray.exceptions.RayError as exc:
                    lines = str(exc).strip().splitlines()
                    raise JobError(
                        f"A Ray tuning task of study {spec.study} failed: "
                        f"{type(exc).__name__}: {lines[-1] if lines else ''}"
                    ) from None
            if on_trial is not None:
                study = load_study(home, spec.study)
                for trial in study.get_trials(deepcopy=False):
                    if trial.state.is_finished() and trial.number not in seen:
                        seen.add(trial.number)
                        on_trial(study, trial)
    except BaseException:
        for ref in refs:
            with contextlib.suppress(Exception):  # already finished, or Ray is going away
                ray.cancel(ref, force=True)
        raise
    finally:
        ray.shutdown()
