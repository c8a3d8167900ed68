import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import TimeStampedModel
from apps.harmonisation import rules

variable_name_validator = RegexValidator(
    r"^[A-Za-z][A-Za-z0-9_]{0,63}$",
    "Start with a letter and use only letters, digits and underscores (at most 64 characters).",
)


class SchemaVariable(TimeStampedModel):
    """One variable of the review's common schema: what every trial's harmonised table must provide."""

    class Role(models.TextChoices):
        PARTICIPANT_ID = "participant_id", "Participant id"
        TREATMENT = "treatment", "Treatment"
        OUTCOME = "outcome", "Outcome"
        EVENT = "event", "Event"
        TIME = "time", "Time"
        COVARIATE = "covariate", "Covariate"
        RANDOMISATION_DATE = "randomisation_date", "Randomisation date"
        OTHER = "other", "Other"

    class Type(models.TextChoices):
        TEXT = rules.TEXT, "Text"
        INTEGER = rules.INTEGER, "Integer"
        NUMBER = rules.NUMBER, "Number"
        DATE = rules.DATE, "Date"
        CATEGORY = rules.CATEGORY, "Category (codes)"

    review = models.ForeignKey("reviews.Review", on_delete=models.CASCADE, related_name="schema_variables")
    name = models.CharField(max_length=64, validators=[variable_name_validator])
    label = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.COVARIATE)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.NUMBER)
    unit = models.CharField(max_length=32, blank=True)
    allowed_values = models.JSONField(
        default=list, blank=True, help_text='The codes a value may take, e.g. [0, 1] or ["M", "F"]; empty: any.'
    )
    minimum = models.FloatField(null=True, blank=True)
    maximum = models.FloatField(null=True, blank=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["review", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["review", "name"], name="schema_variable_unique_name_per_review"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """What the harmonisation needs of a variable; the admin's forms and the services both run it."""
        if not isinstance(self.allowed_values, list) or not all(
            isinstance(value, str | int | float) and not isinstance(value, bool) for value in self.allowed_values
        ):
            raise ValidationError(
                {"allowed_values": 'Give a list of codes, numbers or text, e.g. [0, 1] or ["M", "F"].'}
            )
        keys = [rules.code_key(value) for value in self.allowed_values]
        if len(set(keys)) != len(keys):
            raise ValidationError({"allowed_values": "A code is listed twice."})
        for name in ("minimum", "maximum"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValidationError({name: "Give a finite number."})
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValidationError({"maximum": "The maximum is below the minimum."})
        if (self.minimum is not None or self.maximum is not None) and self.type not in (rules.NUMBER, rules.INTEGER):
            raise ValidationError({"type": "A range applies to numbers only; use allowed values for codes."})

    def as_target(self) -> rules.Target:
        return rules.Target(
            name=self.name,
            type=self.type,
            unit=self.unit,
            allowed_values=tuple(self.allowed_values or ()),
            minimum=self.minimum,
            maximum=self.maximum,
            role=self.role,
        )


class Mapping(models.Model):
    """How one parsed version of a trial's data maps to the review's schema; its rules are the log.

    `revision` counts the rule changes: each one adds a rule version and bumps it, so a harmonised table
    records exactly which state of the log produced it.
    """

    trial = models.ForeignKey("trials.Trial", on_delete=models.CASCADE, related_name="mappings")
    source_version = models.ForeignKey("datasets.DatasetVersion", on_delete=models.PROTECT, related_name="mappings")
    number = models.PositiveIntegerField()
    revision = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="mappings_created"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="mappings_reviewed"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_revision = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["trial", "-number"]
        constraints = [models.UniqueConstraint(fields=["trial", "number"], name="mapping_unique_number_per_trial")]

    def __str__(self) -> str:
        return f"{self.trial} mapping {self.number}"


class MappingRule(models.Model):
    """One version of the rule that fills a schema variable from a trial's variables.

    A change never overwrites: it stores a new rule with the next revision and marks the previous one
    superseded, so the log's history stays readable line by line.
    """

    class Category(models.TextChoices):
        DIRECT = rules.DIRECT, "Direct mapping"
        RECODE = rules.RECODE, "Recode"
        UNIT_CONVERSION = rules.UNIT_CONVERSION, "Unit conversion"
        LINEAR_SCALE = rules.LINEAR_SCALE, "Linear scale conversion"
        EXPRESSION = rules.EXPRESSION, "Derived (expression)"
        TREATMENT_ARMS = rules.TREATMENT_ARMS, "Treatment arms"
        IMPOSSIBLE = rules.IMPOSSIBLE, "Impossible"
        UNDETERMINED = rules.UNDETERMINED, "Undetermined"

    class Status(models.TextChoices):
        COMPLETE = "complete", "Complete"
        PARTIAL = "partial", "Partial"
        IMPOSSIBLE = "impossible", "Impossible"

    class Origin(models.TextChoices):
        PERSON = "person", "Written by a person"
        SUGGESTION = "suggestion", "Suggested, accepted by a person"

    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="rules")
    target = models.ForeignKey(SchemaVariable, on_delete=models.PROTECT, related_name="rules")
    revision = models.PositiveIntegerField(default=1)
    mapping_revision = models.PositiveIntegerField(default=1)
    category = models.CharField(max_length=32, choices=Category.choices)
    source_variables = models.JSONField(default=list, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    rationale = models.TextField(blank=True)
    query_reference = models.CharField(max_length=200, blank=True, help_text="The query raised with the trial team.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.PERSON)
    # For a suggestion accepted: its source variable, score and reason as they were suggested.
    suggestion = models.JSONField(default=dict, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="mapping_rules_set"
    )
    set_at = models.DateTimeField(default=timezone.now)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["mapping", "target__position", "target__name", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["mapping", "target", "revision"], name="mapping_rule_unique_revision"),
            models.UniqueConstraint(
                fields=["mapping", "target"], condition=Q(superseded_at__isnull=True), name="mapping_rule_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} r{self.revision}: {self.get_category_display()}"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    @property
    def origin_text(self) -> str:
        """How the rule came to be, for the log: "suggested (score 0.9: same name), accepted by alice"."""
        by = self.set_by.get_username() if self.set_by else "nobody recorded"
        if self.origin != self.Origin.SUGGESTION:
            return f"written by {by}"
        score, reason = self.suggestion.get("score"), self.suggestion.get("reason", "")
        said = f" (score {score}: {reason})" if score is not None else ""
        return f"suggested{said}, accepted by {by}"

    def as_rule(self) -> rules.Rule:
        return rules.Rule(
            target=self.target.name,
            category=self.category,
            source_variables=tuple(self.source_variables or ()),
            parameters=dict(self.parameters or {}),
            key=str(self.pk),
        )


class HarmonisedTable(models.Model):
    """The table produced by applying a mapping: stored as Parquet by content hash, with what produced it."""

    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="tables")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    mapping_revision = models.PositiveIntegerField()
    storage_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    code_version = models.CharField(max_length=32)
    input_hashes = models.JSONField(
        default=dict,
        help_text="What the table was built from: SHA-256 of the source file and of the rules applied, and the name "
        "of the typed table read (which names the declarations it was read with).",
    )
    input_sha256 = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the inputs and the code version: one table per input."
    )
    n_rows = models.PositiveIntegerField()
    n_flagged_rows = models.PositiveIntegerField(default=0)
    flags = models.JSONField(default=dict, help_text="Flagged values per schema variable.")
    rule_stats = models.JSONField(default=dict, help_text="Per rule id: rows affected, missing, out of range.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mapping", "-created_at", "-id"]
        constraints = [
            # Applying the same revision to the same input twice gives the one table back; tables stored before
            # the input hash existed have none and are left as they are.
            models.UniqueConstraint(
                fields=["mapping", "mapping_revision", "input_sha256"],
                condition=~Q(input_sha256=""),
                name="harmonised_table_unique_input",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mapping} r{self.mapping_revision} ({self.n_rows} rows)"


# Module-level names for the API schema's enum names (settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
MappingRuleStatus = MappingRule.Status
MappingRuleOrigin = MappingRule.Origin
