from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel


class Approach(models.TextChoices):
    TWO_STAGE = "two-stage", "Two-stage"
    ONE_STAGE = "one-stage", "One-stage"


class Tau2Method(models.TextChoices):
    REML = "REML", "REML (restricted maximum likelihood)"
    DL = "DL", "DerSimonian-Laird"
    PM = "PM", "Paule-Mandel"
    ML = "ML", "Maximum likelihood"
    HE = "HE", "Hedges"
    SJ = "SJ", "Sidik-Jonkman"
    EB = "EB", "Empirical Bayes"
    FE = "FE", "Fixed effect (no between-trial variance)"


class IntervalMethod(models.TextChoices):
    WALD = "wald", "Wald (normal)"
    HKSJ = "hksj", "Hartung-Knapp-Sidik-Jonkman"


class TrialSet(models.TextChoices):
    INCLUDED = "included", "Trials at Included"
    CHECKED = "checked", "Trials at Included or Data checked"


class Analysis(TimeStampedModel):
    """A planned pooled analysis of one of the review's outcomes: what the engine is asked, and on which trials.

    The measure comes from the outcome unless one that fits its type is chosen; the schema variables say which
    harmonised columns play treatment, outcome (or time and event), covariates and interaction.
    """

    Approach = Approach
    TrialSet = TrialSet

    review = models.ForeignKey("reviews.Review", on_delete=models.CASCADE, related_name="analyses")
    outcome = models.ForeignKey("reviews.Outcome", on_delete=models.PROTECT, related_name="analyses")
    name = models.CharField(max_length=200)
    measure = models.CharField(max_length=4, help_text="The effect measure; it must fit the outcome's type.")
    approach = models.CharField(max_length=16, choices=Approach.choices, default=Approach.TWO_STAGE)
    tau2 = models.CharField(max_length=8, choices=Tau2Method.choices, blank=True, help_text="Two-stage only.")
    ci = models.CharField(max_length=8, choices=IntervalMethod.choices, blank=True, help_text="Two-stage only.")
    quadrature = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="One-stage binary only: 1 = Laplace, n = adaptive Gauss-Hermite with n points."
    )
    treatment = models.ForeignKey(
        "harmonisation.SchemaVariable", on_delete=models.PROTECT, related_name="+", help_text="The randomised arm."
    )
    outcome_variable = models.ForeignKey(
        "harmonisation.SchemaVariable", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    time_variable = models.ForeignKey(
        "harmonisation.SchemaVariable", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event_variable = models.ForeignKey(
        "harmonisation.SchemaVariable", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    interaction = models.ForeignKey(
        "harmonisation.SchemaVariable", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trials = models.CharField(max_length=16, choices=TrialSet.choices, default=TrialSet.INCLUDED)
    aggregate = models.BooleanField(
        default=False, help_text="Pool the published results of trials without IPD beside the IPD trials."
    )
    prespecified = models.BooleanField(default=False, help_text="The analysis was pre-specified in the protocol.")
    is_primary = models.BooleanField(default=False, help_text="The outcome's primary analysis (one per outcome).")
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["review", "outcome", "-is_primary", "name", "id"]
        verbose_name_plural = "analyses"
        constraints = [
            models.UniqueConstraint(fields=["review", "name"], name="analysis_unique_name_per_review"),
            models.UniqueConstraint(
                fields=["outcome"], condition=Q(is_primary=True), name="analysis_one_primary_per_outcome"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def adjust_variables(self) -> list:
        return [covariate.variable for covariate in self.covariates.all()]


class AnalysisCovariate(models.Model):
    """A covariate the analysis adjusts for, in the order given (a schema variable in use cannot be deleted)."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="covariates")
    variable = models.ForeignKey("harmonisation.SchemaVariable", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["analysis", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["analysis", "variable"], name="analysis_covariate_once"),
        ]

    def __str__(self) -> str:
        return f"{self.analysis}: {self.variable}"


class RunKind(models.TextChoices):
    ANALYSIS = "analysis", "Analysis"
    SENSITIVITY = "sensitivity", "Sensitivity analyses"


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class AnalysisRun(models.Model):
    """One computation of an analysis (or of its sensitivity family) on a job of the `analysis` queue.

    It keeps everything needed to reproduce it: the trials and the SHA-256 of the harmonised tables it read,
    the aggregate rows, the exact spec given to the engine (without `data`: the input is the named tables
    concatenated with a `trial` column holding each trial's id), the engine's version and its result unchanged.
    """

    Kind = RunKind
    State = RunState

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="runs")
    review = models.ForeignKey("reviews.Review", on_delete=models.CASCADE, related_name="analysis_runs")
    kind = models.CharField(max_length=16, choices=RunKind.choices, default=RunKind.ANALYSIS)
    job = models.OneToOneField("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    spec = models.JSONField(default=dict, help_text="The engine spec, without `data`.")
    inputs = models.JSONField(
        default=list, help_text='Per IPD trial: {"trial", "harmonised_table", "sha256", "n", "arms"}.'
    )
    left_out = models.JSONField(default=list, help_text='Trials meant to enter that could not: {"trial", "reason"}.')
    aggregate_rows = models.JSONField(default=list, help_text="Published results pooled beside the IPD trials.")
    input_sha256 = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of the spec and the inputs.")
    engine_version = models.CharField(max_length=32, blank=True)
    result = models.JSONField(null=True, blank=True, help_text="The engine's result object, exactly as returned.")
    summary = models.JSONField(
        default=dict, blank=True, help_text="Per trial at run time: arm sizes, events and integrity state; and more."
    )
    changes = models.JSONField(default=dict, blank=True, help_text="What changed since the previous run.")
    engine_seconds = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["analysis", "kind", "state"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run #{self.pk} of {self.analysis}"
