"""REST endpoints for analyses: definitions, runs (202 queued, or 200 with the stored run when nothing changed),
a run's forest plot as plotly JSON and its table as CSV, and the sensitivity family.

Each view checks access through apps.analyses.access, calls one service or selector, and renders. Other
reviews' analyses answer 404; contributors of the review, 403.
"""

from django.http import HttpResponse
from django.utils.functional import cached_property
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analyses import access, selectors, services
from apps.analyses.models import AnalysisRun, RunKind
from apps.analyses.serializers import (
    AnalysisRequestSerializer,
    AnalysisRunBriefSerializer,
    AnalysisRunSerializer,
    AnalysisSerializer,
    SensitivitySerializer,
)
from apps.core.errors import NotFound

SORT_PARAMETER = OpenApiParameter(
    "sort", OpenApiTypes.STR, enum=["trial", "year", "weight", "effect"], description="Order of the trials."
)
PLOT_PARAMETER = OpenApiParameter(
    "plot",
    OpenApiTypes.STR,
    enum=list(selectors.PLOTS),
    description="trials (default for an analysis run) or interaction; summary (default for a sensitivity run) or "
    "leave-one-out.",
)


def _request_data(request) -> dict:
    form = AnalysisRequestSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    return dict(form.validated_data)


class ReviewAnalysisListView(generics.ListAPIView):
    """The review's analyses with their newest run; POST defines one (coordinators and analysts)."""

    serializer_class = AnalysisSerializer
    filter_backends: list = []

    @cached_property
    def review(self):
        return access.review_for_reader(self.request.user, self.kwargs["review_id"])

    def get_queryset(self):
        return selectors.review_analyses(self.review)

    def get_serializer(self, *args, **kwargs):
        if kwargs.get("many"):  # the page's analyses: their newest runs in one query, not one each
            kwargs["context"] = {**self.get_serializer_context(), "newest_runs": selectors.newest_runs(args[0])[0]}
        return super().get_serializer(*args, **kwargs)

    @extend_schema(request=AnalysisRequestSerializer, responses={201: AnalysisSerializer})
    def post(self, request, *args, **kwargs):
        access.require_editor(request.user, self.review)
        analysis = services.analysis_create(review=self.review, actor=request.user, data=_request_data(request))
        return Response(AnalysisSerializer(analysis).data, status=status.HTTP_201_CREATED)


class AnalysisDetailView(APIView):
    """An analysis; PATCH changes it, DELETE deletes it with its runs (coordinators and analysts)."""

    @extend_schema(responses=AnalysisSerializer)
    def get(self, request, pk):
        return Response(AnalysisSerializer(access.analysis_get_for_user(request.user, pk)).data)

    @extend_schema(request=AnalysisRequestSerializer, responses=AnalysisSerializer)
    def patch(self, request, pk):
        analysis = access.analysis_get_for_user(request.user, pk)
        access.require_editor(request.user, analysis.review)
        analysis = services.analysis_update(analysis=analysis, actor=request.user, data=_request_data(request))
        return Response(AnalysisSerializer(access.analysis_get_for_user(request.user, analysis.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        analysis = access.analysis_get_for_user(request.user, pk)
        access.require_editor(request.user, analysis.review)
        services.analysis_delete(analysis=analysis, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _request_status(run: AnalysisRun, created: bool) -> int:
    """202 for a run queued now or still under way; 200 for the stored result of an unchanged request."""
    run.refresh_from_db()
    unchanged = not created and run.state == AnalysisRun.State.SUCCEEDED
    return status.HTTP_200_OK if unchanged else status.HTTP_202_ACCEPTED


class AnalysisRunListView(generics.ListAPIView):
    """The analysis' runs, newest first; POST runs it (202), or returns the newest run (200) when its spec and
    inputs are unchanged."""

    serializer_class = AnalysisRunBriefSerializer
    filter_backends: list = []

    @cached_property
    def analysis(self):
        return access.analysis_get_for_user(self.request.user, self.kwargs["pk"])

    def get_queryset(self):
        return self.analysis.runs.filter(kind=RunKind.ANALYSIS).select_related("job").order_by("-created_at", "-id")

    @extend_schema(
        request=None,
        responses={
            202: AnalysisRunSerializer,
            200: OpenApiResponse(AnalysisRunSerializer, description="Nothing changed: the stored run."),
        },
    )
    def post(self, request, *args, **kwargs):
        access.require_editor(request.user, self.analysis.review)
        run, created = services.run_request(analysis=self.analysis, actor=request.user)
        return Response(AnalysisRunSerializer(run).data, status=_request_status(run, created))


class AnalysisRunDetailView(generics.RetrieveAPIView):
    """A run: status, progress, error, the spec, the engine version and result, and its inputs and left-out
    trials."""

    serializer_class = AnalysisRunSerializer

    def get_object(self):
        return access.run_get_for_user(self.request.user, self.kwargs["pk"])


class AnalysisRunForestView(APIView):
    """One of the run's plots as a plotly figure (JSON with `data` and `layout`), as the page draws it."""

    @extend_schema(parameters=[PLOT_PARAMETER, SORT_PARAMETER], responses=OpenApiTypes.OBJECT)
    def get(self, request, pk):
        run = access.run_get_for_user(request.user, pk)
        figure = selectors.run_figure(
            run, plot=request.query_params.get("plot", ""), sort=request.query_params.get("sort", "trial")
        )
        if figure is None:
            raise NotFound("This run has no such plot (it has not succeeded, or the analysis has no interaction).")
        return Response(figure)


class AnalysisRunTableCSVView(APIView):
    """The forest plot's table as CSV: each trial's arms, estimate, CI and weight, then the pooled rows."""

    @extend_schema(parameters=[SORT_PARAMETER], responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    def get(self, request, pk):
        return table_csv_response(access.run_get_for_user(request.user, pk), request.query_params.get("sort", ""))


def table_csv_response(run: AnalysisRun, sort: str) -> HttpResponse:
    if run.kind != RunKind.ANALYSIS or not run.result:
        raise NotFound("This run has no table (it has not succeeded).")
    response = HttpResponse(selectors.table_csv(run, sort or "trial"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="analysis-run-{run.pk}-table.csv"'
    return response


class AnalysisSensitivityView(APIView):
    """GET: the newest sensitivity family; POST runs it (202), or returns the stored one (200) when nothing
    changed."""

    @extend_schema(responses=SensitivitySerializer)
    def get(self, request, pk):
        analysis = access.analysis_get_for_user(request.user, pk)
        return Response(selectors.sensitivity_data(selectors.newest_run(analysis, RunKind.SENSITIVITY)))

    @extend_schema(
        request=None,
        responses={202: SensitivitySerializer, 200: OpenApiResponse(SensitivitySerializer, description="Unchanged.")},
    )
    def post(self, request, pk):
        analysis = access.analysis_get_for_user(request.user, pk)
        access.require_editor(request.user, analysis.review)
        run, created = services.run_request(analysis=analysis, actor=request.user, kind=RunKind.SENSITIVITY)
        code = _request_status(run, created)
        return Response(selectors.sensitivity_data(run), status=code)
