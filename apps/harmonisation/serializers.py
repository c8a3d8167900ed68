"""API serializers for harmonisation: they parse and render; writes go through the services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.harmonisation.models import HarmonisedTable, Mapping, MappingRule, SchemaVariable
from apps.harmonisation.services import SCHEMA_FIELDS
from apps.jobs.models import Job


class SchemaVariableSerializer(serializers.ModelSerializer):
    allowed_values = serializers.JSONField(
        required=False, help_text='Codes a value may take, e.g. [0, 1] or ["M", "F"]; empty for any value.'
    )

    class Meta:
        model = SchemaVariable
        fields = ["id", "review", *SCHEMA_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["review", "created_at", "updated_at"]
        # Uniqueness and ranges are checked by the service, with the same messages for the pages.
        validators: list = []

    def get_unique_together_validators(self):
        return []


class HarmonisationJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "state",
            "progress",
            "progress_message",
            "attempts",
            "max_attempts",
            "error",
            "result",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class MappingRuleSerializer(serializers.ModelSerializer):
    target_name = serializers.CharField(source="target.name", read_only=True)
    set_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    superseded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    is_current = serializers.BooleanField(read_only=True)
    origin_text = serializers.CharField(
        read_only=True, help_text='How the rule came to be: "written by ..." or "suggested (...), accepted by ...".'
    )
    warnings = serializers.SerializerMethodField(help_text="What is wrong with the rule though it runs.")

    class Meta:
        model = MappingRule
        fields = [
            "id",
            "mapping",
            "target",
            "target_name",
            "revision",
            "mapping_revision",
            "category",
            "source_variables",
            "parameters",
            "rationale",
            "query_reference",
            "status",
            "origin",
            "origin_text",
            "suggestion",
            "warnings",
            "set_by",
            "set_at",
            "is_current",
            "superseded_at",
            "superseded_by",
        ]
        read_only_fields = fields

    def get_warnings(self, rule) -> list[str]:
        from apps.harmonisation.rules import rule_warnings

        return rule_warnings(rule.as_rule(), rule.target.as_target())


class RuleSetRequestSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="Id of the schema variable this rule fills.")
    category = serializers.ChoiceField(choices=MappingRule.Category.choices)
    source_variables = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    parameters = serializers.DictField(
        required=False,
        default=dict,
        help_text=(
            'recode: {"map": {code: target code}, "missing": [codes]}; treatment_arms: {"arms": {...}}; '
            'unit_conversion: {"from", "to", "analyte"}; linear_scale: {"slope", "intercept", "source"}; '
            'expression: {"expression"}.'
        ),
    )
    rationale = serializers.CharField(required=False, allow_blank=True, default="")
    query_reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    status = serializers.ChoiceField(choices=MappingRule.Status.choices, required=False, allow_blank=True, default="")


class HarmonisedTableSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = HarmonisedTable
        fields = [
            "id",
            "mapping",
            "job",
            "mapping_revision",
            "sha256",
            "code_version",
            "input_hashes",
            "n_rows",
            "n_flagged_rows",
            "flags",
            "rule_stats",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class MappingSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    source_version_number = serializers.IntegerField(source="source_version.number", read_only=True)
    source_sha256 = serializers.CharField(source="source_version.sha256", read_only=True)
    rules = serializers.SerializerMethodField(help_text="The current rule of each schema variable.")

    class Meta:
        model = Mapping
        fields = [
            "id",
            "trial",
            "source_version",
            "source_version_number",
            "source_sha256",
            "number",
            "revision",
            "note",
            "created_by",
            "created_at",
            "updated_at",
            "reviewed_by",
            "reviewed_at",
            "reviewed_revision",
            "rules",
        ]
        read_only_fields = [
            "trial",
            "number",
            "revision",
            "created_by",
            "created_at",
            "updated_at",
            "reviewed_by",
            "reviewed_at",
            "reviewed_revision",
        ]

    @extend_schema_field(MappingRuleSerializer(many=True))
    def get_rules(self, mapping):
        current = mapping.rules.filter(superseded_at=None).select_related("target", "set_by")
        return MappingRuleSerializer(current.order_by("target__position", "target__name"), many=True).data


class MappingCreateSerializer(serializers.Serializer):
    source_version = serializers.IntegerField(help_text="Id of a parsed dataset version of this trial.")
    copy_rules_from = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Id of a mapping of this trial whose rules to copy."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SuggestionSerializer(serializers.Serializer):
    target = serializers.CharField()
    source = serializers.CharField()
    score = serializers.FloatField()
    reason = serializers.CharField()
    category = serializers.CharField()
    source_variables = serializers.ListField(child=serializers.CharField())
    parameters = serializers.DictField()


class SuggestionsAcceptRequestSerializer(serializers.Serializer):
    min_score = serializers.FloatField(
        required=False,
        default=0.9,
        min_value=0,
        max_value=1,
        help_text="Accept the best suggestion of each variable without a rule when it scores at least this.",
    )


class SkippedSuggestionSerializer(serializers.Serializer):
    target = serializers.CharField()
    reason = serializers.CharField()


class SuggestionsAcceptedSerializer(serializers.Serializer):
    accepted = MappingRuleSerializer(many=True)
    skipped = SkippedSuggestionSerializer(many=True)


class PreviewSerializer(serializers.Serializer):
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField())
    errors = serializers.DictField(child=serializers.CharField())
    stats = serializers.DictField()
    n_rows = serializers.IntegerField()


class LogRowSerializer(serializers.Serializer):
    """One line of the harmonisation log: a trial x target variable (x rule revision with history)."""

    trial = serializers.CharField()
    trial_id = serializers.IntegerField()
    mapping = serializers.IntegerField()
    mapping_revision = serializers.IntegerField()
    target = serializers.CharField()
    target_role = serializers.CharField()
    input_version = serializers.IntegerField()
    input_file = serializers.CharField()
    input_sha256 = serializers.CharField()
    source_variables = serializers.CharField()
    category = serializers.CharField()
    rule = serializers.CharField()
    units_from = serializers.CharField()
    units_to = serializers.CharField()
    factor = serializers.FloatField(allow_null=True)
    offset = serializers.FloatField(allow_null=True)
    status = serializers.CharField()
    rationale = serializers.CharField()
    query_reference = serializers.CharField()
    origin = serializers.CharField(help_text='"written by ..." or "suggested (score ...), accepted by ...".')
    warnings = serializers.CharField()
    input_declarations = serializers.CharField(
        help_text="The version's declarations that change how this rule's variables are read (empty if none)."
    )
    input_declarations_sha256 = serializers.CharField(help_text="SHA-256 of those declarations as stored.")
    set_by = serializers.CharField(allow_null=True)
    set_at = serializers.CharField()
    rule_revision = serializers.IntegerField()
    current = serializers.BooleanField()
    superseded_at = serializers.CharField(allow_null=True)
    superseded_by = serializers.CharField(allow_null=True)
    reviewed_by = serializers.CharField(allow_null=True)
    reviewed_at = serializers.CharField(allow_null=True)
    applied_at = serializers.CharField(allow_null=True)
    table_sha256 = serializers.CharField(allow_null=True)
    rows = serializers.IntegerField(allow_null=True)
    rows_affected = serializers.IntegerField(allow_null=True)
    missing = serializers.IntegerField(allow_null=True)
    out_of_range = serializers.IntegerField(allow_null=True)
    flagged = serializers.IntegerField(allow_null=True)
    flagged_values = serializers.CharField(help_text="The most frequent flags with their rows, e.g. not a number.")
