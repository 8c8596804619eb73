"""The kinds of job and their specs: which spec class reads a ``spec.json``.

Every kind is a frozen dataclass with ``to_dict`` / ``from_dict`` and ``run(reporter)`` (the work,
in the job process): :class:`~core.jobs.spec.JobSpec` (``train``, also a spec without a kind),
:class:`~core.jobs.fetch_job.FetchSpec` (``fetch``), :class:`~core.jobs.tune_job.TuneJob`
(``tune``) and :class:`~core.jobs.ray_executor.RayDriverSpec` (``ray-driver``). The last two are
imported when a spec of theirs is read, so reading a fetch or training job loads neither Optuna's
study code nor Ray's driver.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.jobs.control import spec_data
from core.jobs.fetch_job import FetchSpec
from core.jobs.spec import JobSpec
from core.jobs.status import JobKind

if TYPE_CHECKING:
    from core.jobs.ray_executor import RayDriverSpec
    from core.jobs.tune_job import TuneJob

__all__ = ["read_spec", "spec_from_dict"]


def spec_from_dict(data: Mapping[str, Any]) -> JobSpec | FetchSpec | TuneJob | RayDriverSpec:
    """The typed spec for a ``spec.json`` dict, by its ``kind`` (none: a training job).

    Raises:
        ConfigError (and the symbol errors): a spec that is not valid.
    """
    kind = JobKind.parse(data.get("kind"))
    if kind is JobKind.FETCH:
        return FetchSpec.from_dict(data)
    if kind is JobKind.TUNE:
        from core.jobs.tune_job import TuneJob

        return TuneJob.from_dict(data)
    if kind is JobKind.RAY_DRIVER:
        from core.jobs.ray_executor import RayDriverSpec

        return RayDriverSpec.from_dict(data)
    return JobSpec.from_dict(data)


def read_spec(job_id: str, *, runs: Path) -> JobSpec | FetchSpec | TuneJob | RayDriverSpec:
    """The validated spec of a job, typed by the file's ``kind``.

    Raises:
        JobError: no such job. ConfigError: a spec that is no longer valid.
    """
    return spec_from_dict(spec_data(job_id, runs=runs))
