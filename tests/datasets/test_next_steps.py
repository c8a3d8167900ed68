"""After an upload: the trial moves to "data received" with its participants counted, an identical upload says
so, and a parsed version's page leads on to mapping it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.datasets import services
from apps.datasets.models import DatasetVersion
from apps.trials.lifecycle import Status
from apps.trials.models import StatusTransition, Trial

from .conftest import run_parse, upload_file

pytestmark = pytest.mark.django_db
# Five rows, four participants: participant 103 was seen twice.
LONG_CSV = b"USUBJID,arm,visit\n007,1,1\n012,2,1\n103,1,1\n103,1,2\n105,1,1\n"
NO_ID_CSV = b"arm,age\n1,40\n2,51\n1,63\n"


def at_status(trial: Trial, status: str, **fields) -> Trial:
    Trial.objects.filter(pk=trial.pk).update(status=status, **fields)
    trial.refresh_from_db()
    return trial


def upload_and_parse(trial, actor, content: bytes, name: str = "data.csv"):
    version, _ = services.dataset_upload(trial=trial, actor=actor, file=upload_file(name, content))
    return run_parse(version)


def test_the_first_parsed_version_moves_a_signed_trial_to_data_received(analyst, trial):
    at_status(trial, Status.AGREEMENT_SIGNED)
    version = upload_and_parse(trial, analyst, LONG_CSV)
    trial.refresh_from_db()
    assert trial.status == Status.DATA_RECEIVED
    assert trial.ipd_provided is True
    # The participant-id column is recognised: distinct ids, not rows.
    assert trial.n_provided == 4
    transition = StatusTransition.objects.get(trial=trial)
    assert (transition.from_status, transition.to_status, transition.actor) == (
        Status.AGREEMENT_SIGNED,
        Status.DATA_RECEIVED,
        None,
    )
    assert f"Version {version.number}" in transition.note
    events = AuditEvent.objects.filter(object_type="trial", object_id=str(trial.pk))
    assert events.count() == 2 and all(event.actor is None for event in events)


def test_without_an_id_column_the_rows_are_counted(analyst, trial):
    at_status(trial, Status.AGREEMENT_SIGNED)
    upload_and_parse(trial, analyst, NO_ID_CSV)
    trial.refresh_from_db()
    assert (trial.status, trial.n_provided) == (Status.DATA_RECEIVED, 3)


def test_a_number_someone_entered_is_kept(analyst, trial):
    at_status(trial, Status.AGREEMENT_SIGNED, n_provided=250)
    upload_and_parse(trial, analyst, LONG_CSV)
    trial.refresh_from_db()
    assert (trial.status, trial.n_provided) == (Status.DATA_RECEIVED, 250)


@pytest.mark.parametrize("status", [Status.DATA_CHECKED, Status.INCLUDED, Status.CONTACTED])
def test_a_trial_elsewhere_is_neither_moved_nor_counted(analyst, trial, status):
    at_status(trial, status)
    upload_and_parse(trial, analyst, LONG_CSV)
    trial.refresh_from_db()
    assert (trial.status, trial.n_provided) == (status, None)
    assert not StatusTransition.objects.filter(trial=trial).exists()


def test_a_second_version_does_not_move_the_trial_again(analyst, trial):
    at_status(trial, Status.AGREEMENT_SIGNED)
    upload_and_parse(trial, analyst, LONG_CSV)
    upload_and_parse(trial, analyst, NO_ID_CSV, name="second.csv")
    trial.refresh_from_db()
    assert (trial.status, trial.n_provided) == (Status.DATA_RECEIVED, 4)
    assert StatusTransition.objects.filter(trial=trial).count() == 1


def test_a_failed_parse_leaves_the_trial_where_it_was(analyst, trial):
    at_status(trial, Status.AGREEMENT_SIGNED)
    upload_and_parse(trial, analyst, b"a,b\n1,2,3\n")
    trial.refresh_from_db()
    assert (trial.status, trial.n_provided) == (Status.AGREEMENT_SIGNED, None)


def test_the_api_says_identical_content_stored_nothing(api, trial):
    url = f"/api/v1/trials/{trial.pk}/datasets/"
    first = api.post(url, {"file": SimpleUploadedFile("a.csv", LONG_CSV)}, format="multipart")
    assert first.status_code == 202 and "message" not in first.json()
    again = api.post(url, {"file": SimpleUploadedFile("b.csv", LONG_CSV)}, format="multipart")
    assert again.status_code == 200
    body = again.json()
    assert body["id"] == first.json()["id"]
    assert "identical to version 1 (a.csv" in body["message"] and "nothing new was stored" in body["message"]


def test_the_upload_page_says_identical_content_stored_nothing(analyst, trial):
    client = Client()
    client.force_login(analyst)
    url = reverse("datasets:upload", args=[trial.pk])
    client.post(url, {"file": SimpleUploadedFile("a.csv", LONG_CSV)})
    response = client.post(url, {"file": SimpleUploadedFile("b.csv", LONG_CSV)}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("datasets:version-detail", args=[DatasetVersion.objects.get().pk])
    assert "identical to version 1" in page and "nothing new was stored" in page


def test_a_parsed_version_leads_on_to_mapping_it(analyst, trial):
    client = Client()
    client.force_login(analyst)
    version, _ = services.dataset_upload(trial=trial, actor=analyst, file=upload_file("a.csv", LONG_CSV))
    queued = client.get(reverse("datasets:version-detail", args=[version.pk])).content.decode()
    assert 'id="next-step"' not in queued
    run_parse(version)
    page = client.get(reverse("datasets:version-detail", args=[version.pk])).content.decode()
    link = f"{reverse('harmonisation:trial-mappings', args=[trial.pk])}?version={version.pk}"
    assert 'id="next-step"' in page and link in page and "Map version 1" in page
    mappings = client.get(link)
    assert mappings.status_code == 200
    assert mappings.context["form"].initial == {"source_version": version.pk}


@pytest.mark.parametrize("role", ["reviewer", "contributor"])
def test_readers_of_a_parsed_version_are_shown_the_mappings_not_a_button_to_map_it(analyst, make_member, trial, role):
    from apps.accounts.models import Role

    reader = make_member(getattr(Role, role.upper()), trials=[trial])
    version, _ = services.dataset_upload(trial=trial, actor=analyst, file=upload_file("a.csv", LONG_CSV))
    run_parse(version)
    client = Client()
    client.force_login(reader)
    page = client.get(reverse("datasets:version-detail", args=[version.pk])).content.decode()
    assert "Map version 1" not in page and "#start-mapping" not in page
    assert "see this trial's mappings" in page
    assert client.get(reverse("harmonisation:trial-mappings", args=[trial.pk])).status_code == 200


def test_the_version_page_offers_mapping_to_those_harmonisation_lets_map():
    from apps.datasets.access import MAPPER_ROLES
    from apps.harmonisation.access import EDITORS

    assert MAPPER_ROLES == EDITORS


def test_the_403_page_gives_the_reason(make_member, trial):
    from apps.accounts.models import Role

    client = Client()
    client.force_login(make_member(Role.REVIEWER))
    version, _ = services.dataset_upload(trial=trial, actor=None, file=upload_file("a.csv", LONG_CSV))
    response = client.post(reverse("datasets:version-reparse", args=[version.pk]))
    assert response.status_code == 403
    page = response.content.decode()
    assert 'id="forbidden-reason"' in page and "Only the trial&#x27;s contributors" in page
