"""API serializers for integrity checks: they render; writes go through the services."""

from rest_framework import serializers

from apps.checks import selectors
from apps.checks.models import CheckResult, CheckRun, CheckSettings, Finding, QueryMessage
from apps.checks.services import SETTINGS_FIELDS


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


class CheckResultSummarySerializer(serializers.ModelSerializer):
    finding = serializers.SerializerMethodField()

    class Meta:
        model = CheckResult
        fields = ["id", "code", "title", "status", "sentence", "affected_count", "finding"]

    def get_finding(self, result) -> int | None:
        finding = getattr(result, "finding", None)
        return finding.pk if finding is not None else None


class CheckResultSerializer(CheckResultSummarySerializer):
    affected_row_ids_stored = serializers.SerializerMethodField()

    class Meta:
        model = CheckResult
        fields = [
            "id",
            "run",
            "code",
            "title",
            "status",
            "sentence",
            "figures",
            "affected_count",
            "affected_row_ids_stored",
            "finding",
        ]

    def get_affected_row_ids_stored(self, result) -> int:
        return len(result.affected_row_ids)


class CheckRunSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(source="job.progress", default=0, read_only=True)
    progress_message = serializers.CharField(source="job.progress_message", default="", read_only=True)
    attempts = serializers.IntegerField(source="job.attempts", default=0, read_only=True)
    harmonised_table_sha256 = serializers.CharField(source="harmonised_table.sha256", read_only=True)

    class Meta:
        model = CheckRun
        fields = [
            "id",
            "review",
            "trial",
            "harmonised_table",
            "harmonised_table_sha256",
            "job",
            "trigger",
            "state",
            "progress",
            "progress_message",
            "attempts",
            "error",
            "code_version",
            "engine_version",
            "n_rows",
            "seconds",
            "created_at",
            "started_at",
            "finished_at",
        ]


class CheckRunDetailSerializer(CheckRunSerializer):
    results = CheckResultSummarySerializer(many=True, read_only=True)

    class Meta(CheckRunSerializer.Meta):
        fields = [*CheckRunSerializer.Meta.fields, "settings_used", "results"]


class QueryMessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = QueryMessage
        fields = ["id", "author", "body", "created_at"]

    def get_author(self, message) -> str | None:
        return _username(message.author)


class FindingSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="result.code", read_only=True)
    title = serializers.CharField(source="result.title", read_only=True)
    check_status = serializers.CharField(source="result.status", read_only=True)
    sentence = serializers.CharField(source="result.sentence", read_only=True)
    run = serializers.IntegerField(source="result.run_id", read_only=True)
    resolved_by = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "trial",
            "run",
            "result",
            "code",
            "title",
            "check_status",
            "sentence",
            "status",
            "resolution_note",
            "resolved_by",
            "resolved_at",
            "superseded_by_run",
            "created_at",
            "updated_at",
        ]

    def get_resolved_by(self, finding) -> str | None:
        return _username(finding.resolved_by)


class FindingDetailSerializer(FindingSerializer):
    messages = QueryMessageSerializer(many=True, read_only=True)

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "messages"]


class QueryMessageRequestSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10000, trim_whitespace=True)


class FindingResolveRequestSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=10000, trim_whitespace=True, help_text="How the finding was resolved.")


class CheckSettingsSerializer(serializers.ModelSerializer):
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null until first changed.")

    class Meta:
        model = CheckSettings
        fields = ["trial", *SETTINGS_FIELDS, "updated_at"]
        read_only_fields = ["trial", "updated_at"]


class AffectedRowsSerializer(serializers.Serializer):
    result = serializers.IntegerField()
    affected_count = serializers.IntegerField()
    shown = serializers.IntegerField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.DictField())


class IntegrityCountsSerializer(serializers.Serializer):
    trials = serializers.IntegerField()
    trials_checked = serializers.IntegerField()
    trials_with_issues = serializers.IntegerField()
    issues = serializers.IntegerField()
    issues_resolved = serializers.IntegerField()
    trials_out_of_date = serializers.IntegerField(help_text="Trials with newer data or rules than their checks.")


class OutOfDateSerializer(serializers.Serializer):
    reason = serializers.CharField()
    action = serializers.CharField(
        help_text=f"{selectors.REAPPLY}, {selectors.APPLY_NEWER}, {selectors.MAP_NEWER_VERSION} or "
        f"{selectors.AWAIT_PARSE} (the data are being read again; apply the mapping once they are parsed)."
    )
    mapping = serializers.IntegerField(help_text="The mapping to apply, or to copy the rules of.")


CHECK_STATES = [
    selectors.NO_TABLE,
    selectors.NEVER_CHECKED,
    selectors.CHECKS_RUNNING,
    selectors.RUN_FAILED,
    selectors.UNRESOLVED,
    selectors.CHECKED,
]


class IntegrityTrialSerializer(serializers.Serializer):
    trial = serializers.IntegerField()
    title = serializers.CharField()
    run = serializers.IntegerField(allow_null=True)
    statuses = serializers.DictField(child=serializers.CharField())
    open_findings = serializers.IntegerField()
    check_state = serializers.CharField(
        help_text=f"Where the newest harmonised table stands with its checks: {', '.join(CHECK_STATES)}."
    )
    check_message = serializers.CharField(help_text="What that state means and what to do.")
    out_of_date = OutOfDateSerializer(allow_null=True)


class TrialCheckStateSerializer(serializers.Serializer):
    check_state = serializers.CharField(
        help_text=f"Where the newest harmonised table stands with its checks: {', '.join(CHECK_STATES)}."
    )
    check_message = serializers.CharField(help_text="What that state means and what to do.")
    harmonised_table = serializers.IntegerField(allow_null=True, help_text="The trial's newest harmonised table.")
    run = serializers.IntegerField(allow_null=True, help_text="That table's newest check run.")
    unresolved_findings = serializers.ListField(child=serializers.IntegerField())
    out_of_date = OutOfDateSerializer(allow_null=True)


class RederivationSerializer(serializers.Serializer):
    trial = serializers.IntegerField()
    measure = serializers.CharField()
    published = serializers.DictField()
    recomputed = serializers.DictField()
    difference = serializers.FloatField(allow_null=True)
    relative_difference = serializers.FloatField(allow_null=True)
    verdict = serializers.CharField()


class ReviewIntegritySerializer(serializers.Serializer):
    counts = IntegrityCountsSerializer()
    trials = IntegrityTrialSerializer(many=True)
    rederivation = RederivationSerializer(many=True)
