"""REST endpoints for the review's schema, the trials' mappings and rules, the apply job and the log.

Each view checks access through apps.accounts.access and apps.harmonisation.access, calls one service or
selector, and renders. Other reviews' objects answer 404; members without the right role get 403.
"""

from django.http import FileResponse, StreamingHttpResponse
from django.utils.functional import cached_property
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import review_get_for_user
from apps.core.errors import ApplicationError
from apps.core.services import data_access_record
from apps.harmonisation import access, selectors, services
from apps.harmonisation.csv_export import stream_csv, to_csv
from apps.harmonisation.models import MappingRule
from apps.harmonisation.serializers import (
    HarmonisationJobSerializer,
    HarmonisedTableSerializer,
    LogRowSerializer,
    MappingCreateSerializer,
    MappingRuleSerializer,
    MappingSerializer,
    PreviewSerializer,
    RuleSetRequestSerializer,
    SchemaVariableSerializer,
    SuggestionsAcceptedSerializer,
    SuggestionsAcceptRequestSerializer,
    SuggestionSerializer,
)
from apps.trials.access import trial_get_for_user, trials_for_user

HISTORY_PARAMETER = OpenApiParameter(
    "history", OpenApiTypes.BOOL, description="Include superseded rule revisions (the log's history)."
)

FORMAT_PARAMETER = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=["json", "csv"], description="csv downloads the log as a spreadsheet file."
)


def _wants_history(request) -> bool:
    return request.query_params.get("history", "").lower() in {"1", "true", "yes"}


# Schema ---------------------------------------------------------------------------------------------------


class ReviewSchemaListView(generics.ListCreateAPIView):
    """The review's common schema; coordinators and analysts add variables."""

    serializer_class = SchemaVariableSerializer
    filter_backends: list = []

    @cached_property
    def review(self):
        return review_get_for_user(self.request.user, self.kwargs["review_id"])

    def get_queryset(self):
        return selectors.schema_for_review(self.review)

    def perform_create(self, serializer):
        access.require_editor(self.request.user, self.review)
        serializer.instance = services.schema_variable_create(
            review=self.review, actor=self.request.user, **serializer.validated_data
        )


class SchemaVariableDetailView(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = SchemaVariableSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self):
        return access.schema_variable_get_for_user(self.request.user, self.kwargs["pk"])

    def perform_update(self, serializer):
        access.require_editor(self.request.user, serializer.instance.review_id)
        serializer.instance = services.schema_variable_update(
            variable=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        access.require_editor(self.request.user, instance.review_id)
        services.schema_variable_delete(variable=instance, actor=self.request.user)


# Mappings and rules ---------------------------------------------------------------------------------------


class TrialMappingListView(generics.ListAPIView):
    """The trial's mappings, newest first; POST starts a mapping of one of its parsed versions."""

    serializer_class = MappingSerializer
    filter_backends: list = []

    @cached_property
    def trial(self):
        return trial_get_for_user(self.request.user, self.kwargs["trial_id"])

    def get_queryset(self):
        return access.mappings_for_user(self.request.user, self.trial).order_by("-number")

    @extend_schema(request=MappingCreateSerializer, responses={201: MappingSerializer})
    def post(self, request, *args, **kwargs):
        form = MappingCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        access.require_editor(request.user, self.trial.review_id)
        mapping = services.mapping_create_by_ids(
            trial=self.trial,
            source_version_id=form.validated_data["source_version"],
            actor=request.user,
            note=form.validated_data["note"],
            copy_rules_from_id=form.validated_data["copy_rules_from"],
        )
        return Response(MappingSerializer(mapping).data, status=status.HTTP_201_CREATED)


class MappingMixin:
    @cached_property
    def mapping(self):
        return access.mapping_get_for_user(self.request.user, self.kwargs["pk"])


class MappingDetailView(MappingMixin, generics.RetrieveAPIView):
    """A mapping with the current rule of each schema variable."""

    serializer_class = MappingSerializer

    def get_object(self):
        return self.mapping


class MappingRuleListView(MappingMixin, generics.ListAPIView):
    """GET: the current rules (all revisions with ?history=true). POST: set a target's rule, as a new revision."""

    serializer_class = MappingRuleSerializer
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        rules = MappingRule.objects.filter(mapping=self.mapping).select_related("target", "set_by", "superseded_by")
        if not _wants_history(self.request):
            rules = rules.filter(superseded_at=None)
        return rules.order_by("target__position", "target__name", "-revision")

    @extend_schema(parameters=[HISTORY_PARAMETER])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=RuleSetRequestSerializer,
        responses={201: MappingRuleSerializer, 200: OpenApiResponse(MappingRuleSerializer, description="Unchanged.")},
    )
    def post(self, request, *args, **kwargs):
        form = RuleSetRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        mapping = self.mapping
        access.require_editor(request.user, mapping.trial.review_id)
        data = dict(form.validated_data)
        target = selectors.schema_target(mapping.trial.review_id, data.pop("target"))
        if target is None:
            raise ApplicationError(
                "target: No variable of this review's schema has this id.",
                details={"target": ["No variable of this review's schema has this id."]},
            )
        before = mapping.revision
        rule = services.mapping_rule_set(mapping=mapping, target=target, actor=request.user, **data)
        created = rule.mapping_revision > before
        return Response(MappingRuleSerializer(rule).data, status=status.HTTP_201_CREATED if created else 200)


class MappingRuleRemoveView(MappingMixin, APIView):
    """Withdraw the rule of one target; it stays in the log's history."""

    @extend_schema(responses={204: None})
    def delete(self, request, pk, target_id):
        mapping = self.mapping
        access.require_editor(request.user, mapping.trial.review_id)
        target = selectors.schema_target(mapping.trial.review_id, target_id)
        if target is None:
            raise ApplicationError("No variable of this review's schema has this id.", code="not_found", status=404)
        services.mapping_rule_remove(mapping=mapping, target=target, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuleDetailView(generics.RetrieveAPIView):
    """One rule revision, current or superseded."""

    serializer_class = MappingRuleSerializer

    def get_object(self):
        return access.rule_get_for_user(self.request.user, self.kwargs["pk"])


class MappingReviewView(MappingMixin, APIView):
    """Record that you checked the mapping as it stands; the author of every rule cannot review it."""

    @extend_schema(request=None, responses=MappingSerializer)
    def post(self, request, pk):
        access.require_editor(request.user, self.mapping.trial.review_id)
        mapping = services.mapping_mark_reviewed(mapping=self.mapping, actor=request.user)
        return Response(MappingSerializer(mapping).data)


class MappingSuggestionsView(MappingMixin, APIView):
    """Candidate rules from the source version's names, labels and codes, best first per target."""

    @extend_schema(responses=SuggestionSerializer(many=True))
    def get(self, request, pk):
        mapping = self.mapping
        return Response(selectors.mapping_suggest(mapping.source_version, mapping.trial.review))


class MappingSuggestionsAcceptView(MappingMixin, APIView):
    """Accept, for each schema variable without a rule, its best suggestion scoring at least `min_score` (0.9 by
    default): each rule stored says it was suggested and who accepted it. Variables that have a rule, whose best
    suggestions tie, or that have none are listed as skipped with the reason."""

    @extend_schema(
        request=SuggestionsAcceptRequestSerializer,
        responses={
            201: SuggestionsAcceptedSerializer,
            200: OpenApiResponse(SuggestionsAcceptedSerializer, description="Nothing to accept."),
        },
    )
    def post(self, request, pk):
        mapping = self.mapping
        access.require_editor(request.user, mapping.trial.review_id)
        form = SuggestionsAcceptRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = services.mapping_suggestions_accept(
            mapping=mapping, actor=request.user, min_score=form.validated_data["min_score"]
        )
        body = {"accepted": MappingRuleSerializer(result["accepted"], many=True).data, "skipped": result["skipped"]}
        return Response(body, status=status.HTTP_201_CREATED if result["accepted"] else status.HTTP_200_OK)


class MappingPreviewView(MappingMixin, APIView):
    """The first 50 rows of the harmonised table, computed now from the current rules (no job)."""

    @extend_schema(responses=PreviewSerializer)
    def get(self, request, pk):
        preview = selectors.mapping_preview(self.mapping)
        data_access_record(
            request=request,
            action="view",
            instance=self.mapping,
            trial=self.mapping.trial,
            detail={"rows": len(preview["rows"]), "listing": "harmonised preview"},
        )
        return Response(preview)


class MappingApplyView(MappingMixin, APIView):
    """Queue the job that applies the current rules to the whole source version; answers 202 with the job."""

    @extend_schema(request=None, responses={202: HarmonisationJobSerializer})
    def post(self, request, pk):
        access.require_editor(request.user, self.mapping.trial.review_id)
        job = services.mapping_apply(mapping=self.mapping, actor=request.user)
        return Response(HarmonisationJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class MappingJobListView(MappingMixin, generics.ListAPIView):
    """The mapping's apply jobs, newest first, with their state, progress and error."""

    serializer_class = HarmonisationJobSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.apply_jobs(self.mapping)


class MappingTableListView(MappingMixin, generics.ListAPIView):
    """The harmonised tables this mapping produced, newest first, with their hashes and flag counts."""

    serializer_class = HarmonisedTableSerializer
    filter_backends: list = []

    def get_queryset(self):
        return self.mapping.tables.select_related("created_by").order_by("-created_at", "-id")


class HarmonisedTableDownloadView(APIView):
    """The harmonised table as stored (Parquet) or as CSV, every text cell escaped; both streamed."""

    renderer_classes = [JSONRenderer]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk, kind):
        table = access.harmonised_table_get_for_user(request.user, pk)
        name = f"trial-{table.mapping.trial_id}-mapping-{table.mapping.number}-r{table.mapping_revision}"
        data_access_record(
            request=request, action="download", instance=table, trial=table.mapping.trial, detail={"format": kind}
        )
        if kind == "csv":
            columns, batches = selectors.harmonised_rows(table)
            response = StreamingHttpResponse(stream_csv(columns, batches), content_type="text/csv; charset=utf-8")
        else:
            response = FileResponse(selectors.harmonised_parquet(table), content_type="application/vnd.apache.parquet")
        response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
        return response


# The log --------------------------------------------------------------------------------------------------


class LogCSVRenderer(BaseRenderer):
    """The log as CSV, every text cell escaped against spreadsheet formulas."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return to_csv(list(data or []), selectors.LOG_COLUMNS)


class LogView(APIView):
    """Shared by the trial and review logs: each subclass's log() returns the rows and a file name."""

    renderer_classes = [JSONRenderer, LogCSVRenderer]
    filename = "harmonisation-log"

    def perform_content_negotiation(self, request, force=False):
        # OPTIONS describes the endpoint, which only JSON can carry, whatever format was asked for.
        if request.method == "OPTIONS":
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)

    def finalize_response(self, request, response, *args, **kwargs):
        # An error keeps the API's one shape, with its code, even when the log was asked for as CSV.
        if getattr(response, "exception", False):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(parameters=[HISTORY_PARAMETER, FORMAT_PARAMETER], responses=LogRowSerializer(many=True))
    def get(self, request, *args, **kwargs):
        rows, name = self.log(request)
        response = Response(rows)
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


class TrialLogView(LogView):
    """The harmonisation log of a trial's latest mapping (or ?mapping=<id>); ?format=csv downloads it."""

    @extend_schema(
        parameters=[
            HISTORY_PARAMETER,
            FORMAT_PARAMETER,
            OpenApiParameter("mapping", OpenApiTypes.INT, description="A mapping of this trial; default the latest."),
        ],
        responses=LogRowSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def log(self, request):
        trial = trial_get_for_user(request.user, self.kwargs["trial_id"])
        if request.query_params.get("mapping"):
            mappings = [access.mapping_get_for_user(request.user, request.query_params["mapping"])]
            if mappings[0].trial_id != trial.pk:
                raise ApplicationError("This mapping belongs to another trial.", code="not_found", status=404)
        else:
            mappings = selectors.mappings_for_log([trial])
        rows = selectors.log_rows(mappings, history=_wants_history(request))
        return rows, f"harmonisation-log-trial-{trial.pk}"


class ReviewLogView(LogView):
    """The log of every trial of the review (each trial's latest mapping); ?format=csv downloads it."""

    def log(self, request):
        review = review_get_for_user(request.user, self.kwargs["review_id"])
        access.require_review_reader(request.user, review)
        trials = trials_for_user(request.user, review).order_by("title", "id")
        rows = selectors.log_rows(selectors.mappings_for_log(trials), history=_wants_history(request))
        return rows, f"harmonisation-log-review-{review.pk}"
