"""What a job's work sees while it runs: progress reports and a heartbeat kept by a background thread."""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from apps.jobs.models import Job

logger = logging.getLogger(__name__)


def heartbeat_seconds() -> float:
    return settings.JOBS_HEARTBEAT_SECONDS


class JobContext:
    """Handed to a job's work function. `progress()` records how far it is; the heartbeat runs by itself.

    The heartbeat thread writes `heartbeat_at` every JOBS_HEARTBEAT_SECONDS while the work runs, so a long
    step inside a library (reading a large file) does not look like a dead worker. Both writes are filtered
    on the claimed attempt: once the reaper has taken the job back, this worker's writes change nothing.
    """

    def __init__(self, job: Job):
        self.job = job
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Seconds per named step, kept in the job's result: where the time of a slow job went.
        self.seconds: dict[str, float] = {}
        self._step_started = time.perf_counter()

    def step_done(self, name: str) -> None:
        """Record the time since the last step ended (or the work began) under `name`."""
        now = time.perf_counter()
        self.seconds[name] = round(now - self._step_started, 3)
        self._step_started = now

    def _mine(self):
        return Job.objects.filter(pk=self.job.pk, state=Job.State.RUNNING, attempts=self.job.attempts)

    def progress(self, percent: int, message: str = "") -> None:
        percent = max(0, min(100, int(percent)))
        self.job.progress = percent
        self.job.progress_message = message[:255]
        self._mine().update(progress=percent, progress_message=message[:255], heartbeat_at=timezone.now())

    def beat(self) -> None:
        self._mine().update(heartbeat_at=timezone.now())

    def _beat_until_stopped(self) -> None:
        try:
            while not self._stop.wait(heartbeat_seconds()):
                try:
                    self.beat()
                except Exception:  # a lost database connection must not kill the work itself
                    logger.exception("Heartbeat of job %s failed", self.job.pk)
                    close_old_connections()
        finally:
            connection.close()

    def __enter__(self) -> "JobContext":
        self._thread = threading.Thread(target=self._beat_until_stopped, name=f"job-{self.job.pk}-heartbeat")
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=heartbeat_seconds() + 5)
