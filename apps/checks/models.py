from django.conf import settings
from django.db import models


class CheckSettings(models.Model):
    """What the trial's team and publication say about it, against which its data are checked."""

    trial = models.OneToOneField("trials.Trial", on_delete=models.CASCADE, related_name="check_settings")
    recruitment_start = models.DateField(null=True, blank=True)
    recruitment_end = models.DateField(null=True, blank=True)
    data_cutoff = models.DateField(null=True, blank=True, help_text="The date the trial's follow-up was closed.")
    ids_sequential = models.BooleanField(default=False, help_text="Participant ids were given in randomisation order.")
    allocation_ratio = models.FloatField(default=1.0, help_text="Planned intervention participants per control.")
    intervention_code = models.CharField(max_length=100, blank=True, help_text="Empty: read from the schema's codes.")
    control_code = models.CharField(max_length=100, blank=True)
    primary_outcome = models.CharField(
        max_length=64,
        blank=True,
        help_text="The schema variable of the published primary result; empty: the first fit.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "check settings"
        verbose_name_plural = "check settings"

    def __str__(self) -> str:
        return f"Check settings of {self.trial}"


class CheckRun(models.Model):
    """The catalogue run once on one harmonised table; its job row carries state, progress and error."""

    class Trigger(models.TextChoices):
        AUTOMATIC = "automatic", "Automatic (new harmonised table)"
        ON_DEMAND = "on_demand", "On demand"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    review = models.ForeignKey("reviews.Review", on_delete=models.CASCADE, related_name="check_runs")
    trial = models.ForeignKey("trials.Trial", on_delete=models.CASCADE, related_name="check_runs")
    harmonised_table = models.ForeignKey(
        "harmonisation.HarmonisedTable", on_delete=models.CASCADE, related_name="check_runs"
    )
    job = models.OneToOneField("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="check_run")
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.AUTOMATIC)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    code_version = models.CharField(max_length=32, blank=True)
    engine_version = models.CharField(max_length=32, blank=True)
    settings_used = models.JSONField(default=dict, blank=True, help_text="The trial facts the checks compared with.")
    n_rows = models.PositiveIntegerField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Check run #{self.pk} of {self.trial}"


class CheckStatus(models.TextChoices):
    PASS = "pass", "Pass"
    WARNING = "warning", "Warning"
    FAIL = "fail", "Fail"
    NOT_APPLICABLE = "not_applicable", "Not checked"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    RESOLVED = "resolved", "Resolved"
    # Closed without a person: a later run on the same harmonised table passed the check.
    SUPERSEDED = "superseded", "Superseded"


# A finding in one of these needs nothing more from anyone.
CLOSED_FINDING_STATUSES = (FindingStatus.RESOLVED, FindingStatus.SUPERSEDED)


class CheckResult(models.Model):
    Status = CheckStatus

    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    sentence = models.TextField()
    figures = models.JSONField(default=dict, blank=True)
    affected_row_ids = models.JSONField(default=list, blank=True, help_text="`source_row` of the rows concerned.")
    affected_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "code"], name="check_result_unique_code_per_run")]

    def __str__(self) -> str:
        return f"{self.title}: {self.get_status_display()}"

    @property
    def affected_truncated(self) -> bool:
        return self.affected_count > len(self.affected_row_ids)


class Finding(models.Model):
    """A failed or warning check raised with the trial's team: a query thread worked through to resolution."""

    Status = FindingStatus

    result = models.OneToOneField(CheckResult, on_delete=models.CASCADE, related_name="finding")
    trial = models.ForeignKey("trials.Trial", on_delete=models.CASCADE, related_name="findings")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    superseded_by_run = models.ForeignKey(
        CheckRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="superseded_findings",
        help_text="The later run on the same harmonised table in which the check passed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.result.title} ({self.get_status_display()})"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_FINDING_STATUSES

    @property
    def is_failure(self) -> bool:
        return self.result.status == CheckResult.Status.FAIL


class QueryMessage(models.Model):
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["finding", "created_at", "id"]

    def __str__(self) -> str:
        return f"Message on {self.finding}"
