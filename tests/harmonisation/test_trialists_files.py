"""Harmonising files as trial teams send them: no value lost without a flag, suggestions that fit the values,
accepting suggestions in one step, personal data kept out unless a person says why, declarations in the log."""

import hashlib
import json

import pandas as pd
import pyreadstat
import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.datasets import services as dataset_services
from apps.datasets.models import DictionaryEntry
from apps.datasets.tasks import dataset_parse_task
from apps.harmonisation import rules, selectors, services, suggest
from apps.harmonisation.models import MappingRule
from apps.jobs.errors import JobInputError
from tests.harmonisation.test_from_upload import upload_and_parse

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def variable(review, coordinator, **spec):
    return services.schema_variable_create(review=review, actor=coordinator, **spec)


@pytest.fixture
def parse(trial, analyst, django_capture_on_commit_callbacks):
    def do(name: str, content: bytes):
        return upload_and_parse(trial, analyst, name, content, django_capture_on_commit_callbacks)

    return do


# --------------------------------------------------------------------------------- values never lost in silence


def test_decimal_commas_harmonise_to_numbers_without_flags(parse, trial, review, coordinator, analyst):
    version = parse("eu.csv", b"id;weight\n1;72,5\n2;80,1\n3;65\n")
    weight = variable(review, coordinator, name="WEIGHT", type="number", unit="kg")
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    services.mapping_rule_set(
        mapping=mapping,
        target=weight,
        actor=analyst,
        category="expression",
        parameters={"expression": "number(weight)"},
    )
    preview = selectors.mapping_preview(mapping)
    column = preview["columns"].index("WEIGHT")
    assert [row[column] for row in preview["rows"]] == [72.5, 80.1, 65.0]
    assert preview["stats"]["WEIGHT"]["flagged"] == 0


def test_number_of_text_it_cannot_read_is_flagged_and_named_in_the_preview_and_the_log(
    parse, trial, review, coordinator, analyst
):
    # A column that stays text (one value has a point, the others commas): number() must not lose values silently.
    version = parse("mixed.csv", b"id;dose\n1;12,5\n2;12.5\n3;n/a\n4;7\n")
    dose = variable(review, coordinator, name="DOSE", type="number")
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    services.mapping_rule_set(
        mapping=mapping, target=dose, actor=analyst, category="expression", parameters={"expression": "number(dose)"}
    )
    preview = selectors.mapping_preview(mapping)
    stats = preview["stats"]["DOSE"]
    assert stats["flagged"] == 2
    assert stats["flag_examples"] == [["not a number: '12,5'", 1], ["not a number: 'n/a'", 1]]
    flags = [row[preview["columns"].index("DOSE__flag")] for row in preview["rows"]]
    assert flags == ["not a number: '12,5'", None, "not a number: 'n/a'", None]

    client = Client()
    client.force_login(analyst)
    page = client.get(reverse("harmonisation:mapping-editor", args=[mapping.pk])).content.decode()
    assert 'id="preview-flags"' in page and "not a number: &#x27;12,5&#x27; (1 row)" in page

    table = services.harmonised_table_build(mapping=mapping)
    assert table.flags == {"DOSE": 2}
    (row,) = selectors.log_rows([mapping])
    assert row["flagged"] == 2
    assert row["flagged_values"] == "not a number: '12,5' (1 row); not a number: 'n/a' (1 row)"
    log_page = client.get(reverse("harmonisation:trial-log", args=[trial.pk])).content.decode()
    assert "2: not a number: &#x27;12,5&#x27; (1 row)" in log_page


@pytest.mark.parametrize(
    ("expression", "flag"),
    [
        ("log(x)", "log() of a value that is not above 0: 0.0"),
        ("sqrt(x - 1)", "sqrt() of a negative value: -1.0"),
        ("10 / x", "division by zero"),
        ("days_between(when, when)", "days_between(): not a date: '31/02/2020'"),
        ("date(when) if x >= 0 else None", "not a date: '31/02/2020'"),
    ],
)
def test_every_function_that_gives_missing_from_a_present_value_flags_it(expression, flag):
    frame = pd.DataFrame({"x": [0.0, 2.0], "when": pd.array(["31/02/2020", "2020-01-01"], dtype="string")})
    outcome = rules.apply_rule(
        rules.Rule("Y", rules.EXPRESSION, (), {"expression": expression}),
        rules.Target("Y", rules.TEXT if "date" in expression else rules.NUMBER),
        frame,
    )
    flags = outcome.flags.tolist()
    assert flags[0] == flag and pd.isna(flags[1])
    assert outcome.stats["flagged"] == 1


def test_an_explicit_none_is_not_a_loss():
    frame = pd.DataFrame({"x": [-1.0, 2.0]})
    rule = rules.Rule("Y", rules.EXPRESSION, (), {"expression": "x if x > 0 else None"})
    outcome = rules.apply_rule(rule, rules.Target("Y"), frame)
    assert outcome.stats["flagged"] == 0 and outcome.stats["missing"] == 1


def test_a_branch_not_taken_loses_nothing():
    frame = pd.DataFrame({"x": [-1.0, 0.0, 4.0, None]})
    guarded = rules.Rule("Y", rules.EXPRESSION, (), {"expression": "log(x) if x > 0 else None"})
    outcome = rules.apply_rule(guarded, rules.Target("Y"), frame)
    assert outcome.stats["flagged"] == 0 and outcome.stats["missing"] == 3
    # The branch taken where its value is lost still flags it.
    unguarded = rules.Rule("Y", rules.EXPRESSION, (), {"expression": "log(x) if x < 1 else sqrt(x)"})
    outcome = rules.apply_rule(unguarded, rules.Target("Y"), frame)
    flags = outcome.flags.tolist()
    assert flags[:2] == ["log() of a value that is not above 0: -1.0", "log() of a value that is not above 0: 0.0"]
    assert pd.isna(flags[2]) and pd.isna(flags[3])


# ------------------------------------------------------------------------------------------------ suggestions


def arms_schema(review, coordinator):
    return {
        "TRT01P": variable(
            review, coordinator, name="TRT01P", role="treatment", type="category",
            allowed_values=["intervention", "control"],
        ),
        "TIME_TO_RELAPSE": variable(review, coordinator, name="TIME_TO_RELAPSE", role="time", type="number"),
        "RELAPSE": variable(review, coordinator, name="RELAPSE", role="event", type="integer", allowed_values=[0, 1]),
    }  # fmt: skip


def suggestions_for(version, review) -> dict:
    found: dict[str, list] = {}
    for item in selectors.mapping_suggest(version, review):
        found.setdefault(item["target"], []).append(item)
    return found


def test_arms_coded_without_labels_are_never_suggested_into_one_arm(parse, review, coordinator):
    arms_schema(review, coordinator)
    version = parse("codes.csv", b"id,arm\n1,1\n2,2\n3,1\n4,2\n")
    assert "TRT01P" not in suggestions_for(version, review)


def test_arms_told_apart_by_their_labels_are_suggested(parse, review, coordinator, tmp_path):
    arms_schema(review, coordinator)
    frame = pd.DataFrame({"id": [1.0, 2.0, 3.0, 4.0], "arm": [1.0, 2.0, 1.0, 2.0]})
    path = tmp_path / "t.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels={"arm": {1.0: "Exercise", 2.0: "Usual care"}})
    version = parse("t.sav", path.read_bytes())
    (best, *_) = suggestions_for(version, review)["TRT01P"]
    assert best["parameters"] == {"arms": {"1": "intervention", "2": "control"}}
    assert rules.one_arm(best["parameters"]) is None


def test_a_recode_of_the_treatment_into_one_arm_is_warned_and_flagged_like_an_arm_mapping(
    parse, trial, review, coordinator, analyst
):
    schema = arms_schema(review, coordinator)
    version = parse("codes.csv", b"id,arm\n1,Dexa\n2,Placebo\n3,Unknown\n4,Placebo\n")
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    response = api(analyst).post(
        f"/api/v1/mappings/{mapping.pk}/rules/",
        {
            "target": schema["TRT01P"].pk,
            "category": "recode",
            "source_variables": ["arm"],
            "parameters": {"map": {"Dexa": "control", "Placebo": "control", "Unknown": "control"}},
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        "Every source code is mapped to the arm 'control': the table would hold no comparison."
    ]
    assert selectors.mapping_preview(mapping)["stats"]["TRT01P"]["flagged"] == 4


def test_a_person_who_puts_both_codes_in_one_arm_is_warned_and_the_rows_flagged(
    parse, trial, review, coordinator, analyst
):
    schema = arms_schema(review, coordinator)
    version = parse("codes.csv", b"id,arm\n1,1\n2,2\n3,1\n4,2\n")
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    response = api(analyst).post(
        f"/api/v1/mappings/{mapping.pk}/rules/",
        {
            "target": schema["TRT01P"].pk,
            "category": "treatment_arms",
            "source_variables": ["arm"],
            "parameters": {"arms": {"1": "intervention", "2": "intervention"}},
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        "Every source code is mapped to the arm 'intervention': the table would hold no comparison."
    ]
    preview = selectors.mapping_preview(mapping)
    assert preview["stats"]["TRT01P"]["flagged"] == 4
    client = Client()
    client.force_login(analyst)
    page = client.get(reverse("harmonisation:mapping-editor", args=[mapping.pk])).content.decode()
    assert "Every source code is mapped to the arm &#x27;intervention&#x27;" in page


def test_time_comes_from_a_numeric_variable_with_many_values_and_events_from_binary_ones(parse, review, coordinator):
    arms_schema(review, coordinator)
    rows = [f"{i},{i % 2},{30 + 7 * i},{(i + 1) % 2}" for i in range(10)]
    version = parse("relapse.csv", "\n".join(["id,time_to_relapse_yn,time_relapse,relapse", *rows]).encode())
    found = suggestions_for(version, review)
    # By name alone the 0/1 flag is a candidate for the time; its values rule it out.
    target = suggest.SchemaTarget("TIME_TO_RELAPSE", role="time")
    assert suggest.score(target, suggest.SourceVariable("time_to_relapse_yn"))[0] >= suggest.THRESHOLD
    assert {item["source"] for item in found["TIME_TO_RELAPSE"]} == {"time_relapse"}
    assert "time_relapse" not in {item["source"] for item in found["RELAPSE"]}
    assert found["RELAPSE"][0]["source"] == "relapse"


def test_a_labelled_two_valued_variable_is_an_event_candidate(parse, review, coordinator, tmp_path):
    arms_schema(review, coordinator)
    frame = pd.DataFrame({"id": [1.0, 2.0, 3.0], "relapse": [1.0, 2.0, 2.0]})
    path = tmp_path / "t.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels={"relapse": {1.0: "Yes", 2.0: "No"}})
    version = parse("t.sav", path.read_bytes())
    assert suggestions_for(version, review)["RELAPSE"][0]["source"] == "relapse"


# ------------------------------------------------------------------------------------ accepting suggestions


@pytest.fixture
def suggested(parse, trial, review, coordinator, analyst):
    schema = {
        "USUBJID": variable(review, coordinator, name="USUBJID", role="participant_id", type="text"),
        "AGE": variable(review, coordinator, name="AGE", type="integer"),
        "SEX": variable(review, coordinator, name="SEX", type="category", allowed_values=["M", "F"]),
        "BMI": variable(review, coordinator, name="BMI", type="number", description="Body mass index"),
    }
    version = parse("t.csv", b"usubjid,age,sex,body_mass\nP1,54,M,24.1\nP2,61,F,30.2\n")
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    return schema, mapping


def test_accepting_suggestions_above_a_score_records_who_accepted_them(suggested, analyst):
    schema, mapping = suggested
    response = api(analyst).post(
        f"/api/v1/mappings/{mapping.pk}/suggestions/accept/", {"min_score": 0.9}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    accepted = {rule["target_name"]: rule for rule in body["accepted"]}
    assert set(accepted) == {"USUBJID", "AGE", "SEX"}
    assert accepted["AGE"]["origin"] == "suggestion"
    assert accepted["AGE"]["origin_text"] == f"suggested (score 1.0: same name), accepted by {analyst.get_username()}"
    assert accepted["AGE"]["rationale"] == f"Suggested (same name; score 1.0), accepted by {analyst.get_username()}."
    assert accepted["AGE"]["set_by"] == analyst.get_username()
    skipped = {item["target"]: item["reason"] for item in body["skipped"]}
    assert "BMI" in skipped and "below 0.9" in skipped["BMI"] or skipped["BMI"] == "no suggestion"
    (row,) = [row for row in selectors.log_rows([mapping]) if row["target"] == "AGE"]
    assert row["origin"].startswith("suggested (score 1.0: same name), accepted by")


def test_accepting_never_replaces_a_persons_rule(suggested, analyst, coordinator):
    schema, mapping = suggested
    own = services.mapping_rule_set(
        mapping=mapping, target=schema["AGE"], actor=coordinator, category="expression",
        parameters={"expression": "age + 0"}, rationale="checked by hand",
    )  # fmt: skip
    body = api(analyst).post(f"/api/v1/mappings/{mapping.pk}/suggestions/accept/", {}, format="json").json()
    assert {"target": "AGE", "reason": "it has a rule already"} in body["skipped"]
    assert MappingRule.objects.get(mapping=mapping, target=schema["AGE"], superseded_at=None) == own
    # Nothing left to accept: 200.
    assert api(analyst).post(f"/api/v1/mappings/{mapping.pk}/suggestions/accept/", {}, format="json").status_code == 200


def test_accepting_needs_an_editor(suggested, reviewer):
    _, mapping = suggested
    url = f"/api/v1/mappings/{mapping.pk}/suggestions/accept/"
    assert api(reviewer).post(url, {}, format="json").status_code == 403
    assert not MappingRule.objects.filter(mapping=mapping).exists()


def test_a_score_outside_0_to_1_is_refused(suggested, analyst):
    _, mapping = suggested
    response = api(analyst).post(f"/api/v1/mappings/{mapping.pk}/suggestions/accept/", {"min_score": 2}, format="json")
    assert response.status_code == 400
    assert "min_score" in response.json()["error"]["details"]
    assert not MappingRule.objects.filter(mapping=mapping).exists()


def test_the_accept_button_on_the_editor(suggested, analyst):
    _, mapping = suggested
    client = Client()
    client.force_login(analyst)
    page = client.get(reverse("harmonisation:mapping-editor", args=[mapping.pk])).content.decode()
    assert reverse("harmonisation:mapping-suggestions-accept", args=[mapping.pk]) in page
    response = client.post(reverse("harmonisation:mapping-suggestions-accept", args=[mapping.pk]), {"min_score": "1"})
    assert response.status_code == 302
    assert set(MappingRule.objects.filter(mapping=mapping).values_list("target__name", flat=True)) == {
        "USUBJID",
        "AGE",
        "SEX",
    }


# -------------------------------------------------------------------------------------------- personal data


PERSONAL = b"id,email,age\n1,ana@example.org,54\n2,bo@example.com,61\n"


def test_a_personal_column_is_never_suggested_and_needs_a_rationale(parse, trial, review, coordinator, analyst):
    email = variable(review, coordinator, name="EMAIL", type="text")
    version = parse("p.csv", PERSONAL)
    assert version.dictionary.get(name="email").personal_data == "e-mail addresses"
    assert "EMAIL" not in suggestions_for(version, review)
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    response = api(analyst).post(
        f"/api/v1/mappings/{mapping.pk}/rules/",
        {"target": email.pk, "category": "direct", "source_variables": ["email"]},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "rationale" in error["details"] and "email (e-mail addresses) looks like personal data" in error["message"]
    assert not MappingRule.objects.filter(mapping=mapping).exists()
    # An expression naming it is refused the same way.
    with pytest.raises(Exception, match="looks like personal data"):
        services.mapping_rule_set(
            mapping=mapping, target=email, actor=analyst, category="expression", parameters={"expression": "email"}
        )
    # A keystroke is no reason.
    for rationale in ("x", "ok", "needed"):
        with pytest.raises(Exception, match="in at least 3 words"):
            services.mapping_rule_set(
                mapping=mapping, target=email, actor=analyst, category="direct", source_variables=["email"],
                rationale=rationale,
            )  # fmt: skip
    rule = services.mapping_rule_set(
        mapping=mapping, target=email, actor=analyst, category="direct", source_variables=["email"],
        rationale="Needed to send the follow-up questionnaire; agreed with the trial team (query 12).",
    )  # fmt: skip
    assert rule.pk is not None


def test_a_suggestion_of_a_personal_column_is_refused(parse, trial, review, coordinator, analyst):
    email = variable(review, coordinator, name="EMAIL", type="text")
    mapping = services.mapping_create(trial=trial, source_version=parse("p.csv", PERSONAL), actor=analyst)
    suggestion = {"category": "direct", "source_variables": ["email"], "parameters": {}, "reason": "same name"}
    with pytest.raises(Exception, match="never taken from a suggestion"):
        services.mapping_suggestion_accept(mapping=mapping, target=email, actor=analyst, suggestion=suggestion)


def test_the_apply_refuses_a_rule_reading_a_column_flagged_since(parse, trial, review, coordinator, analyst):
    email = variable(review, coordinator, name="CONTACT", type="text")
    version = parse("p.csv", b"id,contact,age\n1,x1,54\n2,x2,61\n")
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    services.mapping_rule_set(
        mapping=mapping, target=email, actor=analyst, category="direct", source_variables=["contact"]
    )
    # As a reading again with new declarations can leave it: the column now looks personal.
    DictionaryEntry.objects.filter(version=version, name="contact").update(personal_data="e-mail addresses")
    with pytest.raises(JobInputError, match="rule for CONTACT cannot be applied: .*contact \\(e-mail addresses\\)"):
        services.harmonised_table_build(mapping=mapping)


# ------------------------------------------------------------------------------------ declarations in the log


def test_the_log_cites_the_declarations_and_their_hash_on_the_rows_they_affect(
    parse, trial, review, coordinator, analyst
):
    age = variable(review, coordinator, name="AGE", type="integer")
    visit = variable(review, coordinator, name="VISIT", type="date")
    ident = variable(review, coordinator, name="USUBJID", type="text")
    gone = variable(review, coordinator, name="BMI", type="number")
    version = parse("d.csv", b"id,age,visit\n1,-99,01/02/2020\n2,40,13/02/2020\n")
    body = {"variables": {"age": {"missing_codes": ["-99"]}, "visit": {"date_format": "%d/%m/%Y"}}}
    job = dataset_services.dataset_declarations_set(version=version, actor=analyst, declarations=body)
    dataset_parse_task(job.pk)
    version.refresh_from_db()
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    for target, source in ((age, "age"), (visit, "visit"), (ident, "id")):
        services.mapping_rule_set(
            mapping=mapping, target=target, actor=analyst, category="direct", source_variables=[source]
        )
    services.mapping_rule_set(
        mapping=mapping, target=gone, actor=analyst, category="impossible", rationale="not collected"
    )
    table = services.harmonised_table_build(mapping=mapping)
    digest = hashlib.sha256(json.dumps(version.declarations, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert table.input_hashes["declarations_sha256"] == digest
    rows = {row["target"]: row for row in selectors.log_rows([mapping])}
    assert rows["AGE"]["input_declarations"] == 'age: missing codes "-99"'
    assert rows["VISIT"]["input_declarations"] == "visit: date format %d/%m/%Y"
    assert rows["AGE"]["input_declarations_sha256"] == rows["VISIT"]["input_declarations_sha256"] == digest
    assert rows["USUBJID"]["input_declarations"] == rows["USUBJID"]["input_declarations_sha256"] == ""
    assert rows["BMI"]["input_declarations"] == ""
    csv = api(analyst).get(f"/api/v1/trials/{trial.pk}/harmonisation-log.csv").content.decode()
    assert "input_declarations,input_declarations_sha256" in csv and digest in csv


def test_declarations_for_the_whole_file_affect_every_row_that_reads_a_variable(
    parse, trial, review, coordinator, analyst
):
    age = variable(review, coordinator, name="AGE", type="integer")
    version = parse("d.csv", b"id;age;w\n1;NA;1,5\n2;40;2,5\n")
    version.declarations = {"missing_codes": ["NA"], "decimal": ","}
    version.save(update_fields=["declarations"])
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    services.mapping_rule_set(mapping=mapping, target=age, actor=analyst, category="direct", source_variables=["age"])
    (row,) = selectors.log_rows([mapping])
    assert row["input_declarations"] == 'age: decimal mark "," for the file; missing codes "NA"'


def test_yes_and_no_events_are_suggested_as_a_recode_to_the_schemas_codes(parse, review, coordinator, tmp_path):
    arms_schema(review, coordinator)
    lines = ["id,died,notes"] + [f"{index},{'yes' if index % 3 == 0 else 'no'},free text {index}" for index in range(9)]
    version = parse("deaths.csv", "\n".join(lines).encode())
    (best, *_) = suggestions_for(version, review)["RELAPSE"]
    assert (best["source"], best["category"], best["parameters"]) == ("died", "recode", {"map": {"yes": 1, "no": 0}})
    frame = pd.DataFrame({"id": [1.0, 2.0], "relapse": [1.0, 2.0]})
    path = tmp_path / "t.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels={"relapse": {1.0: "Yes", 2.0: "No"}})
    labelled = parse("t.sav", path.read_bytes())
    (best, *_) = suggestions_for(labelled, review)["RELAPSE"]
    assert best["parameters"] == {"map": {"1": 1, "2": 0}}


def test_file_wide_missing_codes_are_cited_only_where_they_matched_a_value(parse, trial, review, coordinator, analyst):
    age = variable(review, coordinator, name="AGE", type="integer")
    ident = variable(review, coordinator, name="USUBJID", type="text")
    version = parse("d.csv", b"id,age\n1,-99\n2,40\n")
    job = dataset_services.dataset_declarations_set(
        version=version, actor=analyst, declarations={"missing_codes": ["-99"]}
    )
    dataset_parse_task(job.pk)
    version.refresh_from_db()
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    for target, source in ((age, "age"), (ident, "id")):
        services.mapping_rule_set(
            mapping=mapping, target=target, actor=analyst, category="direct", source_variables=[source]
        )
    rows = {row["target"]: row for row in selectors.log_rows([mapping])}
    assert '"-99"' in rows["AGE"]["input_declarations"] and rows["AGE"]["input_declarations_sha256"]
    assert rows["USUBJID"]["input_declarations"] == rows["USUBJID"]["input_declarations_sha256"] == ""
