"""REST API views. Each one parses, checks access with apps.accounts.access, calls one service or selector,
and renders. Lists filter in get_queryset, so other reviews' objects answer 404, never 403."""

import hashlib
from collections.abc import Mapping
from pathlib import Path

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.cache import cache
from django.http import FileResponse
from django.utils.functional import cached_property
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import access, invitations, tokens
from apps.accounts import services as account_services
from apps.accounts.models import Invitation, Membership
from apps.accounts.views import lockout_response
from apps.api import filters, serializers
from apps.core.cache_versions import review_cache_version
from apps.core.errors import NotFound, PermissionDenied
from apps.core.models import AuditEvent, DataAccessEvent
from apps.core.throttling import TokenRateThrottle
from apps.reviews import services as review_services
from apps.reviews.models import Outcome
from apps.trials import selectors
from apps.trials import services as trial_services
from apps.trials.models import Agreement, Contact, ContactAttempt, EthicsApproval, StatusTransition, Trial

DETAIL_METHODS = ["get", "patch", "delete", "head", "options"]


def _deny(message: str):
    raise PermissionDenied(message)


def _attempted_username(data) -> str | None:
    username = data.get("username") if hasattr(data, "get") else None
    return username if isinstance(username, str) else None


class TokenCreateView(APIView):
    """Exchange a username and password for a new API token (send it as `Authorization: Token <token>`),
    valid until `expiry`. Too many failures for the account or from the address lock both out for a while
    (429), the right password included."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TokenRateThrottle]

    @extend_schema(
        request=serializers.TokenRequestSerializer,
        responses={200: serializers.TokenResponseSerializer, 429: serializers.ErrorSerializer},
    )
    def post(self, request):
        # django-axes flags a refused attempt on the request it was given: DRF's, not Django's.
        credentials = {"username": _attempted_username(request.data)}
        if AxesProxyHandler.is_locked(request, credentials):
            return lockout_response(request._request)
        serializer = serializers.TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, expiry = tokens.token_create(user=user)
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response({"token": token, "expiry": expiry})


class LogoutView(APIView):
    """Revoke the token this request was sent with (a session is ended instead)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        else:
            logout(request._request)
        user_logged_out.send(sender=request.user.__class__, request=request._request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Reviews, members, outcomes -------------------------------------------------------------------------------


class ReviewListView(generics.ListCreateAPIView):
    """Reviews you are a member of. Creating a review makes you its coordinator."""

    serializer_class = serializers.ReviewSerializer
    filterset_fields = ["status"]
    search_fields = ["title", "registration", "question"]
    ordering_fields = ["title", "created_at"]

    def get_queryset(self):
        return access.reviews_for_user(self.request.user).order_by("title", "id")

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method == "POST" and not access.can_create_review(request.user):
            _deny("Creating a review needs the permission a site administrator grants (reviews | Can add review).")

    def perform_create(self, serializer):
        serializer.instance = review_services.review_create(actor=self.request.user, **serializer.validated_data)


class ReviewDetailView(generics.RetrieveUpdateAPIView):
    serializer_class = serializers.ReviewSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return access.reviews_for_user(self.request.user)

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method not in SAFE_METHODS and not access.can_manage_review(request.user, obj):
            _deny("Only the review's coordinators can change the review.")

    def perform_update(self, serializer):
        serializer.instance = review_services.review_update(
            review=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )


class NestedQuerysetMixin:
    """For nested lists: the schema generator builds the view without URL arguments, so give it an empty
    queryset of the right model instead of looking the parent up."""

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return self.visible_queryset()


class ReviewChildMixin(NestedQuerysetMixin):
    """Lists nested under /reviews/{review_id}/; the review must be one of the user's, else 404."""

    @cached_property
    def review(self):
        return access.review_get_for_user(self.request.user, self.kwargs["review_id"])


class MemberListView(ReviewChildMixin, generics.ListCreateAPIView):
    """Members of a review and their roles (coordinators, analysts and reviewers may read; coordinators add)."""

    queryset = Membership.objects.none()
    serializer_class = serializers.MembershipSerializer
    filterset_fields = ["role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]

    def visible_queryset(self):
        if not access.can_view_members(self.request.user, self.review):
            _deny("Contributors cannot list the review's members.")
        return Membership.objects.filter(review=self.review).select_related("user").prefetch_related("trials")

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method == "POST" and not access.can_manage_review(request.user, self.review):
            _deny("Only the review's coordinators can add members.")

    @extend_schema(
        request=serializers.InvitationCreateSerializer,
        responses={202: serializers.InvitationSerializer},
        description="Invite a person by username or e-mail. The answer is the same whether or not an account "
        "answers to it; the person becomes a member on accepting (POST /api/v1/invitations/{id}/accept/).",
    )
    def post(self, request, review_id):
        serializer = serializers.InvitationCreateSerializer(data=request.data, context={"review": self.review})
        serializer.is_valid(raise_exception=True)
        invitation = invitations.invitation_create(review=self.review, actor=request.user, **serializer.validated_data)
        return Response(serializers.InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)


class ReviewInvitationListView(ReviewChildMixin, generics.ListAPIView):
    """The review's invitations and their answers (coordinators)."""

    queryset = Invitation.objects.none()
    serializer_class = serializers.InvitationSerializer
    filterset_fields = ["status", "role"]

    def visible_queryset(self):
        if not access.can_manage_review(self.request.user, self.review):
            _deny("Only the review's coordinators can list its invitations.")
        return self.review.invitations.select_related("review", "invited_by").prefetch_related("trials")


class InvitationRevokeView(generics.GenericAPIView):
    """Revoke a pending invitation (coordinators of its review)."""

    queryset = Invitation.objects.none()
    serializer_class = serializers.InvitationSerializer

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk):
        invitation = Invitation.objects.filter(review__in=access.reviews_for_user(request.user), pk=pk).first()
        if invitation is None:
            raise NotFound("Invitation not found.")
        if not access.can_manage_review(request.user, invitation.review):
            _deny("Only the review's coordinators can revoke its invitations.")
        invitations.invitation_revoke(invitation=invitation, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyInvitationListView(generics.ListAPIView):
    """Your pending invitations (matched by your username or e-mail address)."""

    serializer_class = serializers.InvitationSerializer
    filter_backends: list = []

    def get_queryset(self):
        return invitations.invitations_for_user(self.request.user)


class InvitationAnswerView(generics.GenericAPIView):
    """Accept (you become a member with the invited role) or decline one of your invitations."""

    queryset = Invitation.objects.none()
    serializer_class = serializers.MembershipSerializer
    accept = True

    @extend_schema(request=None, responses={201: serializers.MembershipSerializer, 204: None})
    def post(self, request, pk):
        invitation = invitations.invitation_get_for_user(request.user, pk)
        if not self.accept:
            invitations.invitation_decline(invitation=invitation, user=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        membership = invitations.invitation_accept(invitation=invitation, user=request.user)
        return Response(serializers.MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailView(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = serializers.MembershipSerializer
    http_method_names = DETAIL_METHODS

    def get_queryset(self):
        return Membership.objects.filter(review__in=access.reviews_for_user(self.request.user)).select_related(
            "user", "review"
        )

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method in SAFE_METHODS:
            if not access.can_view_members(request.user, obj.review):
                _deny("Contributors cannot read the review's members.")
        elif not access.can_manage_review(request.user, obj.review):
            _deny("Only the review's coordinators can change members.")

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = account_services.membership_update(
            membership=serializer.instance, actor=self.request.user, role=data.get("role"), trials=data.get("trials")
        )

    def perform_destroy(self, instance):
        account_services.membership_delete(membership=instance, actor=self.request.user)


class OutcomeListView(ReviewChildMixin, generics.ListCreateAPIView):
    queryset = Outcome.objects.none()
    serializer_class = serializers.OutcomeSerializer
    filterset_fields = ["type", "measure", "is_primary"]
    search_fields = ["name"]

    def visible_queryset(self):
        return Outcome.objects.filter(review=self.review)

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method == "POST" and not access.can_edit_outcomes(request.user, self.review):
            _deny("Only coordinators and analysts can add outcomes.")

    def perform_create(self, serializer):
        serializer.instance = review_services.outcome_create(
            review=self.review, actor=self.request.user, **serializer.validated_data
        )


class OutcomeDetailView(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = serializers.OutcomeSerializer
    http_method_names = DETAIL_METHODS

    def get_queryset(self):
        return Outcome.objects.filter(review__in=access.reviews_for_user(self.request.user)).select_related("review")

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method not in SAFE_METHODS and not access.can_edit_outcomes(request.user, obj.review):
            _deny("Only coordinators and analysts can change outcomes.")

    def perform_update(self, serializer):
        serializer.instance = review_services.outcome_update(
            outcome=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        review_services.outcome_delete(outcome=instance, actor=self.request.user)


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


class ReviewDataAccessView(ReviewChildMixin, generics.ListAPIView):
    """Reads of the review's participant data (downloads of tables and rows, views of row listings), newest
    first: who, when, what and from where. Coordinators only."""

    queryset = DataAccessEvent.objects.none()
    serializer_class = serializers.DataAccessEventSerializer
    filterset_fields = ["action", "object_type", "trial"]
    search_fields = ["object_repr", "actor__username"]

    def visible_queryset(self):
        if not access.can_manage_review(self.request.user, self.review):
            _deny("Only the review's coordinators can read its data access log.")
        return DataAccessEvent.objects.filter(review=self.review).select_related("actor")


# Trials ---------------------------------------------------------------------------------------------------


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
            _deny("Only coordinators and reviewers can add trials.")

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
            _deny("Only the review's coordinators can delete trials.")
        if request.method == "PATCH" and not isinstance(request.data, Mapping):
            raise ValidationError({"non_field_errors": ["Expected an object of the trial's fields."]})
        if request.method == "PATCH" and not access.can_edit_trial_fields(request.user, obj, request.data.keys()):
            _deny("Your role cannot change these fields of the trial.")

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
            _deny("Only coordinators and reviewers can change a trial's status.")
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
            _deny("Your role cannot add this record to this trial.")


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
            _deny("Only coordinators and reviewers can change or delete this record.")


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
