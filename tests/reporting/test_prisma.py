"""The PRISMA-IPD flow diagram: every box counted from the records, equal to the rows of the trial list filtered to
it, the template's arithmetic, the incomplete records, and the SVG, PNG, PDF and CSV downloads."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.reporting import prisma
from apps.trials.lifecycle import Status
from tests.conftest import add_member
from tests.reporting.conftest import EXPECTED, make_trial

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def _data(api_as, user, review):
    response = api_as(user).get(f"/api/v1/reviews/{review.pk}/prisma-ipd/")
    assert response.status_code == 200, response.content
    return response.json()


def _listed(client, review, value: str) -> tuple[int, set[int]]:
    """The trial list filtered by ?prisma=value: its count and its trials (every page)."""
    response = client.get(reverse("dashboard:trial-list", args=[review.pk]), {"prisma": value})
    assert response.status_code == 200, value
    paginator = response.context["page"].paginator
    return paginator.count, {trial.pk for trial in paginator.object_list}


def test_every_box_counts_exactly_its_trials(api_as, review, flow_trials, reviewer):
    data = _data(api_as, reviewer, review)
    boxes = {box["id"]: box for box in data["boxes"]}
    assert list(boxes) == list(prisma.BOX_IDS)
    for box_id, names in EXPECTED.items():
        expected = {flow_trials[name].pk for name in names}
        assert set(boxes[box_id]["trials"]) == expected, box_id
        assert boxes[box_id]["studies"] == len(expected), box_id
    for box in data["boxes"]:
        assert set(box) >= {"id", "label", "studies", "participants", "reasons", "trials"}


def test_each_box_equals_the_rows_of_the_trial_list_filtered_to_it(client, api_as, review, flow_trials, reviewer):
    data = _data(api_as, reviewer, review)
    client.force_login(reviewer)
    for box in data["boxes"]:
        count, trials = _listed(client, review, box["id"])
        assert count == box["studies"], box["id"]
        assert trials == set(box["trials"]), box["id"]
    incomplete = {item["trial"] for item in data["incomplete"]}
    assert _listed(client, review, "incomplete") == (len(incomplete), incomplete)
    duplicates = {flow_trials["duplicate"].pk}
    assert _listed(client, review, "duplicates") == (1, duplicates)


def test_participants_and_reasons(api_as, review, flow_trials, reviewer):
    boxes = {box["id"]: box for box in _data(api_as, reviewer, review)["boxes"]}
    provided = boxes["ipd_provided"]
    assert provided["participants"] == 101 + 90  # n_provided; the third trial's is not recorded
    assert provided["participants_no_data"] == 12
    assert provided["reasons"] == [{"reason": "Consent withdrawn", "n": 12}]
    assert boxes["excluded"]["reasons"] == [
        {"reason": "Not randomised", "n": 1},
        {"reason": prisma.NOT_RECORDED, "n": 1},
    ]
    assert boxes["ipd_not_provided"]["reasons"] == [
        {"reason": "Declined to share", "n": 1},
        {"reason": "No response", "n": 1},
    ]
    assert boxes["ipd_not_provided"]["participants"] == 104 + 105
    assert boxes["aggregate_available"]["participants"] == 104
    assert boxes["ipd_not_sought"]["reasons"] == [
        {"reason": prisma.NOT_RECORDED, "n": 1},
        {"reason": "Trial too small", "n": 1},
    ]


def test_the_arithmetic_holds_with_the_incomplete_records_between_its_sides(api_as, review, flow_trials, reviewer):
    data = _data(api_as, reviewer, review)
    boxes = {box["id"]: box["studies"] for box in data["boxes"]}
    rules = {rule["rule"]: rule for rule in data["arithmetic"]}
    assert all(rule["holds"] for rule in data["arithmetic"])
    assert boxes["identified_database"] + boxes["identified_other"] == 15
    assert boxes["after_duplicates"] == 15 - 1
    sought_rule = rules["screened - excluded = IPD sought + IPD not sought"]
    assert boxes["screened"] - boxes["excluded"] == boxes["ipd_sought"] + boxes["ipd_not_sought"] + 1
    assert sought_rule["incomplete"] == 1  # the eligible trial with no decision on seeking its IPD
    provided_rule = rules["IPD sought = provided + not provided + pending"]
    assert boxes["ipd_sought"] == boxes["ipd_provided"] + boxes["ipd_not_provided"] + boxes["ipd_pending"] + 1
    assert provided_rule["incomplete"] == 1  # the withdrawn trial


def test_incomplete_records_are_listed_with_what_they_lack(api_as, review, flow_trials, reviewer):
    problems = {}
    for item in _data(api_as, reviewer, review)["incomplete"]:
        problems.setdefault(item["trial"], []).append(item["problem"])
    expected = {
        "provided_unknown_n": "number of participants provided is not recorded",
        "pending_no_n": "participants randomised is not recorded",
        "withdrawn": "left the path (withdrawn)",
        "not_sought_no_reason": "IPD not sought, with no reason recorded",
        "undecided": "whether its IPD were sought is not recorded",
        "excluded_no_reason": "excluded, with no reason recorded",
        "not_screened": "not screened yet",
    }
    assert set(problems) == {flow_trials[name].pk for name in expected}
    for name, text in expected.items():
        assert any(text in problem for problem in problems[flow_trials[name].pk]), name


def test_the_pending_box_disappears_when_acquisition_is_over(api_as, review, trial, reviewer):
    make_trial(review, 30, ipd_sought=True, status=Status.CONTACTED)
    assert "ipd_pending" in {box["id"] for box in _data(api_as, reviewer, review)["boxes"]}
    review.trials.filter(status=Status.CONTACTED).update(
        ipd_provided=False, ipd_not_provided_reason="no_response", status=Status.NO_RESPONSE
    )
    ids = {box["id"] for box in _data(api_as, reviewer, review)["boxes"]}
    assert "ipd_pending" not in ids and "ipd_not_provided" in ids


def test_an_unknown_box_is_refused_on_the_trial_list(client, review, flow_trials, reviewer):
    client.force_login(reviewer)
    response = client.get(reverse("dashboard:trial-list", args=[review.pk]), {"prisma": "nonsense"})
    assert response.status_code == 400
    assert response.context["page"].paginator.count == 0
    assert "prisma=nonsense names nothing" in response.content.decode()


def test_the_svg_has_real_text_a_title_a_description_and_links_to_each_box(api_as, review, flow_trials, reviewer):
    response = api_as(reviewer).get(f"/api/v1/reviews/{review.pk}/prisma-ipd.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.find(f"{SVG}title").text.startswith("PRISMA-IPD flow diagram")
    assert "Studies excluded, with reasons: 2" in root.find(f"{SVG}desc").text
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert "Studies: 14" in texts  # after duplicates
    assert "Not randomised (1)" in texts
    links = {element.get("href") for element in root.iter(f"{SVG}a")}
    trial_list = reverse("dashboard:trial-list", args=[review.pk])
    for box_id in prisma.BOX_IDS:
        assert f"{trial_list}?prisma={box_id}" in links, box_id
    assert f"{trial_list}?prisma=incomplete" in links


def test_png_pdf_and_csv_downloads(client, api_as, review, flow_trials, reviewer):
    client.force_login(reviewer)
    png = client.get(reverse("reporting:prisma-download", args=[review.pk, "png"]))
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    pdf = api_as(reviewer).get(f"/api/v1/reviews/{review.pk}/prisma-ipd.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    rows = list(csv.DictReader(io.StringIO(client.get(f"/reviews/{review.pk}/prisma-ipd.csv").content.decode())))
    by_box = {row["box"]: row for row in rows}
    for box_id, names in EXPECTED.items():
        assert int(by_box[box_id]["studies"]) == len(names), box_id
    assert by_box["excluded"]["reasons"] == f"Not randomised (1); {prisma.NOT_RECORDED} (1)"
    assert int(by_box["incomplete"]["studies"]) == 7


def test_the_page_shows_the_diagram_inline_with_its_downloads(client, review, flow_trials, reviewer):
    client.force_login(reviewer)
    response = client.get(reverse("reporting:prisma", args=[review.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and 'aria-labelledby="prisma-page-title prisma-page-desc"' in html
    assert f"/reviews/{review.pk}/prisma-ipd.pdf" in html
    assert "Incomplete records" in html


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ANALYST, Role.REVIEWER])
def test_the_review_team_reads_the_diagram(api_as, review, trial, role):
    assert api_as(add_member(review, role)).get(f"/api/v1/reviews/{review.pk}/prisma-ipd/").status_code == 200


def test_contributors_are_refused_and_other_reviews_are_not_found(api_as, client, review, trial, contributor, outsider):
    refused = api_as(contributor).get(f"/api/v1/reviews/{review.pk}/prisma-ipd.svg")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    missing = api_as(outsider).get(f"/api/v1/reviews/{review.pk}/prisma-ipd/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    client.force_login(contributor)
    assert client.get(reverse("reporting:prisma", args=[review.pk])).status_code == 403


def test_text_that_xml_cannot_hold_is_left_out_of_the_files_not_a_server_error(api_as, review, reviewer):
    """A form feed or another control character typed into a title or a reason is valid text in the database but
    not in SVG, PDF or Word; the files are built without it."""
    review.title = "Otitis\f review \x01\U0001f1fa\U0001f1f8"
    review.save()
    make_trial(
        review, 12, screening_decision="excluded", exclusion_reason="Not\x0brandomised", status=Status.NOT_ELIGIBLE
    )
    client = api_as(reviewer)
    svg = client.get(f"/api/v1/reviews/{review.pk}/prisma-ipd.svg")
    assert svg.status_code == 200
    texts = "".join(ET.fromstring(svg.content).itertext())
    assert "Otitis review \U0001f1fa\U0001f1f8" in texts and "Notrandomised" in texts
    assert client.get(f"/api/v1/reviews/{review.pk}/prisma-ipd.pdf").content.startswith(b"%PDF")
    assert client.get(f"/api/v1/reviews/{review.pk}/prisma-ipd.png").content.startswith(b"\x89PNG")
    docx = client.get(f"/api/v1/reviews/{review.pk}/report.docx")
    assert docx.status_code == 200 and docx.content.startswith(b"PK")
