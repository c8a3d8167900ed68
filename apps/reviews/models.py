from django.db import models

from apps.core.models import TimeStampedModel


class ReviewStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    ACQUIRING = "acquiring", "Acquiring data"
    ANALYSING = "analysing", "Analysing"
    REPORTING = "reporting", "Reporting"
    COMPLETED = "completed", "Completed"


class Review(TimeStampedModel):
    Status = ReviewStatus

    title = models.CharField(max_length=300)
    question = models.TextField(blank=True)
    registration = models.CharField(max_length=100, blank=True, help_text="Registry and number, e.g. PROSPERO id.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNING)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class Outcome(TimeStampedModel):
    class Type(models.TextChoices):
        CONTINUOUS = "continuous", "Continuous"
        BINARY = "binary", "Binary"
        SURVIVAL = "survival", "Time to event"

    class Measure(models.TextChoices):
        MD = "MD", "Mean difference"
        OR = "OR", "Odds ratio"
        RR = "RR", "Risk ratio"
        RD = "RD", "Risk difference"
        HR = "HR", "Hazard ratio"

    # Which effect measures make sense for each outcome type.
    MEASURES_BY_TYPE = {
        Type.CONTINUOUS: {Measure.MD},
        Type.BINARY: {Measure.OR, Measure.RR, Measure.RD},
        Type.SURVIVAL: {Measure.HR},
    }

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="outcomes")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=Type.choices)
    measure = models.CharField(max_length=4, choices=Measure.choices)
    is_primary = models.BooleanField(default=False)
    higher_is_better = models.BooleanField(
        default=False,
        help_text="Higher values of the measure are good for participants: a larger mean, or, for binary and "
        "time-to-event outcomes, more (or earlier) events because the event is a good one (recovery, remission). "
        "Leave it off for death, relapse or pain. Forest plots put 'favours intervention' on the side this says.",
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["review", "-is_primary", "name"]
        constraints = [models.UniqueConstraint(fields=["review", "name"], name="outcome_unique_name_per_review")]

    def __str__(self) -> str:
        return f"{self.name} ({self.measure})"
