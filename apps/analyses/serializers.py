"""API serializers for analyses: they render; definitions and runs go through the services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.analyses import selectors
from apps.analyses.models import Analysis, AnalysisRun, Approach, IntervalMethod, Tau2Method, TrialSet


def _variable_name(variable) -> str | None:
    return variable.name if variable is not None else None


class AnalysisRunBriefSerializer(serializers.ModelSerializer):
    status = serializers.CharField(source="state", read_only=True)
    progress = serializers.SerializerMethodField()
    headline = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisRun
        fields = ["id", "kind", "status", "progress", "error", "headline", "created_at", "finished_at"]

    @extend_schema_field(serializers.IntegerField())
    def get_progress(self, run) -> int:
        return run.job.progress if run.job else (100 if run.state == AnalysisRun.State.SUCCEEDED else 0)

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_headline(self, run):
        return selectors.headline(run)


class AnalysisSerializer(serializers.ModelSerializer):
    outcome_name = serializers.CharField(source="outcome.name", read_only=True)
    treatment = serializers.SerializerMethodField()
    outcome_variable = serializers.SerializerMethodField()
    time_variable = serializers.SerializerMethodField()
    event_variable = serializers.SerializerMethodField()
    interaction = serializers.SerializerMethodField()
    adjust = serializers.SerializerMethodField()
    newest_run = serializers.SerializerMethodField()

    class Meta:
        model = Analysis
        fields = [
            "id",
            "review",
            "name",
            "outcome",
            "outcome_name",
            "measure",
            "approach",
            "tau2",
            "ci",
            "quadrature",
            "treatment",
            "outcome_variable",
            "time_variable",
            "event_variable",
            "adjust",
            "interaction",
            "trials",
            "aggregate",
            "prespecified",
            "is_primary",
            "description",
            "newest_run",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.CharField())
    def get_treatment(self, analysis) -> str:
        return analysis.treatment.name

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_outcome_variable(self, analysis):
        return _variable_name(analysis.outcome_variable)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_time_variable(self, analysis):
        return _variable_name(analysis.time_variable)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_event_variable(self, analysis):
        return _variable_name(analysis.event_variable)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_interaction(self, analysis):
        return _variable_name(analysis.interaction)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_adjust(self, analysis) -> list[str]:
        return [variable.name for variable in analysis.adjust_variables]

    @extend_schema_field(AnalysisRunBriefSerializer(allow_null=True))
    def get_newest_run(self, analysis):
        newest = self.context.get("newest_runs")
        run = newest.get(analysis.pk) if newest is not None else selectors.newest_run(analysis)
        return AnalysisRunBriefSerializer(run).data if run else None


class AnalysisRequestSerializer(serializers.Serializer):
    """A new analysis, or (PATCH) the fields to change; schema variables are given by name."""

    name = serializers.CharField(required=False, max_length=200)
    outcome = serializers.IntegerField(required=False, help_text="The id of one of the review's outcomes.")
    measure = serializers.CharField(
        required=False, allow_blank=True, help_text="Empty: the outcome's; it must fit the outcome's type."
    )
    approach = serializers.ChoiceField(choices=Approach.choices, required=False)
    tau2 = serializers.CharField(
        required=False, allow_blank=True, help_text=f"Two-stage only: {', '.join(Tau2Method.values)}; default REML."
    )
    ci = serializers.CharField(
        required=False, allow_blank=True, help_text=f"Two-stage only: {', '.join(IntervalMethod.values)}."
    )
    quadrature = serializers.IntegerField(
        required=False, allow_null=True, help_text="One-stage binary only: 1 = Laplace (default), n = Gauss-Hermite."
    )
    treatment = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    outcome_variable = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    time_variable = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    event_variable = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    adjust = serializers.ListField(child=serializers.CharField(), required=False)
    interaction = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    trials = serializers.ChoiceField(choices=TrialSet.choices, required=False)
    aggregate = serializers.BooleanField(required=False)
    prespecified = serializers.BooleanField(required=False)
    is_primary = serializers.BooleanField(required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class AnalysisRunSerializer(serializers.ModelSerializer):
    """A run: its state, and everything needed to reproduce it; `result` is the engine's, unchanged."""

    status = serializers.CharField(source="state", read_only=True)
    progress = serializers.SerializerMethodField()
    progress_message = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisRun
        fields = [
            "id",
            "analysis",
            "kind",
            "status",
            "progress",
            "progress_message",
            "error",
            "spec",
            "engine_version",
            "result",
            "inputs",
            "left_out",
            "aggregate_rows",
            "summary",
            "changes",
            "input_sha256",
            "engine_seconds",
            "created_at",
            "started_at",
            "finished_at",
        ]

    @extend_schema_field(serializers.IntegerField())
    def get_progress(self, run) -> int:
        return run.job.progress if run.job else (100 if run.state == AnalysisRun.State.SUCCEEDED else 0)

    @extend_schema_field(serializers.CharField())
    def get_progress_message(self, run) -> str:
        return run.job.progress_message if run.job else ""


class SensitivityEntrySerializer(serializers.Serializer):
    label = serializers.CharField()
    changed = serializers.CharField()
    approach = serializers.CharField()
    k = serializers.IntegerField(allow_null=True)
    pooled = serializers.DictField(allow_null=True)
    heterogeneity = serializers.DictField(allow_null=True)
    prediction_interval = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    error = serializers.CharField(allow_null=True)
    note = serializers.CharField(allow_blank=True)


class SensitivitySerializer(serializers.Serializer):
    """The newest sensitivity family of an analysis."""

    run = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    error = serializers.CharField(allow_blank=True)
    analyses = SensitivityEntrySerializer(many=True)
    leave_one_out = SensitivityEntrySerializer(many=True)
    comparison = serializers.DictField(allow_null=True)
    left_out = serializers.ListField(child=serializers.DictField(), help_text="IPD trials that could not enter.")
    aggregate_left_out = serializers.ListField(
        child=serializers.DictField(), help_text="Trials without IPD whose published result could not be used."
    )
