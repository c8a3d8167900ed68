"""Participant data: versions, uploads, parsing again, declarations; the API and the pages."""

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.datasets import services
from apps.datasets.models import DatasetVersion
from apps.datasets.tasks import dataset_parse_task
from apps.jobs.models import Job
from tests.checks.data import trial_frame
from tests.permissions.matrix import READ_ALL, UPLOAD_REFUSED, Call, Refused, Route, builds, codes


def participant_csv() -> bytes:
    """The checks' trial of 200 participants with two ids missing: its checks raise a finding."""
    frame = trial_frame()
    frame.loc[[10, 20], "USUBJID"] = None
    return frame.drop(columns=["source_row"]).to_csv(index=False).encode()


def upload(scope, name: str, content: bytes) -> DatasetVersion:
    version, created = services.dataset_upload(
        trial=scope.trial, actor=scope.author, file=SimpleUploadedFile(name, content)
    )
    assert created
    job = Job.objects.filter(target_type="datasets.datasetversion", target_id=str(version.pk)).get()
    dataset_parse_task(job.pk)  # as a worker would, in this process
    version.refresh_from_db()
    return version


@builds("version")
def version(scope):
    """Uploaded under the trial's agreement and parsed."""
    scope.agreement  # noqa: B018  (uploads stand on the agreement in force)
    parsed = upload(scope, "participants.csv", participant_csv())
    assert parsed.status == DatasetVersion.Status.PARSED, parsed.error
    return parsed


@builds("failed_version")
def failed_version(scope):
    """A file whose parse failed (a row longer than the header): it may be parsed again."""
    scope.version  # noqa: B018  (numbered after the parsed one)
    failed = upload(scope, "ragged.csv", b"id,arm\n1,2\n3,4,5,6\n")
    assert failed.status == DatasetVersion.Status.FAILED
    return failed


def new_file(o) -> dict:
    return {"file": SimpleUploadedFile("second-export.csv", b"id,arm\n001,1\n002,2\n"), "note": "Second export"}


UPLOADERS = codes(202, 202, UPLOAD_REFUSED, 202)
PAGE_UPLOADERS = codes(302, 302, 403, 302)
# The upload page shows the reason itself, with the status.
UPLOAD_PAGE_REFUSED = Refused(403, text="Only the trial's contributors and the review's analysts and coordinators")

ROUTES = [
    Route(
        "api-dataset-list",
        {"trial_id": "trial"},
        get=READ_ALL,
        post=Call(UPLOADERS, body=new_file, format="multipart"),
    ),
    Route("api-dataset-detail", {"pk": "version"}, get=READ_ALL),
    # The file as it was received; whoever sees the version may take it (each download is a recorded read).
    Route("api-dataset-original", {"pk": "version"}, get=READ_ALL),
    Route("api-dataset-parse", {"pk": "failed_version"}, post=UPLOADERS),
    Route(
        "api-dataset-declarations",
        {"pk": "version"},
        get=READ_ALL,
        put=Call(UPLOADERS, body=lambda o: {"missing_codes": ["NA"], "variables": {"AGE": {"missing_codes": ["-99"]}}}),
    ),
    # The pages ----------------------------------------------------------------------------------------------
    Route("datasets:trial-versions", {"trial_id": "trial"}, get=READ_ALL),
    Route(
        "datasets:upload",
        {"trial_id": "trial"},
        get=READ_ALL,
        post=Call(codes(302, 302, UPLOAD_PAGE_REFUSED, 302), body=new_file),
    ),
    Route("datasets:version-detail", {"version_id": "version"}, get=READ_ALL),
    Route("datasets:version-reparse", {"version_id": "failed_version"}, post=PAGE_UPLOADERS),
    Route(
        "datasets:version-declarations",
        {"version_id": "version"},
        post=Call(PAGE_UPLOADERS, body=lambda o: {"missing_codes": "NA, -99"}),
    ),
]
