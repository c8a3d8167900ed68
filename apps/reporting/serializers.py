"""API serializers for reporting: they describe (for the schema) and render what the selectors return."""

from rest_framework import serializers

from apps.reporting.checklist import STATUSES


class PrismaReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()
    n = serializers.IntegerField()


class PrismaBoxSerializer(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()
    section = serializers.CharField()
    studies = serializers.IntegerField()
    participants = serializers.IntegerField()
    participants_no_data = serializers.IntegerField(required=False)
    reasons = PrismaReasonSerializer(many=True)
    trials = serializers.ListField(child=serializers.IntegerField())


class PrismaExcludedStudySerializer(serializers.Serializer):
    trial = serializers.IntegerField()
    label = serializers.CharField()
    reason = serializers.CharField()


class PrismaAnalysedSideSerializer(serializers.Serializer):
    studies = serializers.IntegerField()
    participants = serializers.IntegerField()
    trials = serializers.ListField(child=serializers.IntegerField())
    studies_excluded = PrismaExcludedStudySerializer(many=True)
    participants_excluded = PrismaReasonSerializer(many=True)
    note = serializers.CharField(required=False)


class PrismaAnalysedSerializer(serializers.Serializer):
    outcome = serializers.CharField()
    outcome_id = serializers.IntegerField()
    analysis = serializers.DictField(allow_null=True)
    run = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()
    ipd = PrismaAnalysedSideSerializer(allow_null=True)
    aggregate = PrismaAnalysedSideSerializer(allow_null=True)


class PrismaRuleSerializer(serializers.Serializer):
    rule = serializers.CharField()
    left = serializers.IntegerField()
    right = serializers.DictField(child=serializers.IntegerField())
    incomplete = serializers.IntegerField()
    holds = serializers.BooleanField()


class PrismaIncompleteSerializer(serializers.Serializer):
    trial = serializers.IntegerField()
    label = serializers.CharField()
    problem = serializers.CharField()
    leaf = serializers.CharField()


class PrismaIpdSerializer(serializers.Serializer):
    boxes = PrismaBoxSerializer(many=True)
    analysed = PrismaAnalysedSerializer(many=True)
    arithmetic = PrismaRuleSerializer(many=True)
    incomplete = PrismaIncompleteSerializer(many=True)
    lists = serializers.DictField(child=serializers.IntegerField())


class ChecklistEvidenceSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)


class ChecklistItemSerializer(serializers.Serializer):
    item = serializers.CharField()
    section = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUSES)
    location = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    evidence = ChecklistEvidenceSerializer(many=True)
    updated_by = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class ChecklistCompletionSerializer(serializers.Serializer):
    not_started = serializers.IntegerField()
    drafted = serializers.IntegerField()
    done = serializers.IntegerField()
    not_applicable = serializers.IntegerField()
    total = serializers.IntegerField()
    finished = serializers.IntegerField(help_text="Items done or not applicable.")
    percent = serializers.IntegerField()


class ChecklistItemUpdateSerializer(serializers.Serializer):
    status = serializers.CharField(required=False)
    location = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)
