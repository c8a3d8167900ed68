"""Every status a version goes through is in the audit trail, with the worker's changes marked as nobody's."""

from apps.core.models import AuditEvent
from apps.datasets import services

from .conftest import run_parse, upload_file


def status_changes(version) -> list[tuple[str, str, str | None]]:
    events = AuditEvent.objects.filter(
        object_type="datasetversion", object_id=str(version.pk), action=AuditEvent.Action.TRANSITION
    ).order_by("id")
    return [(event.before["status"], event.after["status"], event.actor_id) for event in events]


def test_a_parsed_version_has_its_status_changes_audited(trial, analyst):
    version, _ = services.dataset_upload(trial=trial, actor=analyst, file=upload_file("t.csv", b"id,arm\n1,1\n"))

    run_parse(version)

    assert status_changes(version) == [("queued", "parsing", None), ("parsing", "parsed", None)]
    event = AuditEvent.objects.filter(object_id=str(version.pk), action=AuditEvent.Action.TRANSITION).latest("id")
    assert (event.trial_id, event.review_id) == (trial.pk, trial.review_id)
    assert event.after["n_rows"] == 1


def test_a_failed_parse_and_its_retry_are_audited(trial, analyst, settings):
    settings.DATASET_MAX_ROWS = 1
    version, _ = services.dataset_upload(trial=trial, actor=analyst, file=upload_file("t.csv", b"id\n1\n2\n3\n"))
    run_parse(version)
    settings.DATASET_MAX_ROWS = 10
    services.dataset_parse_requeue(version=version, actor=analyst)
    run_parse(version)

    assert status_changes(version) == [
        ("queued", "parsing", None),
        ("parsing", "failed", None),
        ("failed", "queued", analyst.pk),
        ("queued", "parsing", None),
        ("parsing", "parsed", None),
    ]
