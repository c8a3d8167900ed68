"""Declared missing codes and date formats: checked, stored with an audit event, and the stored upload read again
with them into a table of its own; the file's own missing values (SPSS, Stata) counted and shown."""

import datetime

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.core.models import AuditEvent
from apps.datasets import declarations, selectors, services
from apps.datasets.models import DatasetVersion, DictionaryEntry
from apps.datasets.storage import dataset_storage, parsed_name
from apps.jobs.models import Job

from .conftest import client_for, run_parse, stored_bytes

pytestmark = pytest.mark.django_db

CSV = (
    b"id,score,age,visit\n"
    b"001,NA,34,01/02/2020\n"
    b"002,3,-99,01/13/2020\n"
    b"003,4,51,02/14/2020\n"
    b"004,NA,-99,03/15/2020\n"
    b"005,5,47,04/20/2020\n"
)


@pytest.fixture
def version(ingest):
    return ingest("trial.csv", CSV)


def entry(version, name) -> DictionaryEntry:
    return version.dictionary.get(name=name)


def declare(version, actor, body) -> DatasetVersion:
    """Declare through the service and run the parse job it queues, as a worker would."""
    job = services.dataset_declarations_set(version=version, actor=actor, declarations=body)
    assert job is not None
    return run_parse(version)


def url(version) -> str:
    return f"/api/v1/datasets/{version.pk}/declarations/"


def parse_jobs(version) -> int:
    return Job.objects.filter(target_type="datasets.datasetversion", target_id=str(version.pk)).count()


# ------------------------------------------------------------------------------------------ parsing


def test_na_stays_text_without_a_declaration_and_is_missing_with_one(version, analyst):
    score = entry(version, "score")
    assert (score.type, score.n_missing, score.n_declared_missing, score.missing_codes) == ("text", 0, 0, [])
    version = declare(version, analyst, {"variables": {"score": {"missing_codes": ["NA"]}}})
    score = entry(version, "score")
    assert (score.type, score.n_missing, score.n_declared_missing) == ("integer", 2, 2)
    assert score.missing_codes == [{"code": "NA", "count": 2, "declared_by": "declaration"}]
    assert selectors.version_frame(version)["score"].tolist() == [pd.NA, 3, 4, pd.NA, 5]
    # Identifiers are untouched: "001" stays text.
    assert entry(version, "id").type == "text"
    assert selectors.version_frame(version)["id"].tolist() == ["001", "002", "003", "004", "005"]


def test_minus_99_declared_missing_leaves_an_integer_column_without_it(version, analyst):
    age = entry(version, "age")
    assert (age.type, age.minimum, age.n_missing) == ("integer", "-99", 0)
    version = declare(version, analyst, {"variables": {"age": {"missing_codes": ["-99"]}}})
    age = entry(version, "age")
    assert (age.type, age.minimum, age.maximum, age.n_missing, age.n_declared_missing) == ("integer", "34", "51", 2, 2)
    assert selectors.version_frame(version)["age"].tolist() == [34, pd.NA, 51, pd.NA, 47]


def test_codes_of_every_variable_add_to_a_variables_own(version, analyst):
    body = {"missing_codes": ["NA"], "variables": {"age": {"missing_codes": ["-99"]}}}
    version = declare(version, analyst, body)
    assert entry(version, "score").n_declared_missing == 2
    assert entry(version, "age").missing_codes == [
        {"code": "-99", "count": 2, "declared_by": "declaration"},
        {"code": "NA", "count": 0, "declared_by": "declaration"},
    ]
    assert entry(version, "age").n_declared_missing == 2
    assert version.declarations == body


def test_a_declared_date_format_beats_detection_and_counts_its_failures(version, analyst):
    visit = entry(version, "visit")
    # Detected: month first, as every value reads that way (01/13/2020 cannot be day first).
    assert (visit.type, visit.source_format, visit.minimum) == ("date", "%m/%d/%Y", "2020-01-02")
    version = declare(version, analyst, {"variables": {"visit": {"date_format": "%d/%m/%Y"}}})
    visit = entry(version, "visit")
    # Declared day first: 01/02/2020 is 1 February; the four others fail and are counted, the column stays dates.
    assert (visit.type, visit.source_format, visit.date_format_declared) == ("date", "%d/%m/%Y", True)
    assert (visit.n_invalid, visit.n_missing, visit.minimum) == (4, 4, "2020-02-01")
    assert visit.invalid_examples == ["01/13/2020", "02/14/2020", "03/15/2020", "04/20/2020"]
    frame = selectors.version_frame(version)
    assert frame["visit"][0] == pd.Timestamp("2020-02-01") and frame["visit"][1:].isna().all()
    # The stored upload keeps the values as written.
    assert b"01/13/2020" in stored_bytes(version)


def test_a_declared_format_with_a_time_reads_datetimes(ingest, analyst):
    version = ingest("times.csv", b"id,seen\n1,01/02/2020 14:05\n2,3/2/2020 09:30\n3,never\n")
    assert entry(version, "seen").type == "text"
    version = declare(version, analyst, {"variables": {"seen": {"date_format": "%d/%m/%Y %H:%M"}}})
    seen = entry(version, "seen")
    assert (seen.type, seen.n_invalid, seen.invalid_examples) == ("datetime", 1, ["never"])
    assert selectors.version_frame(version)["seen"][1] == pd.Timestamp("2020-02-03 09:30")


def test_declared_missing_codes_are_not_date_failures(ingest, analyst):
    version = ingest("dates.csv", b"id,visit\n1,2020-01-05\n2,unknown\n3,2020-02-01\n4,31/02/2020\n")
    body = {"variables": {"visit": {"missing_codes": ["unknown"], "date_format": "%Y-%m-%d"}}}
    version = declare(version, analyst, body)
    visit = entry(version, "visit")
    assert (visit.type, visit.n_declared_missing, visit.n_invalid, visit.invalid_examples) == (
        "date",
        1,
        1,
        ["31/02/2020"],
    )


# ------------------------------------------------------------------------------- storage and audit


def test_reading_again_keeps_the_upload_and_the_earlier_table(version, analyst):
    upload, first_table = version.storage_name, version.parquet_name
    assert first_table == parsed_name(version.sha256, services.PARSER_VERSION)
    first_bytes = dataset_storage().open(first_table, "rb").read()
    version = declare(version, analyst, {"missing_codes": ["NA"]})
    digest = declarations.declarations_hash(version.declarations)
    assert version.storage_name == upload and stored_bytes(version) == CSV
    assert version.parquet_name == parsed_name(version.sha256, services.PARSER_VERSION, digest) != first_table
    assert f".d{digest}.arrow" in version.parquet_name
    assert dataset_storage().open(first_table, "rb").read() == first_bytes
    # Removing every declaration reads the file as first read, into the table stored then.
    version = declare(version, analyst, {})
    assert version.parquet_name == first_table and version.declarations == {}
    assert entry(version, "score").type == "text"


def test_declaring_writes_an_audit_event_with_before_and_after(version, analyst, trial):
    services.dataset_declarations_set(
        version=version, actor=analyst, declarations={"variables": {"score": {"missing_codes": [" NA ", "NA"]}}}
    )
    event = AuditEvent.objects.filter(object_type="datasetversion", object_id=str(version.pk)).latest("id")
    assert (event.action, event.actor, event.trial, event.review) == ("update", analyst, trial, trial.review)
    assert event.before["declarations"] == {} and event.before["status"] == "parsed"
    assert event.after["declarations"] == {"variables": {"score": {"missing_codes": ["NA"]}}}
    assert event.after["status"] == "queued"


def test_unchanged_declarations_read_nothing_again(version, analyst):
    body = {"variables": {"score": {"missing_codes": ["NA"]}}}
    version = declare(version, analyst, body)
    jobs = parse_jobs(version)
    assert services.dataset_declarations_set(version=version, actor=analyst, declarations=body) is None
    assert parse_jobs(version) == jobs


def test_a_version_being_parsed_takes_no_declarations(version, analyst):
    services.dataset_declarations_set(version=version, actor=analyst, declarations={"missing_codes": ["NA"]})
    response = client_for(analyst).put(url(version), {"missing_codes": ["-99"]}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_parsed"
    version.refresh_from_db()
    assert version.declarations == {"missing_codes": ["NA"]}


def test_a_reading_with_declarations_that_failed_can_be_declared_again(version, analyst, settings):
    settings.DATASET_MAX_ROWS = 3  # lowered since the first parse: the reading again fails
    version = declare(version, analyst, {"missing_codes": ["NA"]})
    assert version.status == "failed" and "rows" in version.error
    settings.DATASET_MAX_ROWS = 1000
    # The same declarations, or corrected ones, are taken: the file is read again.
    version = declare(version, analyst, {"missing_codes": ["NA"]})
    assert version.status == "parsed"
    assert entry(version, "score").n_declared_missing == 2


def test_a_parse_whose_declarations_changed_meanwhile_does_not_stand_for_them(version, analyst, monkeypatch):
    services.dataset_declarations_set(version=version, actor=analyst, declarations={"missing_codes": ["NA"]})
    reading = services.run_isolated

    def declarations_change_while_reading(*args, **kwargs):
        result = reading(*args, **kwargs)
        # What a concurrent change would leave in the row by the time this parse saves.
        DatasetVersion.objects.filter(pk=version.pk).update(declarations={"missing_codes": ["-99"]})
        return result

    monkeypatch.setattr(services, "run_isolated", declarations_change_while_reading)
    version = run_parse(version)
    job = Job.objects.filter(target_id=str(version.pk)).latest("pk")
    assert job.result["superseded"] is True
    assert version.status != "parsed"
    assert entry(version, "score").n_declared_missing == 0  # the dictionary of the first parse, untouched


def test_codes_naming_one_number_twice_count_it_once(ingest, analyst):
    version = ingest("ages.sav", _sav_with_ages())
    version = declare(version, analyst, {"variables": {"age": {"missing_codes": ["-99", "-99.0"]}}})
    age = entry(version, "age")
    assert age.n_declared_missing == 2
    # The value is counted under the first code naming it, not once per code.
    assert {item["code"]: item["count"] for item in age.missing_codes} == {"-99": 2, "-99.0": 0}


def _sav_with_ages() -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ages.sav"
        pyreadstat.write_sav(pd.DataFrame({"age": [34.0, -99.0, 51.0, -99.0]}), str(path))
        return path.read_bytes()


# ----------------------------------------------------------------------------------------------- API


def test_put_answers_202_with_the_parse_job_and_get_shows_the_declarations(version, api):
    body = {"missing_codes": ["NA"], "variables": {"visit": {"date_format": "%d/%m/%Y"}}}
    response = api.put(url(version), body, format="json")
    assert response.status_code == 202, response.content
    answer = response.json()
    assert (answer["version"], answer["status"], answer["declarations"]) == (version.pk, "queued", body)
    assert answer["job"]["state"] == "queued" and answer["job"]["id"] == Job.objects.latest("id").pk
    run_parse(version)
    assert api.get(url(version)).json()["declarations"] == body
    detail = api.get(f"/api/v1/datasets/{version.pk}/").json()
    assert detail["declarations"] == body
    visit = next(item for item in detail["dictionary"] if item["name"] == "visit")
    assert (visit["source_format"], visit["date_format_declared"], visit["n_invalid"]) == ("%d/%m/%Y", True, 4)
    score = next(item for item in detail["dictionary"] if item["name"] == "score")
    assert score["n_declared_missing"] == 2
    assert score["missing_codes"] == [{"code": "NA", "count": 2, "declared_by": "declaration"}]
    assert api.put(url(version), body, format="json").status_code == 200


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"variables": {"visit": {"date_format": "%d/%q/%Y"}}}, "variables.visit.date_format", "'%q' is not"),
        ({"variables": {"visit": {"date_format": "%d/%m"}}}, "variables.visit.date_format", "no year"),
        ({"variables": {"visit": {"date_format": "%Y-%m"}}}, "variables.visit.date_format", "a month and a day"),
        ({"variables": {"visit": {"date_format": "%d/%m/%Y %"}}}, "variables.visit.date_format", "lone '%'"),
        ({"variables": {"visit": {"date_format": 5}}}, "variables.visit.date_format", "as text"),
        ({"variables": {"sex": {"missing_codes": ["NA"]}}}, "variables.sex", "no variable 'sex'"),
        ({"variables": {"age": {"missing_codes": [-99]}}}, "variables.age.missing_codes", 'write -99 as "-99"'),
        ({"variables": {"age": {"missing_codes": "-99"}}}, "variables.age.missing_codes", "a list of codes"),
        ({"variables": {"age": {"missing": ["-99"]}}}, "variables.age", "unknown key 'missing'"),
        ({"missing_codes": ["NA", "  "]}, "missing_codes", "an empty code"),
        ({"missing_codes": ""}, "missing_codes", "a list of codes"),
        ({"missing_codes": False}, "missing_codes", "a list of codes"),
        ({"variables": {"age": {"missing_codes": 0}}}, "variables.age.missing_codes", "a list of codes"),
        ({"variables": ""}, "variables", "an object keyed by variable name"),
        ({"missing_codes": ["1,5"]}, "missing_codes", "holds a comma"),
        ({"codes": ["NA"]}, "declarations", "unknown key 'codes'"),
        (["NA"], "declarations", "give an object"),
    ],
)
def test_invalid_declarations_are_refused_naming_the_variable(version, api, body, field, words):
    response = api.put(url(version), body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_declaration"
    assert error["message"].startswith(f"{field}: ") and words in error["message"]
    assert words in error["details"][field][0]
    version.refresh_from_db()
    assert (version.declarations, version.status, parse_jobs(version)) == ({}, "parsed", 1)
    assert not AuditEvent.objects.filter(object_id=str(version.pk), action="update").exists()


def test_a_file_typed_date_takes_no_date_format(ingest, analyst, tmp_path):
    path = tmp_path / "dates.sav"
    frame = pd.DataFrame({"id": [1.0, 2.0], "randdt": [datetime.date(2020, 1, 5), datetime.date(2020, 2, 1)]})
    pyreadstat.write_sav(frame, str(path))
    version = ingest("dates.sav", path.read_bytes())
    assert entry(version, "randdt").type == "date"
    response = client_for(analyst).put(
        url(version), {"variables": {"randdt": {"date_format": "%Y-%m-%d"}}}, format="json"
    )
    assert response.status_code == 400
    assert "the file itself stores 'randdt' as a date" in response.json()["error"]["message"]


def test_who_may_declare(version, trial, make_member, reviewer, outsider, other_trial):
    body = {"missing_codes": ["NA"]}
    contributor = make_member(Role.CONTRIBUTOR, trials=[trial], username="own-contributor")
    elsewhere = DatasetVersion.objects.create(
        trial=trial.review.trials.create(title="Another trial of the review"),
        number=1,
        sha256="f" * 64,
        size=1,
        storage_name="uploads/ff/" + "f" * 64,
    )
    unassigned = make_member(Role.CONTRIBUTOR, trials=[elsewhere.trial], username="other-contributor")
    # Anyone who sees the trial reads the declarations.
    assert client_for(reviewer).get(url(version)).status_code == 200
    assert client_for(unassigned).get(url(version)).status_code == 404
    assert client_for(outsider).get(url(version)).status_code == 404
    refused = client_for(reviewer).put(url(version), body, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "upload_not_allowed"
    assert client_for(unassigned).put(url(version), body, format="json").status_code == 404
    assert client_for(outsider).put(url(version), body, format="json").status_code == 404
    version.refresh_from_db()
    assert version.declarations == {}
    assert client_for(contributor).put(url(version), body, format="json").status_code == 202


def test_declaring_needs_an_agreement_in_force_as_uploading_does(version, api, trial):
    trial.agreements.update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    response = api.put(url(version), {"missing_codes": ["NA"]}, format="json")
    assert response.status_code == 403
    assert "expired" in response.json()["error"]["message"]


# ---------------------------------------------------------------------------- the file's own missing values


def test_spss_user_missing_values_are_counted_and_shown(ingest, analyst, tmp_path):
    path = tmp_path / "trial.sav"
    frame = pd.DataFrame(
        {
            "age": [30.0, -99.0, 45.0, -2.0, -99.0, np.nan],
            "sex": ["m", "f", "NA", "m", "x", "f"],
            "score": [1.5, 2.5, 999.0, 3.0, 4.0, 5.0],
        }
    )
    pyreadstat.write_sav(
        frame,
        str(path),
        missing_ranges={"age": [-99, {"lo": -9, "hi": -1}], "sex": ["NA"], "score": [999]},
        variable_value_labels={"age": {-99: "Refused"}},
    )
    version = ingest("trial.sav", path.read_bytes())
    age, sex, score = entry(version, "age"), entry(version, "sex"), entry(version, "score")
    assert (age.type, age.n_missing, age.n_declared_missing, age.minimum) == ("integer", 4, 3, "30")
    assert sorted(age.missing_codes, key=lambda item: item["code"]) == [
        {"code": "-9 to -1", "count": 1, "declared_by": "file"},
        {"code": "-99", "count": 2, "declared_by": "file", "label": "Refused"},
    ]
    assert (sex.type, sex.n_missing, sex.missing_codes) == (
        "text",
        1,
        [{"code": "NA", "count": 1, "declared_by": "file"}],
    )
    assert (score.type, score.maximum, score.n_declared_missing) == ("number", "5.0", 1)
    assert selectors.version_frame(version)["age"].tolist() == [30, pd.NA, 45, pd.NA, pd.NA, pd.NA]
    # Declared codes apply to SPSS files too: numbers by value, text as written.
    body = {"variables": {"score": {"missing_codes": ["5"]}, "sex": {"missing_codes": ["x"]}}}
    version = declare(version, analyst, body)
    score, sex = entry(version, "score"), entry(version, "sex")
    assert (score.n_declared_missing, score.maximum) == (2, "4.0")
    assert score.missing_codes == [
        {"code": "5", "count": 1, "declared_by": "declaration"},
        {"code": "999", "count": 1, "declared_by": "file"},
    ]
    assert (sex.n_missing, sex.n_declared_missing) == (2, 2)


def test_stata_special_missing_values_are_counted_and_shown(ingest, tmp_path):
    path = tmp_path / "trial.dta"
    frame = pd.DataFrame(
        {"id": [1.0, 2.0, 3.0, 4.0, 5.0], "dose": pd.Series([10.0, "a", np.nan, "b", "a"], dtype=object)}
    )
    pyreadstat.write_dta(frame, str(path), missing_user_values={"dose": ["a", "b"]})
    version = ingest("trial.dta", path.read_bytes())
    dose = entry(version, "dose")
    assert (dose.type, dose.n_missing, dose.n_declared_missing) == ("integer", 4, 3)
    assert dose.missing_codes == [
        {"code": ".a", "count": 2, "declared_by": "file"},
        {"code": ".b", "count": 1, "declared_by": "file"},
    ]


# ---------------------------------------------------------------------------------------------- page


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def page_of(client, version) -> tuple[str, str]:
    """The version's page and the CSRF token its form carries."""
    response = client.get(reverse("datasets:version-detail", args=[version.pk]))
    assert response.status_code == 200
    return response.content.decode(), response.cookies["csrftoken"].value


def form_data(version, token, **fields) -> dict:
    """The declarations form as sent: every variable's two fields, empty unless given by name."""
    data = {"csrfmiddlewaretoken": token, "missing_codes": fields.pop("every", "")}
    for item in version.dictionary.all():
        data[f"missing_codes_{item.position}"] = fields.get(f"{item.name}_codes", "")
        data[f"date_format_{item.position}"] = fields.get(f"{item.name}_format", "")
    return data


def test_the_page_form_saves_the_declarations_and_shows_the_reading_again(version, analyst):
    client = signed_in(analyst)
    page, token = page_of(client, version)
    assert 'id="declarations"' in page and "Save and read the file again" in page
    assert '<label class="visually-hidden" for="missing_codes_2">Missing codes of score</label>' in page
    action = reverse("datasets:version-declarations", args=[version.pk])
    response = client.post(action, form_data(version, token, every="NA", age_codes="-99, .", visit_format="%d/%m/%Y"))
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.declarations == {
        "missing_codes": ["NA"],
        "variables": {"age": {"missing_codes": ["-99", "."]}, "visit": {"date_format": "%d/%m/%Y"}},
    }
    queued = client.get(response["Location"]).content.decode()
    assert "Declarations saved: the file is being read again with them." in queued
    assert "Queued" in queued and 'data-refresh-seconds="3"' in queued
    assert "Save and read the file again" not in queued and "-99, ." in queued
    run_parse(version)
    parsed, _ = page_of(client, version)
    assert "2 by missing codes" in parsed and '<span class="mono">NA</span>: 2' in parsed
    # Codes found nowhere in a variable are left out of its dictionary row (the API lists them with 0).
    assert '<span class="mono">-99</span>: 2' in parsed and '<span class="mono">.</span>: 0' not in parsed
    assert "(declared)" in parsed and "4 not read as date" in parsed
    assert 'value="-99, ."' in parsed and 'value="%d/%m/%Y"' in parsed


def test_the_page_form_shows_a_refused_format_next_to_its_variable(version, analyst):
    client = signed_in(analyst)
    _, token = page_of(client, version)
    action = reverse("datasets:version-declarations", args=[version.pk])
    response = client.post(action, form_data(version, token, score_codes="NA", visit_format="%d/%Q/%Y"))
    page = response.content.decode()
    assert response.status_code == 400
    assert (
        "variables.visit.date_format: &#x27;%d/%Q/%Y&#x27; cannot read dates" in page and "Nothing was saved." in page
    )
    position = entry(version, "visit").position
    assert f'id="date_format_{position}_errors"' in page and 'aria-invalid="true"' in page
    assert 'value="%d/%Q/%Y"' in page and 'value="NA"' in page  # what was sent is shown again
    version.refresh_from_db()
    assert (version.declarations, version.status) == ({}, "parsed")


def test_only_those_who_may_upload_get_the_form(version, analyst, reviewer, outsider):
    body = {"variables": {"score": {"missing_codes": ["NA"]}}}
    declare(version, analyst, body)
    page, token = page_of(signed_in(reviewer), version)
    assert "Save and read the file again" not in page
    assert '<dt class="mono">score</dt>' in page and 'missing: <span class="mono">NA</span>' in page
    action = reverse("datasets:version-declarations", args=[version.pk])
    assert signed_in(reviewer).post(action, form_data(version, token, every="-99")).status_code == 403
    assert signed_in(outsider).get(reverse("datasets:version-detail", args=[version.pk])).status_code == 404
    stranger = Client()  # without the CSRF check, to reach the view
    stranger.force_login(outsider)
    assert stranger.post(action, form_data(version, "", every="-99")).status_code == 404
    version.refresh_from_db()
    assert version.declarations == body


# ----------------------------------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    "fmt",
    ["%Y-%m-%d", "%d/%m/%Y", "%d%b%Y", "%d %B %Y", "%j/%Y", "%d/%m/%y", "%I:%M %p %d/%m/%Y", "%Y%m%d", "%a %d %b %Y"],
)
def test_formats_the_parser_reads_are_accepted(fmt):
    assert declarations.date_format_problem(fmt) is None


@pytest.mark.parametrize(
    ("fmt", "problem"),
    [
        ("%Y-%m-%d %z", "'%z' is not a directive"),
        ("%Y-%m-%dT%H:%M:%S.%f", "'%f' is not a directive"),
        ("%d/%m/%Y %I:%M", "needs both %I and %p"),
        ("%d/%d/%Y", "'%d' appears twice"),
        ("   ", "empty"),
    ],
)
def test_formats_the_parser_cannot_read_are_refused(fmt, problem):
    assert problem in declarations.date_format_problem(fmt)


def test_every_format_detection_knows_can_be_declared():
    assert [fmt for fmt in declarations.KNOWN_FORMATS if declarations.date_format_problem(fmt)] == []


def test_an_empty_date_format_is_refused_rather_than_dropped(ingest, analyst):
    version = ingest("dates.csv", b"id,visit\n1,01/02/2020\n2,13/02/2020\n")
    response = client_for(analyst).put(
        f"/api/v1/datasets/{version.pk}/declarations/", {"variables": {"visit": {"date_format": ""}}}, format="json"
    )
    assert response.status_code == 400
    assert "variables.visit.date_format" in response.json()["error"]["details"]
