"""A training job's work, in its process: wait for one of this machine's slots (unless Ray
schedules the job), train the coin with ``core.training.train.train_coin`` and tell the reporter
about every version as it is registered. :meth:`core.jobs.spec.JobSpec.run` calls it; the job
process around it (status, logs, signals) is :mod:`core.jobs.runner`.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from core.jobs.queue import acquire_slot
from core.registry.metadata import ModelMetadata
from core.registry.model_registry import ModelRegistry

if TYPE_CHECKING:
    from core.jobs.runner import JobReporter
    from core.jobs.spec import JobSpec

__all__ = ["RecordingRegistry", "train_job"]

log = logging.getLogger("core.jobs.control.run")


class RecordingRegistry(ModelRegistry):
    """The real registry, also telling the reporter about each version as it is saved, so a job
    that fails or is cancelled after its first model still lists what it registered."""

    def __init__(self, reporter: JobReporter) -> None:
        super().__init__(reporter.paths.models)
        self._reporter = reporter

    def _after_save(self, record: ModelMetadata) -> None:
        self._reporter.saved(record)


def train_job(spec: JobSpec, reporter: JobReporter) -> str:
    """A training job's work: wait for a slot (unless ``reporter.queue`` is off), train the coin,
    register every version as it is saved. Returns the success message."""
    queue = reporter.queue
    log.info("job %s: %s, models %s", reporter.job_id, spec.symbol, ",".join(spec.models))
    # under Ray, Ray schedules the job: the local slots would cap a cluster at this machine's size
    slots: contextlib.AbstractContextManager[int | None] = (
        acquire_slot(reporter.job_id, runs=reporter.paths.runs, on_wait=reporter.waiting)
        if queue
        else contextlib.nullcontext(None)
    )
    with slots as slot:
        reporter.started(slot)
        results = spec.train(
            paths=reporter.paths,
            registry=RecordingRegistry(reporter),
            progress=reporter.progress,
        )
        reporter.trained(results)
    names = ", ".join(f"{m.name} {m.version}" for m in results)
    log.info("succeeded: %s", names)
    return f"registered {names}"
