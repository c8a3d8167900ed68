"""REST endpoints for accounts: API tokens, a review's members and invitations. Each one parses, checks access
with apps.accounts.access, calls one service or selector, and renders. Lists filter in get_queryset, so other
reviews' objects answer 404, never 403."""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import generics, permissions, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import access, invitations, serializers, tokens
from apps.accounts import services as account_services
from apps.accounts.models import Invitation, Membership
from apps.accounts.views import lockout_response
from apps.core.api import DETAIL_METHODS, NestedQuerysetMixin, deny
from apps.core.errors import NotFound
from apps.core.serializers import ErrorSerializer
from apps.core.throttling import TokenRateThrottle


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
        responses={200: serializers.TokenResponseSerializer, 429: ErrorSerializer},
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


class ReviewChildMixin(NestedQuerysetMixin):
    """Lists nested under /reviews/{review_id}/; the review must be one of the user's, else 404. (The reviews
    and trials APIs nest lists under the review too.)"""

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
            deny("Contributors cannot list the review's members.")
        return Membership.objects.filter(review=self.review).select_related("user").prefetch_related("trials")

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method == "POST" and not access.can_manage_review(request.user, self.review):
            deny("Only the review's coordinators can add members.")

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
            deny("Only the review's coordinators can list its invitations.")
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
            deny("Only the review's coordinators can revoke its invitations.")
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
                deny("Contributors cannot read the review's members.")
        elif not access.can_manage_review(request.user, obj.review):
            deny("Only the review's coordinators can change members.")

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = account_services.membership_update(
            membership=serializer.instance, actor=self.request.user, role=data.get("role"), trials=data.get("trials")
        )

    def perform_destroy(self, instance):
        account_services.membership_delete(membership=instance, actor=self.request.user)
