"""Serializers of the trials API: they parse and render; writes go through the services."""

from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.models import AuditEvent
from apps.trials import lifecycle
from apps.trials.models import Agreement, Contact, ContactAttempt, EthicsApproval, StatusTransition, Trial
from apps.trials.services import TRIAL_FIELDS

User = get_user_model()


class TrialSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    # Read-only fields lose their blank choice in DRF's defaults; "" (no exit) is a value this field returns.
    exit_reason = serializers.ChoiceField(choices=lifecycle.ExitReason.choices, allow_blank=True, read_only=True)
    allowed_next = serializers.SerializerMethodField(help_text="Statuses this trial may move to next.")

    class Meta:
        model = Trial
        fields = [
            "id",
            "review",
            *TRIAL_FIELDS,
            "status",
            "status_label",
            "exit_reason",
            "exit_note",
            "status_changed_at",
            "allowed_next",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "review",
            "status",
            "exit_reason",
            "exit_note",
            "status_changed_at",
            "created_at",
            "updated_at",
        ]

    def get_allowed_next(self, trial) -> list[str]:
        return list(lifecycle.allowed_next(trial.status))

    def validate(self, attrs):
        # Read-only fields are normally dropped in silence; a status sent here is a mistake worth naming.
        moved = sorted({"status", "exit_reason", "exit_note"} & set(self.initial_data))
        if moved:
            raise serializers.ValidationError(
                {name: "The status changes only through POST /api/v1/trials/{id}/transition/." for name in moved}
            )
        return attrs


class TransitionRequestSerializer(serializers.Serializer):
    to_status = serializers.CharField(
        help_text="Target status; see the trial's allowed_next. Exits: " + ", ".join(lifecycle.EXITS) + "."
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Reason code, required for exits."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class StatusTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    reason = serializers.ChoiceField(choices=lifecycle.ExitReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = StatusTransition
        fields = ["id", "trial", "from_status", "to_status", "reason", "note", "actor", "created_at"]
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "trial", "name", "role", "email", "institution", "note", "created_at", "updated_at"]
        read_only_fields = ["trial", "created_at", "updated_at"]


class ContactAttemptSerializer(serializers.ModelSerializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    def get_fields(self):
        # Contacts of this trial and members of its review only: one "does not exist" for anything else, so
        # ids and usernames of other reviews cannot be probed.
        fields = super().get_fields()
        trial = self.context.get("trial") or getattr(self.instance, "trial", None)
        if trial is None:
            fields["contact"].queryset = Contact.objects.none()
            fields["owner"].queryset = User.objects.none()
        else:
            fields["contact"].queryset = Contact.objects.filter(trial=trial)
            fields["owner"].queryset = User.objects.filter(memberships__review_id=trial.review_id).distinct()
        return fields

    class Meta:
        model = ContactAttempt
        fields = [
            "id",
            "trial",
            "contact",
            "date",
            "channel",
            "outcome",
            "next_follow_up",
            "owner",
            "note",
            "created_by",
            "notified_at",
            "created_at",
        ]
        read_only_fields = ["trial", "created_by", "notified_at", "created_at"]


class AgreementDocumentField(serializers.FileField):
    """Uploads as a file; reads as the access-checked download link, never the file's storage address."""

    def to_representation(self, value):
        if not value:
            return None
        url = reverse("api-agreement-document", args=[value.instance.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class AgreementSerializer(serializers.ModelSerializer):
    document = AgreementDocumentField(
        required=False,
        allow_null=True,
        help_text="Upload the signed agreement (PDF, doc, docx, odt); reads as its download link. Null removes it from "
        "the agreement (the file stays stored, and the history names it).",
    )

    class Meta:
        model = Agreement
        fields = [
            "id",
            "trial",
            "title",
            "platform",
            "status",
            "signed_on",
            "expires_on",
            "document",
            "conditions",
            "data_may_leave_platform",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["trial", "created_at", "updated_at"]


class EthicsApprovalSerializer(serializers.ModelSerializer):
    class Meta:
        model = EthicsApproval
        fields = [
            "id",
            "trial",
            "side",
            "body",
            "reference",
            "approved_on",
            "expires_on",
            "note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["trial", "created_at", "updated_at"]


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    before = serializers.SerializerMethodField()
    after = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "review",
            "trial",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
    def get_before(self, event):
        return event.before

    @extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
    def get_after(self, event):
        return event.after


class PipelineRowSerializer(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()
    is_exit = serializers.BooleanField()
    trials = serializers.IntegerField()
    participants = serializers.IntegerField()


class ResponseRateSerializer(serializers.Serializer):
    contacted = serializers.IntegerField(help_text="Trials ever contacted.")
    responded = serializers.IntegerField(help_text="Of those, trials that replied, agreeing or not.")
    rate = serializers.FloatField(allow_null=True)


class ReviewSummarySerializer(serializers.Serializer):
    """What the review's overview page shows: the pipeline, the response rate, what is due and expiring."""

    pipeline = PipelineRowSerializer(many=True)
    response_rate = ResponseRateSerializer()
    followups_due = ContactAttemptSerializer(many=True)
    agreements_expiring = AgreementSerializer(many=True)
    approvals_expiring = EthicsApprovalSerializer(many=True)
