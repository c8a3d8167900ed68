"""REST endpoints for reviews: the review itself, its outcomes and its data access log. Each one parses, checks
access with apps.accounts.access, calls one service or selector, and renders. Lists filter in get_queryset, so
other reviews' objects answer 404, never 403."""

from rest_framework import generics
from rest_framework.permissions import SAFE_METHODS

from apps.accounts import access
from apps.accounts.api import ReviewChildMixin
from apps.core.api import DETAIL_METHODS, deny
from apps.core.models import DataAccessEvent
from apps.reviews import serializers
from apps.reviews import services as review_services
from apps.reviews.models import Outcome


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
            deny("Creating a review needs the permission a site administrator grants (reviews | Can add review).")

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
            deny("Only the review's coordinators can change the review.")

    def perform_update(self, serializer):
        serializer.instance = review_services.review_update(
            review=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )


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
            deny("Only coordinators and analysts can add outcomes.")

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
            deny("Only coordinators and analysts can change outcomes.")

    def perform_update(self, serializer):
        serializer.instance = review_services.outcome_update(
            outcome=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        review_services.outcome_delete(outcome=instance, actor=self.request.user)


class ReviewDataAccessView(ReviewChildMixin, generics.ListAPIView):
    """Reads of the review's participant data (downloads of tables and rows, views of row listings), newest
    first: who, when, what and from where. Coordinators only."""

    queryset = DataAccessEvent.objects.none()
    serializer_class = serializers.DataAccessEventSerializer
    filterset_fields = ["action", "object_type", "trial"]
    search_fields = ["object_repr", "actor__username"]

    def visible_queryset(self):
        if not access.can_manage_review(self.request.user, self.review):
            deny("Only the review's coordinators can read its data access log.")
        return DataAccessEvent.objects.filter(review=self.review).select_related("actor")
