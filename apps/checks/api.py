"""REST endpoints for integrity checks: runs, results, affected rows, findings and their query threads.

Each view checks access through apps.checks.access (built on apps.accounts.access), calls one service or
selector, and renders. Other reviews' objects, and for contributors other trials' objects, answer 404.
"""

from django.http import HttpResponse
from django.utils.functional import cached_property
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import review_get_for_user
from apps.checks import access, selectors, services
from apps.checks.csv_rows import rows_csv
from apps.checks.models import Finding
from apps.checks.serializers import (
    AffectedRowsSerializer,
    CheckResultSerializer,
    CheckRunDetailSerializer,
    CheckRunSerializer,
    CheckSettingsSerializer,
    FindingDetailSerializer,
    FindingResolveRequestSerializer,
    FindingSerializer,
    QueryMessageRequestSerializer,
    QueryMessageSerializer,
    ReviewIntegritySerializer,
    TrialCheckStateSerializer,
)
from apps.core.services import data_access_record
from apps.trials.access import trial_get_for_user, trials_for_user

MAX_ROWS_SHOWN = 1000
STATUS_PARAMETER = OpenApiParameter("status", OpenApiTypes.STR, enum=Finding.Status.values)
LIMIT_PARAMETER = OpenApiParameter("limit", OpenApiTypes.INT, description=f"At most {MAX_ROWS_SHOWN} rows.")


class TrialCheckRunListView(generics.ListAPIView):
    """The trial's check runs, newest first; POST checks its newest harmonised table now (202)."""

    serializer_class = CheckRunSerializer
    filter_backends: list = []

    @cached_property
    def trial(self):
        return trial_get_for_user(self.request.user, self.kwargs["trial_id"])

    def get_queryset(self):
        return access.runs_for_user(self.request.user).filter(trial=self.trial).order_by("-created_at", "-id")

    @extend_schema(request=None, responses={202: CheckRunSerializer})
    def post(self, request, *args, **kwargs):
        access.require_runner(request.user, self.trial)
        run = services.check_run_start(trial=self.trial, actor=request.user)
        run.refresh_from_db()
        return Response(CheckRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class CheckRunDetailView(generics.RetrieveAPIView):
    """A run's state, progress and error, the settings it compared with, and each check's result."""

    serializer_class = CheckRunDetailSerializer

    def get_object(self):
        return access.run_get_for_user(self.request.user, self.kwargs["pk"])


class CheckResultDetailView(generics.RetrieveAPIView):
    """One check's status, sentence, figures and how many rows it concerns."""

    serializer_class = CheckResultSerializer

    def get_object(self):
        return access.result_get_for_user(self.request.user, self.kwargs["pk"])


class CheckResultRowsView(APIView):
    """The harmonised rows a check concerns (by `source_row`), up to `limit`."""

    @extend_schema(parameters=[LIMIT_PARAMETER], responses=AffectedRowsSerializer)
    def get(self, request, pk):
        result = access.result_get_for_user(request.user, pk)
        try:
            limit = max(1, min(MAX_ROWS_SHOWN, int(request.query_params.get("limit", selectors.PAGE_ROWS))))
        except ValueError:
            limit = selectors.PAGE_ROWS
        data = selectors.affected_rows_data(result, limit=limit)
        record_rows_read(request, result, action="view", rows=len(data.get("rows", [])))
        return Response(data)


class CheckResultRowsCSVView(APIView):
    """Every stored affected row as CSV (text cells starting with =, +, -, @ are escaped)."""

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    def get(self, request, pk):
        result = access.result_get_for_user(request.user, pk)
        record_rows_read(request, result, action="download", rows=result.affected_count)
        return csv_response(result)


def record_rows_read(request, result, *, action: str, rows: int) -> None:
    """The affected rows are participant data: each listing or download of them is recorded."""
    data_access_record(
        request=request,
        action=action,
        instance=result,
        trial=result.run.trial,
        detail={"rows": rows, "listing": "check result rows"},
    )


def csv_response(result) -> HttpResponse:
    response = HttpResponse(rows_csv(selectors.affected_rows(result, limit=None)), content_type="text/csv")
    name = f"check-{result.run_id}-{result.code}-rows.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class ReviewFindingListView(generics.ListAPIView):
    """The findings of the review's trials the user may see (contributors: their trials); ?status= filters."""

    serializer_class = FindingSerializer
    filter_backends: list = []

    @extend_schema(parameters=[STATUS_PARAMETER])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        findings = self.scope(access.findings_for_user(self.request.user))
        if self.request.query_params.get("status"):
            findings = findings.filter(status=self.request.query_params["status"])
        return findings.order_by("-created_at", "-id")

    def scope(self, findings):
        return findings.filter(trial__review=review_get_for_user(self.request.user, self.kwargs["review_id"]))


class TrialFindingListView(ReviewFindingListView):
    """The trial's findings; ?status= filters."""

    def scope(self, findings):
        return findings.filter(trial=trial_get_for_user(self.request.user, self.kwargs["trial_id"]))


class FindingDetailView(generics.RetrieveAPIView):
    """A finding with its query thread."""

    serializer_class = FindingDetailSerializer

    def get_object(self):
        return access.finding_get_for_user(self.request.user, self.kwargs["pk"])


class FindingMessageCreateView(APIView):
    """Write in the thread: the trial team's message marks it answered, the review team's reopens it."""

    @extend_schema(request=QueryMessageRequestSerializer, responses={201: QueryMessageSerializer})
    def post(self, request, pk):
        finding = access.finding_get_for_user(request.user, pk)
        form = QueryMessageRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        message = services.finding_reply(
            finding=finding,
            actor=request.user,
            body=form.validated_data["body"],
            from_trial_team=not access.is_review_team(request.user, finding.trial),
        )
        return Response(QueryMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class FindingResolveView(APIView):
    """Resolve a finding with a note (review team only)."""

    @extend_schema(request=FindingResolveRequestSerializer, responses=FindingDetailSerializer)
    def post(self, request, pk):
        finding = access.finding_get_for_user(request.user, pk)
        access.require_review_team(request.user, finding.trial, "resolves findings")
        form = FindingResolveRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        finding = services.finding_resolve(finding=finding, actor=request.user, note=form.validated_data["note"])
        return Response(FindingDetailSerializer(finding).data)


class TrialCheckSettingsView(generics.RetrieveUpdateAPIView):
    """What the checks compare the trial's data with; the review team changes it (PATCH)."""

    serializer_class = CheckSettingsSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return selectors.check_settings(trial_get_for_user(self.request.user, self.kwargs["trial_id"]))

    def perform_update(self, serializer):
        trial = serializer.instance.trial
        access.require_review_team(self.request.user, trial, "changes a trial's check settings")
        serializer.instance = services.check_settings_update(
            trial=trial, actor=self.request.user, data=serializer.validated_data
        )


class TrialCheckStateView(APIView):
    """Whether the trial's newest harmonised table is checked, what holds it back, and whether newer data or
    rules have left the checks out of date (with the action to take)."""

    @extend_schema(responses=TrialCheckStateSerializer)
    def get(self, request, trial_id):
        trial = trial_get_for_user(request.user, trial_id)
        return Response(selectors.check_state_data(selectors.data_check_state(trial)))


class ReviewIntegrityView(APIView):
    """Trials by checks, the PRISMA-IPD counts and the re-derivation table (contributors: their trials)."""

    @extend_schema(responses=ReviewIntegritySerializer)
    def get(self, request, review_id):
        review = review_get_for_user(request.user, review_id)
        summary = selectors.review_integrity(review, trials_for_user(request.user, review))
        return Response(selectors.integrity_as_data(summary))
