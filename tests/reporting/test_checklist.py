"""The PRISMA-IPD checklist: items with stable ids, statuses, location, note and evidence links; edits by the
review team (audited), completion on the review overview, the CSV export."""

import csv
import io

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.reporting import checklist
from apps.reporting.models import ChecklistEntry

pytestmark = pytest.mark.django_db


def _items(api_as, user, review) -> list[dict]:
    response = api_as(user).get(f"/api/v1/reviews/{review.pk}/checklist/")
    assert response.status_code == 200, response.content
    return response.json()


def _completion(api_as, user, review) -> dict:
    response = api_as(user).get(f"/api/v1/reviews/{review.pk}/checklist-completion/")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_checklist_lists_every_item_with_its_evidence(api_as, review, flow_trials, reviewer):
    body = _items(api_as, reviewer, review)
    items = {item["item"]: item for item in body}
    assert list(items) == list(checklist.ITEM_IDS)
    assert {"1", "5", "17", "27", "A1", "A2", "A3"} <= set(items)
    for item in body:
        assert set(item) >= {"item", "title", "status", "location", "evidence"}
        assert item["status"] == "not_started"
    assert items["5"]["evidence"][0]["detail"] == "PROSPERO CRD42026000777"
    assert items["17"]["evidence"] == [
        {"label": "PRISMA-IPD flow diagram", "url": reverse("reporting:prisma", args=[review.pk]), "detail": ""}
    ]
    labels = {link["label"] for link in items["10"]["evidence"]}
    assert labels == {"Contact log", "Response rate", "Agreements"}
    assert {link["label"] for link in items["11"]["evidence"]} == {
        "Data dictionaries", "Common schema", "Harmonisation log",
    }  # fmt: skip
    assert items["A1"]["evidence"][0]["url"] == reverse("checks:review-integrity", args=[review.pk])
    assert items["A3"]["evidence"][0]["detail"] == "0 issues raised, 0 resolved"
    assert _completion(api_as, reviewer, review) == {
        "not_started": len(checklist.ITEMS), "drafted": 0, "done": 0, "not_applicable": 0,
        "total": len(checklist.ITEMS), "finished": 0, "percent": 0,
    }  # fmt: skip


def test_reviewers_edit_an_item_and_the_change_is_audited(api_as, review, trial, reviewer):
    url = f"/api/v1/reviews/{review.pk}/checklist/17/"
    response = api_as(reviewer).patch(url, {"status": "done", "location": "Results, Figure 1"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done" and response.json()["location"] == "Results, Figure 1"
    response = api_as(reviewer).patch(url, {"note": "Redrawn after the last data"}, format="json")
    assert response.json()["location"] == "Results, Figure 1"  # kept: only the note was given
    entry = ChecklistEntry.objects.get(review=review, item="17")
    assert (entry.status, entry.note, entry.updated_by) == ("done", "Redrawn after the last data", reviewer)
    events = AuditEvent.objects.filter(object_type="checklistentry", object_id=str(entry.pk)).order_by("id")
    assert [event.action for event in events] == ["create", "update"]
    assert events[1].before["note"] == "" and events[1].after["note"] == "Redrawn after the last data"
    assert _completion(api_as, reviewer, review)["done"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"status": "finished"}, "status"), ({"location": "x" * 301}, "location"), ({"owner": "me"}, "owner")],
)
def test_bad_edits_are_refused_and_change_nothing(api_as, review, trial, reviewer, body, field):
    response = api_as(reviewer).patch(f"/api/v1/reviews/{review.pk}/checklist/5/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not ChecklistEntry.objects.exists()


def test_a_body_that_is_not_an_object_is_refused(api_as, review, trial, reviewer):
    response = api_as(reviewer).patch(f"/api/v1/reviews/{review.pk}/checklist/5/", ["done"], format="json")
    assert response.status_code == 400 and "body" in response.json()["error"]["details"]
    form = api_as(reviewer).patch(f"/api/v1/reviews/{review.pk}/checklist/5/", {"status": "drafted"})
    assert form.status_code == 200 and form.json()["status"] == "drafted"  # a form body works too


def test_an_unknown_item_is_not_found(api_as, review, trial, reviewer):
    response = api_as(reviewer).patch(f"/api/v1/reviews/{review.pk}/checklist/99/", {"status": "done"}, format="json")
    assert response.status_code == 404 and "no checklist item '99'" in response.json()["error"]["message"]


def test_who_may_edit(api_as, review, trial, contributor, outsider, analyst, coordinator):
    url = f"/api/v1/reviews/{review.pk}/checklist/A1/"
    assert api_as(contributor).patch(url, {"status": "done"}, format="json").status_code == 403
    assert api_as(contributor).get(f"/api/v1/reviews/{review.pk}/checklist/").status_code == 403
    assert api_as(outsider).patch(url, {"status": "done"}, format="json").status_code == 404
    assert api_as(analyst).patch(url, {"status": "drafted"}, format="json").status_code == 200
    assert api_as(coordinator).patch(url, {"status": "not_applicable"}, format="json").status_code == 200


def test_the_page_saves_an_item_and_the_overview_shows_completion(client, review, trial, reviewer):
    client.force_login(reviewer)
    page = client.get(reverse("reporting:checklist", args=[review.pk]))
    assert page.status_code == 200 and 'name="status"' in page.content.decode()
    response = client.post(
        reverse("reporting:checklist-item", args=[review.pk, "A3"]), {"status": "done", "location": "p. 9"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#item-A3")
    overview = client.get(reverse("dashboard:review-overview", args=[review.pk])).content.decode()
    total = len(checklist.ITEMS)
    assert "PRISMA-IPD checklist" in overview and f"1 of {total} items done or not applicable" in overview
    assert reverse("reporting:prisma", args=[review.pk]) in overview


def test_the_checklist_exports_as_csv(client, api_as, review, trial, reviewer):
    api_as(reviewer).patch(f"/api/v1/reviews/{review.pk}/checklist/17/", {"status": "drafted"}, format="json")
    client.force_login(reviewer)
    response = client.get(reverse("reporting:checklist-csv", args=[review.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = {row["item"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert list(rows) == list(checklist.ITEM_IDS)
    assert rows["17"]["status"] == "Drafted" and "PRISMA-IPD flow diagram" in rows["17"]["evidence"]
    api = api_as(reviewer).get(f"/api/v1/reviews/{review.pk}/checklist.csv")
    assert api.status_code == 200 and api.content == response.content
