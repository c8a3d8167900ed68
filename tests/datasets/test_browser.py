"""The upload page in a real Chromium: the script sends the file to the API and opens the new version."""

import pickle
import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from apps.accounts.models import Membership, Role
from apps.datasets import services
from apps.datasets.models import DatasetVersion
from apps.jobs import services as job_services
from tests.e2e.test_accessibility import axe_violations

from .conftest import run_parse, upload_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def unsent(monkeypatch):
    """No worker runs here: keep the parse jobs' messages out of the broker."""
    sent = []
    monkeypatch.setattr(job_services, "_enqueue", sent.append)
    return sent


@pytest.fixture
def signed_in(page, live_server, trial, review):
    user = get_user_model().objects.create_user(username="ines", password=PASSWORD)
    Membership.objects.create(review=review, user=user, role=Role.ANALYST)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("ines")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def open_upload_page(page, live_server, trial):
    page.goto(f"{live_server.url}/trials/{trial.pk}/datasets/")
    assert axe_violations(page) == []  # the list of versions
    page.get_by_role("link", name="Upload a file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload participant data")
    assert axe_violations(page) == []


def test_upload_through_the_page_script(signed_in, live_server, trial, unsent, tmp_path):
    page = signed_in
    api_posts = []
    page.on("request", lambda request: api_posts.append(request.url) if request.method == "POST" else None)
    open_upload_page(page, live_server, trial)
    content = b"id,arm\n" + b"".join(b"%03d,%d\n" % (row, row % 2) for row in range(50_000))
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "baseline.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_label("Note").fill("Baseline, first export")
    page.get_by_role("button", name="Upload").click()

    page.wait_for_url(re.compile(r"/datasets/\d+/$"))
    version = DatasetVersion.objects.get(trial=trial)
    expect(page.get_by_role("heading", level=1)).to_have_text("Version 1: baseline.csv")
    expect(page.locator("body")).to_contain_text(version.sha256)
    assert api_posts == [f"{live_server.url}/api/v1/trials/{trial.pk}/datasets/"]
    assert (version.size, version.note) == (len(content), "Baseline, first export")
    assert len(unsent) == 1
    page.goto(f"{live_server.url}/trials/{trial.pk}/datasets/")
    expect(page.locator("main")).to_contain_text("baseline.csv")
    assert axe_violations(page) == []  # the list with a version in it


def test_a_refused_file_shows_the_reason_on_the_page(signed_in, live_server, trial, unsent):
    page = signed_in
    open_upload_page(page, live_server, trial)
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "data.csv", "mimeType": "text/csv", "buffer": pickle.dumps({"a": 1}, protocol=4)}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-error")).to_contain_text("Python pickle files are not accepted")
    expect(page.get_by_role("button", name="Upload")).to_be_enabled()
    assert axe_violations(page) == []  # the page showing the refusal
    assert not DatasetVersion.objects.exists()


def test_declarations_are_set_on_the_version_page_which_passes_axe(signed_in, live_server, trial, unsent):
    page = signed_in
    analyst = get_user_model().objects.get(username="ines")
    content = b"id,score,visit\n001,NA,01/02/2020\n002,3,13/02/2020\n003,NA,14/02/2020\n"
    version, _ = services.dataset_upload(trial=trial, actor=analyst, file=upload_file("scores.csv", content))
    run_parse(version)
    page.goto(f"{live_server.url}/datasets/{version.pk}/")
    assert axe_violations(page) == []
    form = page.locator("#declarations form")
    form.get_by_label("Missing codes of score").fill("NA")
    form.get_by_label("Date format of visit").fill("%d/%m/%Q")
    form.get_by_role("button", name="Save and read the file again").click()
    # A refused format is shown next to its variable, and the page still passes.
    expect(page.locator("#declarations .form-errors")).to_contain_text("variables.visit.date_format")
    expect(form.get_by_label("Date format of visit")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []
    form.get_by_label("Date format of visit").fill("%d/%m/%Y")
    form.get_by_role("button", name="Save and read the file again").click()
    expect(page.locator(".messages")).to_contain_text("the file is being read again")
    expect(page.locator(".page-head")).to_contain_text("Queued")
    assert axe_violations(page) == []
    # Leave the queued page first: it reloads itself every 3 seconds, and a reload would abort the next visit.
    page.goto("about:blank")
    run_parse(version)
    page.goto(f"{live_server.url}/datasets/{version.pk}/")
    expect(page.locator("#dictionary-heading ~ .table-wrap")).to_contain_text("2 by missing codes")
    assert len(unsent) == 2


def test_a_workbook_version_page_says_where_the_table_was_warns_of_personal_data_and_gives_the_file_back(
    signed_in, live_server, trial, unsent, tmp_path
):
    import hashlib

    import openpyxl

    page = signed_in
    analyst = get_user_model().objects.get(username="ines")
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes["A1"] = "Export of the trial database"
    notes.merge_cells("A1:D1")
    data = workbook.create_sheet("Data")
    data["A1"] = "Participants"
    data.append([])
    data.append(["id", "surname", "email", "age"])
    for index, name in enumerate(["Lopez", "Smith", "Chen", "Okafor"]):
        data.append([index + 1, name, f"{name.lower()}@example.org", 40 + index])
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    content = path.read_bytes()
    version, _ = services.dataset_upload(trial=trial, actor=analyst, file=upload_file("export.xlsx", content))
    run_parse(version)
    page.goto(f"{live_server.url}/datasets/{version.pk}/")
    expect(page.locator("#dictionary-heading ~ p")).to_contain_text(
        "Read from sheet 'Data', header on row 3; other sheets, not read: 'Notes'."
    )
    warning = page.locator("#personal-data")
    expect(warning).to_contain_text("2 variables look like personal data")
    expect(warning).to_contain_text("surname (looks like personal names)")
    expect(warning).to_contain_text("email (e-mail addresses)")
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the original file").click()
    saved = download.value.path()
    assert download.value.suggested_filename == "export.xlsx"
    assert hashlib.sha256(open(saved, "rb").read()).hexdigest() == version.sha256
    # The sheet can be declared on the page: the notes sheet, which holds no table, is refused when read.
    form = page.locator("#declarations form")
    form.get_by_label("Sheet").select_option("Notes")
    form.get_by_role("button", name="Save and read the file again").click()
    expect(page.locator(".messages")).to_contain_text("the file is being read again")
    run_parse(version)
    page.goto(f"{live_server.url}/datasets/{version.pk}/")
    expect(page.locator("[role=alert]").first).to_contain_text("Other sheets hold a table: 'Data'")
    assert axe_violations(page) == []


def test_the_same_file_again_says_nothing_new_was_stored(signed_in, live_server, trial, unsent):
    page = signed_in
    content = b"id,arm\n001,1\n002,2\n"
    first, _ = services.dataset_upload(trial=trial, actor=None, file=upload_file("first.csv", content))
    page.goto(f"{live_server.url}/trials/{trial.pk}/datasets/upload/")
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "again.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Upload").click()
    notice = page.locator("#upload-identical")
    expect(notice).to_contain_text("identical to version 1 (first.csv")
    expect(notice).to_contain_text("nothing new was stored")
    expect(notice.get_by_role("link", name="Open version 1")).to_have_attribute("href", f"/datasets/{first.pk}/")
    assert DatasetVersion.objects.filter(trial=trial).count() == 1
    assert axe_violations(page) == []
