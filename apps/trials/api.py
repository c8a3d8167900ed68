"""REST endpoints for the tracking of trials: trials, their status, contacts, contact attempts, agreements and
ethics approvals, and the review's tracking summary and history. Each one parses, checks access with
apps.trials.access, calls one service or selector, and renders. Lists filter in get_queryset, so other
reviews' objects answer 404, never 403."""

import hashlib
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import FileResponse
from django.utils.functional import cached_property
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from apps.accounts.api import ReviewChildMixin
from apps.core.api import DETAIL_METHODS, NestedQuerysetMixin, deny
from apps.core.cache_versions import review_cache_version
from apps.core.models import AuditEvent
from apps.trials import access, filters, selectors, serializers
from apps.trials import services as trial_services
from apps.trials.models import Agreement, Contact, ContactAttempt, EthicsApproval, StatusTransition, Trial


class ReviewSummaryView(ReviewChildMixin, generics.GenericAPIView):
    """The review at a glance: trials and participants per status, response rate, follow-ups due today and
    agreements and approvals expiring within IPD_EXPIRY_WARNING_DAYS (contributors: their trials only)."""

    queryset = Trial.objects.none()
    serializer_class = serializers.ReviewSummarySerializer
    pagination_class = None
    filter_backends: list = []

    def get(self, request, review_id):
        user = request.user
        expiring = selectors.expiring_soon(self.review, days=settings.IPD_EXPIRY_WARNING_DAYS, user=user)
        summary = {
            "pipeline": selectors.review_pipeline(self.review, user=user),
            "response_rate": selectors.review_response_rate(self.review, user=user),
            "followups_due": selectors.followups_due(self.review, user=user),
            "agreements_expiring": expiring.agreements,
            "approvals_expiring": expiring.approvals,
        }
        return Response(self.get_serializer(summary).data)


class ReviewHistoryView(ReviewChildMixin, generics.ListAPIView):
    """Audit events of the review, newest first (contributors see those of their trials)."""

    queryset = AuditEvent.objects.none()
    serializer_class = serializers.AuditEventSerializer
    filterset_class = filters.AuditEventFilter
    search_fields = ["object_repr"]

    def visible_queryset(self):
        return selectors.review_history(self.review, self.request.user)


class TrialListView(ReviewChildMixin, generics.ListCreateAPIView):
    """Trials of a review you may see (contributors: only those assigned to them)."""

    queryset = Trial.objects.none()
    serializer_class = serializers.TrialSerializer
    filterset_class = filters.TrialFilter
    search_fields = ["title", "registry_id", "citation", "doi"]
    ordering_fields = ["title", "year", "n_randomised", "status", "created_at"]

    def visible_queryset(self):
        return selectors.trial_list(self.request.user, self.review)

    def list(self, request, *args, **kwargs):
        # Answers are cached for five minutes under the review's version, per user and query string: any
        # audited write in the review makes a new key (apps.core.cache_versions).
        version = review_cache_version(self.review.pk)
        query = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"api-trial-list:{self.review.pk}:{request.user.pk}:{version}:{query}"
        data = cache.get(key)
        if data is None:
            data = super().list(request, *args, **kwargs).data
            cache.set(key, data, timeout=300)
        return Response(data)

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method == "POST" and not access.can_create_trial(request.user, self.review):
            deny("Only coordinators and reviewers can add trials.")

    def perform_create(self, serializer):
        serializer.instance = trial_services.trial_create(
            review=self.review, actor=self.request.user, **serializer.validated_data
        )


class TrialDetailView(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = serializers.TrialSerializer
    http_method_names = DETAIL_METHODS

    def get_queryset(self):
        return access.trials_for_user(self.request.user)

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method == "DELETE" and not access.can_delete_trial(request.user, obj):
            deny("Only the review's coordinators can delete trials.")
        if request.method == "PATCH" and not isinstance(request.data, Mapping):
            raise ValidationError({"non_field_errors": ["Expected an object of the trial's fields."]})
        if request.method == "PATCH" and not access.can_edit_trial_fields(request.user, obj, request.data.keys()):
            deny("Your role cannot change these fields of the trial.")

    def perform_update(self, serializer):
        serializer.instance = trial_services.trial_update(
            trial=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        trial_services.trial_delete(trial=instance, actor=self.request.user)


class TrialChildMixin(NestedQuerysetMixin):
    """Views nested under /trials/{trial_id}/; the trial must be visible to the user, else 404."""

    @cached_property
    def trial(self):
        return access.trial_get_for_user(self.request.user, self.kwargs["trial_id"])


class TrialTransitionView(TrialChildMixin, generics.GenericAPIView):
    """Move the trial to another status. Refused moves answer 400 and name the allowed next states."""

    serializer_class = serializers.TransitionRequestSerializer

    @extend_schema(request=serializers.TransitionRequestSerializer, responses={201: serializers.TrialSerializer})
    def post(self, request, trial_id):
        if not access.can_edit_tracking(request.user, self.trial):
            deny("Only coordinators and reviewers can change a trial's status.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transition = trial_services.trial_transition(trial=self.trial, actor=request.user, **serializer.validated_data)
        output = serializers.TrialSerializer(transition.trial, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)


class TrialTransitionListView(TrialChildMixin, generics.ListAPIView):
    queryset = StatusTransition.objects.none()
    serializer_class = serializers.StatusTransitionSerializer
    filterset_fields = ["to_status", "from_status"]

    def visible_queryset(self):
        return self.trial.transitions.select_related("actor")


class TrialHistoryView(TrialChildMixin, generics.ListAPIView):
    """Audit events of the trial and its records, newest first."""

    queryset = AuditEvent.objects.none()
    serializer_class = serializers.AuditEventSerializer
    filterset_class = filters.AuditEventFilter
    search_fields = ["object_repr"]

    def visible_queryset(self):
        return selectors.trial_history(self.trial)


class TrackingListView(TrialChildMixin, generics.ListCreateAPIView):
    """Base for the tracking records of a trial: reads for everyone who sees the trial."""

    def may_create(self, user, trial) -> bool:
        return access.can_edit_tracking(user, trial)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["trial"] = self.trial
        return context

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method == "POST" and not self.may_create(request.user, self.trial):
            deny("Your role cannot add this record to this trial.")


class TrackingDetailView(generics.RetrieveUpdateDestroyAPIView):
    """Base for one tracking record: tracking editors change and delete it."""

    http_method_names = DETAIL_METHODS
    model = None

    def get_queryset(self):
        return self.model.objects.filter(trial__in=access.trials_for_user(self.request.user)).select_related(
            "trial__review"
        )

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method not in SAFE_METHODS and not access.can_edit_tracking(request.user, obj.trial):
            deny("Only coordinators and reviewers can change or delete this record.")


class ContactListView(TrackingListView):
    queryset = Contact.objects.none()
    serializer_class = serializers.ContactSerializer
    filterset_fields = ["role"]
    search_fields = ["name", "email", "institution"]

    def may_create(self, user, trial) -> bool:
        return access.can_log_contact(user, trial)

    def visible_queryset(self):
        return self.trial.contacts.all()

    def perform_create(self, serializer):
        serializer.instance = trial_services.contact_create(
            trial=self.trial, actor=self.request.user, **serializer.validated_data
        )


class ContactDetailView(TrackingDetailView):
    serializer_class = serializers.ContactSerializer
    model = Contact

    def perform_update(self, serializer):
        serializer.instance = trial_services.contact_update(
            contact=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        trial_services.contact_delete(contact=instance, actor=self.request.user)


class ContactAttemptListView(TrackingListView):
    queryset = ContactAttempt.objects.none()
    serializer_class = serializers.ContactAttemptSerializer
    filterset_class = filters.ContactAttemptFilter
    search_fields = ["note", "contact__name"]
    ordering_fields = ["date", "next_follow_up"]

    def may_create(self, user, trial) -> bool:
        return access.can_log_contact(user, trial)

    def visible_queryset(self):
        return self.trial.contact_attempts.select_related("contact", "owner", "created_by")

    def perform_create(self, serializer):
        serializer.instance = trial_services.contact_attempt_create(
            trial=self.trial, actor=self.request.user, **serializer.validated_data
        )


class ContactAttemptDetailView(TrackingDetailView):
    serializer_class = serializers.ContactAttemptSerializer
    model = ContactAttempt

    def perform_update(self, serializer):
        serializer.instance = trial_services.contact_attempt_update(
            attempt=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        trial_services.contact_attempt_delete(attempt=instance, actor=self.request.user)


class AgreementListView(TrackingListView):
    queryset = Agreement.objects.none()
    serializer_class = serializers.AgreementSerializer
    filterset_fields = ["status", "platform"]
    search_fields = ["title", "conditions"]

    def visible_queryset(self):
        return self.trial.agreements.all()

    def perform_create(self, serializer):
        serializer.instance = trial_services.agreement_create(
            trial=self.trial, actor=self.request.user, **serializer.validated_data
        )


class AgreementDetailView(TrackingDetailView):
    serializer_class = serializers.AgreementSerializer
    model = Agreement

    def perform_update(self, serializer):
        serializer.instance = trial_services.agreement_update(
            agreement=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        trial_services.agreement_delete(agreement=instance, actor=self.request.user)


class AgreementDocumentView(generics.GenericAPIView):
    """Download an agreement's document (as an attachment); other reviews' agreements answer 404."""

    queryset = Agreement.objects.none()
    serializer_class = serializers.AgreementSerializer

    def get_queryset(self):
        return Agreement.objects.filter(trial__in=access.trials_for_user(self.request.user)).exclude(document="")

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        agreement = self.get_object()
        return FileResponse(
            agreement.document.open("rb"),
            as_attachment=True,
            filename=Path(agreement.document.name).name,
            content_type="application/octet-stream",
        )


class ApprovalListView(TrackingListView):
    queryset = EthicsApproval.objects.none()
    serializer_class = serializers.EthicsApprovalSerializer
    filterset_fields = ["side"]
    search_fields = ["body", "reference"]

    def visible_queryset(self):
        return self.trial.approvals.all()

    def perform_create(self, serializer):
        serializer.instance = trial_services.approval_create(
            trial=self.trial, actor=self.request.user, **serializer.validated_data
        )


class ApprovalDetailView(TrackingDetailView):
    serializer_class = serializers.EthicsApprovalSerializer
    model = EthicsApproval

    def perform_update(self, serializer):
        serializer.instance = trial_services.approval_update(
            approval=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        trial_services.approval_delete(approval=instance, actor=self.request.user)
