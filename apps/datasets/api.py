"""REST endpoints for participant data: upload a version, list a trial's versions, read one with its dictionary."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.parsers import StrictJSONParser
from apps.core.services import data_access_record
from apps.datasets import selectors, services
from apps.datasets.access import trial_get_for_upload, version_get_for_user
from apps.datasets.serializers import (
    DatasetDeclarationsSerializer,
    DatasetDeclarationsStateSerializer,
    DatasetUploadRequestSerializer,
    DatasetVersionDetailSerializer,
    DatasetVersionSerializer,
    DatasetVersionUploadedBeforeSerializer,
)
from apps.datasets.uploads import HashingUploadHandler
from apps.trials.access import trial_get_for_user


class UploadRightsFirstHandler(HashingUploadHandler):
    """Refuses a user who may not upload to the trial before the first byte of the body is read.

    The parser calls handle_raw_input before reading anything, whoever asks for the body first: a session's
    CSRF check (then request.user is the session's user) or the view (then it is the authenticated user).
    """

    def __init__(self, request, trial_id):
        super().__init__(request)
        self.trial_id = trial_id

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        trial_get_for_upload(self.request.user, self.trial_id)
        return super().handle_raw_input(input_data, META, content_length, boundary, encoding)


class TrialDatasetListView(generics.ListCreateAPIView):
    """GET lists the trial's versions (newest first); POST uploads a file as a new version."""

    serializer_class = DatasetVersionSerializer
    parser_classes = [MultiPartParser]
    filter_backends: list = []

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body (the CSRF check does): check the user's rights, then stream the body
        # to disk, hashing it as it comes.
        # (The schema generator builds the view without URL arguments.)
        request.upload_handlers = [UploadRightsFirstHandler(request, kwargs.get("trial_id"))]
        return super().initialize_request(request, *args, **kwargs)

    def get_queryset(self):
        trial = trial_get_for_user(self.request.user, self.kwargs["trial_id"])
        return selectors.trial_versions(trial)

    @extend_schema(
        request={"multipart/form-data": DatasetUploadRequestSerializer},
        responses={
            202: DatasetVersionSerializer,
            200: OpenApiResponse(
                DatasetVersionUploadedBeforeSerializer,
                description="The same content was uploaded before: that version, and nothing new is stored.",
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        trial = trial_get_for_upload(request.user, self.kwargs["trial_id"])
        form = DatasetUploadRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        version, created = services.dataset_upload(
            trial=trial, actor=request.user, file=form.validated_data["file"], note=form.validated_data["note"]
        )
        if not created:
            return Response(DatasetVersionUploadedBeforeSerializer(version).data, status=status.HTTP_200_OK)
        return Response(DatasetVersionSerializer(version).data, status=status.HTTP_202_ACCEPTED)


class DatasetVersionParseView(generics.GenericAPIView):
    """POST parses a failed version again (after its limits were raised, say), or sends again the parse of one
    still queued; answers 202 with the version."""

    serializer_class = DatasetVersionDetailSerializer

    @extend_schema(request=None, responses={202: DatasetVersionDetailSerializer})
    def post(self, request, *args, **kwargs):
        version = version_get_for_user(request.user, self.kwargs["pk"])
        trial_get_for_upload(request.user, version.trial_id)
        services.dataset_parse_requeue(version=version, actor=request.user)
        version.refresh_from_db()
        return Response(DatasetVersionDetailSerializer(version).data, status=status.HTTP_202_ACCEPTED)


class DatasetVersionDetailView(generics.RetrieveAPIView):
    """A version's status, error, parse progress and data dictionary."""

    serializer_class = DatasetVersionDetailSerializer

    def get_object(self):
        return version_get_for_user(self.request.user, self.kwargs["pk"])


class DatasetVersionDeclarationsView(generics.GenericAPIView):
    """GET the version's declared missing codes and date formats; PUT replaces them and reads the stored upload
    again with them (202 with the parse job; 200 when they are unchanged). Declaring takes the right to upload
    to the trial now (the same people, under an agreement in force): reading again makes a new table of the data.
    """

    serializer_class = DatasetDeclarationsStateSerializer
    parser_classes = [StrictJSONParser]

    def get(self, request, *args, **kwargs):
        version = version_get_for_user(request.user, self.kwargs["pk"])
        return Response(DatasetDeclarationsStateSerializer(version).data)

    @extend_schema(
        request=DatasetDeclarationsSerializer,
        responses={
            202: DatasetDeclarationsStateSerializer,
            200: OpenApiResponse(DatasetDeclarationsStateSerializer, description="Unchanged: nothing is read again."),
        },
    )
    def put(self, request, *args, **kwargs):
        version = version_get_for_user(request.user, self.kwargs["pk"])
        trial_get_for_upload(request.user, version.trial_id)
        # The service checks the body itself (codes must be text, which a serializer's CharField would coerce).
        job = services.dataset_declarations_set(version=version, actor=request.user, declarations=request.data)
        version.refresh_from_db()
        body = DatasetDeclarationsStateSerializer(version).data
        return Response(body, status=status.HTTP_202_ACCEPTED if job else status.HTTP_200_OK)


SHA256_HEADER = "X-Content-SHA256"


class DatasetVersionOriginalView(APIView):
    """The uploaded file exactly as it was received, as an attachment under its original name; its SHA-256 is in
    the X-Content-SHA256 header. Anyone who may see the version may take it; each download is audited."""

    renderer_classes = [JSONRenderer]  # errors keep the API's shape

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The stored bytes; X-Content-SHA256 holds their SHA-256."
            )
        }
    )
    def get(self, request, pk):
        version = version_get_for_user(request.user, pk)
        data_access_record(
            request=request,
            action="download",
            instance=version,
            trial=version.trial,
            detail={"file": "original", "sha256": version.sha256},
        )
        handle = services.dataset_original_open(version=version, actor=request.user)
        response = FileResponse(
            handle, as_attachment=True, filename=version.original_name, content_type="application/octet-stream"
        )
        response[SHA256_HEADER] = version.sha256
        response["Content-Length"] = str(version.size)
        return response
