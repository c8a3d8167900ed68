"""The datasets app's gates on the trial lifecycle, registered at start-up (DatasetsConfig.ready()): a trial is
"data received" only with uploaded data, and a trial with uploaded data is never deleted."""

from apps.core.errors import ApplicationError
from apps.datasets.models import DatasetVersion
from apps.trials import lifecycle
from apps.trials.lifecycle import Status


def _versions(trial):
    return DatasetVersion.objects.filter(trial=trial).order_by("number")


def require_uploaded_data(trial) -> None:
    if not _versions(trial).exists():
        message = "no participant data have been uploaded for this trial. Upload the data file"
        raise ApplicationError(
            f"to_status: cannot mark the data received: {message}, then move the trial.",
            code="no_data_uploaded",
            status=409,
            details={"to_status": [f"No uploaded data: {message}."]},
        )


def refuse_delete_with_data(trial) -> None:
    versions = list(_versions(trial))
    if versions:
        names = ", ".join(f"v{version.number} ({version.original_name})" for version in versions)
        raise ApplicationError(
            f"This trial has uploaded data and cannot be deleted: {names}. Uploaded versions are never deleted; "
            "move the trial to Withdrawn instead.",
            code="trial_has_data",
            status=409,
            details={"dataset_versions": [version.pk for version in versions]},
        )


def register() -> None:
    lifecycle.register_transition_gate(Status.DATA_RECEIVED, require_uploaded_data)
    lifecycle.register_delete_gate(refuse_delete_with_data)
