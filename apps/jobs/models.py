from django.conf import settings
from django.db import models


class Job(models.Model):
    """One long piece of work (parse, harmonise, check, analyse) run by a Celery worker.

    The row, not the Celery message, is the truth: a worker claims a queued row, beats while it works and
    ends it as succeeded or failed; a row whose heartbeat stops is requeued or failed by `jobs_reap_stale`,
    which also sends again the task of a row left queued (its message lost, or never sent).
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    FINISHED_STATES = (State.SUCCEEDED, State.FAILED)

    kind = models.CharField(max_length=64, db_index=True)
    task_name = models.CharField(max_length=200, help_text="The Celery task that runs this job.")
    queue = models.CharField(max_length=100, blank=True, help_text="Empty: the queue the task is routed to.")
    review = models.ForeignKey("reviews.Review", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    trial = models.ForeignKey("trials.Trial", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When the task was last sent; a job queued long after it is sent again."
    )
    error = models.TextField(blank=True)
    celery_task_id = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["state", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED_STATES


# A module-level name for the API schema's enum name (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
JobState = Job.State


class PeriodicRun(models.Model):
    """One run of a periodic task for one period (a day, an hour, a minute, an ISO week).

    The unique key is what makes periodic work happen once: however many schedulers send the task for the
    same period, only the delivery that inserts the row does the work.
    """

    name = models.CharField(max_length=200)
    slot = models.CharField(max_length=32, help_text="The period this run is for, e.g. 2026-12-07 or 2026-W49.")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="periodic_run_once_per_slot")]

    def __str__(self) -> str:
        return f"{self.name} for {self.slot}"
