"""The harmonisation API: who may read and change what, the error shape, the apply job and the log's CSV."""

import csv
import hashlib
import io

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.harmonisation import services
from apps.harmonisation.models import MappingRule, SchemaVariable
from apps.jobs.models import Job
from tests.harmonisation.conftest import parsed_version, set_rules

pytestmark = pytest.mark.django_db

ROLES = ["coordinator", "analyst", "reviewer", "contributor", "outsider"]


@pytest.fixture
def users(coordinator, analyst, reviewer, contributor, outsider):
    return {
        "coordinator": coordinator,
        "analyst": analyst,
        "reviewer": reviewer,
        "contributor": contributor,
        "outsider": outsider,
    }


@pytest.fixture
def applied(mapping, schema, analyst):
    set_rules(mapping, schema, analyst)
    services.harmonised_table_build(mapping=mapping, actor=analyst)
    return mapping


@pytest.mark.parametrize(
    "role, expected",
    [("coordinator", 200), ("analyst", 200), ("reviewer", 200), ("contributor", 200), ("outsider", 404)],
)
def test_schema_read(api_as, users, review, schema, role, expected):
    response = api_as(users[role]).get(reverse("api-schema-list", args=[review.pk]))
    assert response.status_code == expected
    if expected == 200:
        assert [item["name"] for item in response.json()["results"]][:3] == ["USUBJID", "SEX", "AGE"]


@pytest.mark.parametrize(
    "role, expected",
    [("coordinator", 201), ("analyst", 201), ("reviewer", 403), ("contributor", 403), ("outsider", 404)],
)
def test_schema_create(api_as, users, review, role, expected):
    body = {"name": "BMI", "type": "number", "unit": "kg/m2", "minimum": 10, "maximum": 80}
    response = api_as(users[role]).post(reverse("api-schema-list", args=[review.pk]), body, format="json")
    assert response.status_code == expected, response.content
    assert SchemaVariable.objects.filter(review=review, name="BMI").exists() == (expected == 201)


def test_schema_bad_input_names_the_field(api_as, coordinator, review, schema):
    url = reverse("api-schema-list", args=[review.pk])
    response = api_as(coordinator).post(url, {"name": "AGE", "type": "number"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    response = api_as(coordinator).post(url, {"name": "X", "minimum": 3, "maximum": 1}, format="json")
    assert response.status_code == 400 and "maximum" in response.json()["error"]["details"]


@pytest.mark.parametrize(
    "role, expected", [("analyst", 200), ("reviewer", 403), ("contributor", 403), ("outsider", 404)]
)
def test_schema_update(api_as, users, schema, role, expected):
    url = reverse("api-schema-variable-detail", args=[schema["AGE"].pk])
    response = api_as(users[role]).patch(url, {"maximum": 90}, format="json")
    assert response.status_code == expected
    schema["AGE"].refresh_from_db()
    assert schema["AGE"].maximum == (90 if expected == 200 else 100)


def test_schema_delete_refused_while_rules_use_it(api_as, coordinator, applied, schema):
    age_before = SchemaVariable.objects.filter(pk=schema["AGE"].pk).values().get()
    rules_before = list(MappingRule.objects.order_by("pk").values())
    events_before = AuditEvent.objects.count()
    response = api_as(coordinator).delete(reverse("api-schema-variable-detail", args=[schema["AGE"].pk]))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "in_use"
    assert error["message"].startswith("AGE is used by mapping rules")
    assert SchemaVariable.objects.filter(pk=schema["AGE"].pk).values().get() == age_before
    assert list(MappingRule.objects.order_by("pk").values()) == rules_before
    assert AuditEvent.objects.count() == events_before

    response = api_as(coordinator).delete(reverse("api-schema-variable-detail", args=[schema["ITTFL"].pk]))
    assert response.status_code == 204
    assert not SchemaVariable.objects.filter(pk=schema["ITTFL"].pk).exists()
    assert AuditEvent.objects.count() == events_before + 1
    event = AuditEvent.objects.get(object_id=str(schema["ITTFL"].pk), action=AuditEvent.Action.DELETE)
    assert (event.object_type, event.actor, event.before["name"]) == ("schemavariable", coordinator, "ITTFL")


@pytest.mark.parametrize(
    "role, expected",
    [("coordinator", 201), ("analyst", 201), ("reviewer", 403), ("contributor", 403), ("outsider", 404)],
)
def test_mapping_create(api_as, users, trial, version, role, expected):
    url = reverse("api-mapping-list", args=[trial.pk])
    response = api_as(users[role]).post(url, {"source_version": version.pk}, format="json")
    assert response.status_code == expected
    if expected == 201:
        assert response.json()["number"] == 1 and response.json()["source_sha256"] == version.sha256


def test_mapping_of_another_trials_version_is_refused(api_as, analyst, trial, other_trial):
    foreign = parsed_version(other_trial)
    response = api_as(analyst).post(reverse("api-mapping-list", args=[trial.pk]), {"source_version": foreign.pk})
    assert response.status_code == 400 and "source_version" in response.json()["error"]["details"]


def test_contributor_sees_only_the_mappings_of_assigned_trials(api_as, contributor, other_trial, mapping, analyst):
    other = services.mapping_create(trial=other_trial, source_version=parsed_version(other_trial), actor=analyst)
    client = api_as(contributor)
    assert client.get(reverse("api-mapping-detail", args=[mapping.pk])).status_code == 200
    assert client.get(reverse("api-mapping-detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("api-mapping-list", args=[other_trial.pk])).status_code == 404


def test_rules_set_again_and_history(api_as, analyst, coordinator, mapping, schema):
    url = reverse("api-mapping-rules", args=[mapping.pk])
    body = {"target": schema["AGE"].pk, "category": "direct", "source_variables": ["age"]}
    first = api_as(analyst).post(url, body, format="json")
    assert first.status_code == 201 and first.json()["revision"] == 1 and first.json()["set_by"] == analyst.username
    assert api_as(analyst).post(url, body, format="json").status_code == 200  # unchanged
    changed = {**body, "category": "expression", "parameters": {"expression": "round(age)"}, "rationale": "r"}
    second = api_as(coordinator).post(url, changed, format="json")
    assert second.status_code == 201 and second.json()["revision"] == 2
    assert second.json()["source_variables"] == ["age"]
    current = api_as(analyst).get(url).json()
    assert [(r["target_name"], r["revision"]) for r in current] == [("AGE", 2)]
    history = api_as(analyst).get(url, {"history": "true"}).json()
    assert [(r["revision"], r["is_current"], r["superseded_by"]) for r in history] == [
        (2, True, None),
        (1, False, coordinator.username),
    ]


def test_rule_errors_name_the_problem(api_as, analyst, mapping, schema):
    url = reverse("api-mapping-rules", args=[mapping.pk])
    response = api_as(analyst).post(
        url,
        {"target": schema["AGE"].pk, "category": "expression", "parameters": {"expression": "agee * 2"}},
        format="json",
    )
    assert response.status_code == 400
    assert "Unknown column 'agee'" in response.json()["error"]["message"]
    assert "Did you mean age?" in response.json()["error"]["message"]


def test_rule_for_another_reviews_variable_is_refused(api_as, analyst, outsider, mapping):
    foreign = SchemaVariable.objects.create(review=outsider.memberships.get().review, name="AGE")
    response = api_as(analyst).post(
        reverse("api-mapping-rules", args=[mapping.pk]),
        {"target": foreign.pk, "category": "direct", "source_variables": ["age"]},
        format="json",
    )
    assert response.status_code == 400 and not MappingRule.objects.exists()


@pytest.mark.parametrize("role, expected", [("reviewer", 403), ("contributor", 403), ("outsider", 404)])
def test_rules_cannot_be_set_by_readers(api_as, users, mapping, schema, role, expected):
    response = api_as(users[role]).post(
        reverse("api-mapping-rules", args=[mapping.pk]),
        {"target": schema["AGE"].pk, "category": "direct", "source_variables": ["age"]},
        format="json",
    )
    assert response.status_code == expected and not MappingRule.objects.exists()


def test_rule_remove_keeps_it_in_history(api_as, analyst, applied, schema):
    url = reverse("api-mapping-rule-remove", args=[applied.pk, schema["AGE"].pk])
    assert api_as(analyst).delete(url).status_code == 204
    assert api_as(analyst).delete(url).status_code == 404
    rule = MappingRule.objects.get(mapping=applied, target=schema["AGE"])
    assert api_as(analyst).get(reverse("api-rule-detail", args=[rule.pk])).json()["is_current"] is False


@pytest.mark.parametrize(
    "role, expected", [("analyst", 202), ("reviewer", 403), ("contributor", 403), ("outsider", 404)]
)
def test_apply_answers_202_with_the_job(
    api_as, users, mapping, schema, analyst, role, expected, django_capture_on_commit_callbacks
):
    set_rules(mapping, schema, analyst)
    with django_capture_on_commit_callbacks(execute=False):
        response = api_as(users[role]).post(reverse("api-mapping-apply", args=[mapping.pk]))
    assert response.status_code == expected
    if expected == 202:
        job = Job.objects.get(pk=response.json()["id"])
        assert (job.kind, job.state, job.target_id) == ("harmonise", "queued", str(mapping.pk))
        jobs = api_as(users[role]).get(reverse("api-mapping-jobs", args=[mapping.pk])).json()["results"]
        assert [item["id"] for item in jobs] == [job.pk]
    else:
        assert not Job.objects.exists()


def test_suggestions_and_preview(api_as, reviewer, applied):
    client = api_as(reviewer)
    suggestions = client.get(reverse("api-mapping-suggestions", args=[applied.pk])).json()
    assert any(item["target"] == "USUBJID" and item["source"] == "patid" for item in suggestions)
    preview = client.get(reverse("api-mapping-preview", args=[applied.pk])).json()
    assert preview["n_rows"] == 6 and preview["columns"][1] == "USUBJID" and preview["errors"] == {}
    tables = client.get(reverse("api-mapping-tables", args=[applied.pk])).json()["results"]
    assert tables[0]["n_rows"] == 6 and tables[0]["n_flagged_rows"] == 3


def test_review_by_another_person(api_as, analyst, coordinator, applied):
    url = reverse("api-mapping-review", args=[applied.pk])
    assert api_as(analyst).post(url).status_code == 409
    response = api_as(coordinator).post(url)
    assert response.status_code == 200 and response.json()["reviewed_by"] == coordinator.username


@pytest.mark.parametrize(
    "role, trial_log, review_log",
    [
        ("coordinator", 200, 200),
        ("analyst", 200, 200),
        ("reviewer", 200, 200),
        ("contributor", 200, 403),
        ("outsider", 404, 404),
    ],
)
def test_log_access(api_as, users, review, trial, applied, role, trial_log, review_log):
    client = api_as(users[role])
    response = client.get(reverse("api-trial-log", args=[trial.pk]))
    assert response.status_code == trial_log
    if trial_log == 200:
        assert len(response.json()) == 8 and response.json()[0]["target"] == "USUBJID"
    assert client.get(reverse("api-review-log", args=[review.pk])).status_code == review_log


def test_contributor_cannot_read_the_log_of_an_unassigned_trial(api_as, contributor, other_trial):
    assert api_as(contributor).get(reverse("api-trial-log", args=[other_trial.pk])).status_code == 404


def test_review_log_covers_each_trials_latest_mapping(api_as, reviewer, review, applied, other_trial, schema, analyst):
    newer = services.mapping_create(trial=other_trial, source_version=parsed_version(other_trial), actor=analyst)
    services.mapping_rule_set(
        mapping=newer, target=schema["AGE"], actor=analyst, category="direct", source_variables=["age"]
    )
    rows = api_as(reviewer).get(reverse("api-review-log", args=[review.pk])).json()
    assert {(row["trial_id"], row["target"]) for row in rows if row["target"] == "AGE"} == {
        (applied.trial_id, "AGE"),
        (other_trial.pk, "AGE"),
    }


def read_csv(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_log_csv_escapes_formulas(api_as, reviewer, trial, review, mapping, schema, analyst):
    services.mapping_rule_set(
        mapping=mapping,
        target=schema["AGE"],
        actor=analyst,
        category="direct",
        source_variables=["age"],
        rationale='=HYPERLINK("http://evil.example","click")',
        query_reference="+Q1",
    )
    services.mapping_rule_set(
        mapping=mapping,
        target=schema["ITTFL"],
        actor=analyst,
        category="impossible",
        rationale="-not recorded",
        query_reference="@SUM(A1)",
    )
    client = api_as(reviewer)
    for response in (
        client.get(reverse("api-trial-log", args=[trial.pk]), {"format": "csv"}),
        client.get(reverse("api-trial-log-csv", args=[trial.pk])),
        client.get(reverse("api-review-log-csv", args=[review.pk])),
    ):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith("attachment; filename=")
        rows = {row["target"]: row for row in read_csv(response)}
        assert rows["AGE"]["rationale"] == '\'=HYPERLINK("http://evil.example","click")'
        assert rows["AGE"]["query_reference"] == "'+Q1"
        assert rows["ITTFL"]["rationale"] == "'-not recorded"
        assert rows["ITTFL"]["query_reference"] == "'@SUM(A1)"
        assert (
            rows["AGE"]["set_by"] == analyst.username and rows["AGE"]["input_sha256"] == mapping.source_version.sha256
        )


def test_log_csv_errors_keep_their_status_and_the_error_shape(api_as, outsider, contributor, trial, review):
    response = api_as(outsider).get(reverse("api-trial-log-csv", args=[trial.pk]))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"
    response = api_as(contributor).get(reverse("api-review-log-csv", args=[review.pk]))
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "The review-wide log is for the review team; open the log of one of your trials.",
        "details": {},
    }


def test_mapping_create_copying_rules(api_as, analyst, trial, applied, other_trial):
    url = reverse("api-mapping-list", args=[trial.pk])
    version = parsed_version(trial, number=2)
    response = api_as(analyst).post(url, {"source_version": version.pk, "copy_rules_from": applied.pk}, format="json")
    assert response.status_code == 201
    assert len(response.json()["rules"]) == 8 and response.json()["revision"] == 8
    foreign = services.mapping_create(trial=other_trial, source_version=parsed_version(other_trial), actor=analyst)
    refused = api_as(analyst).post(url, {"source_version": version.pk, "copy_rules_from": foreign.pk}, format="json")
    assert refused.status_code == 400 and "copy_rules_from" in refused.json()["error"]["details"]


def test_harmonised_table_downloads(
    api_as, reviewer, contributor, outsider, trial, other_trial, mapping, schema, analyst
):
    set_rules(mapping, schema, analyst)
    services.mapping_rule_set(
        mapping=mapping,
        target=schema["ITTFL"],
        actor=analyst,
        category="expression",
        parameters={"expression": "'=cmd' if age < 18 else 'Y'"},
    )
    table = services.harmonised_table_build(mapping=mapping, actor=analyst)
    parquet = api_as(reviewer).get(reverse("api-harmonised-table-download", args=[table.pk, "parquet"]))
    assert parquet.status_code == 200
    assert hashlib.sha256(b"".join(parquet.streaming_content)).hexdigest() == table.sha256

    response = api_as(contributor).get(reverse("api-harmonised-table-download", args=[table.pk, "csv"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="trial-{trial.pk}-mapping-1-r9.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["USUBJID"] for row in rows] == ["007", "008", "009", "010", "011", "012"]
    assert rows[2]["ITTFL"] == "'=cmd" and rows[2]["ITTFL__flag"] == "not an allowed value: '=cmd'"
    assert rows[0]["RANDDT"] == "2019-01-05" and rows[4]["AGE"] == ""

    assert api_as(outsider).get(reverse("api-harmonised-table-download", args=[table.pk, "csv"])).status_code == 404
    other = services.mapping_create(trial=other_trial, source_version=parsed_version(other_trial), actor=analyst)
    services.mapping_rule_set(
        mapping=other, target=schema["AGE"], actor=analyst, category="direct", source_variables=["age"]
    )
    hidden = services.harmonised_table_build(mapping=other, actor=analyst)
    assert api_as(contributor).get(reverse("api-harmonised-table-download", args=[hidden.pk, "csv"])).status_code == 404
