"""The harmonisation pages: content by role, forms that save through the services, errors that save nothing."""

import json

import pytest
from django.urls import reverse

from apps.harmonisation import services
from apps.harmonisation.models import Mapping, MappingRule, SchemaVariable
from apps.jobs.models import Job
from tests.harmonisation.conftest import set_rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_schema_page_for_readers_and_editors(as_user, reviewer, analyst, outsider, review, schema):
    page = as_user(reviewer).get(reverse("harmonisation:schema", args=[review.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "USUBJID" in content and "18 to 100" in content and "Add a variable" not in content
    assert "30.4375" in content  # the unit conventions are listed
    assert "Add a variable" in as_user(analyst).get(reverse("harmonisation:schema", args=[review.pk])).content.decode()
    assert as_user(outsider).get(reverse("harmonisation:schema", args=[review.pk])).status_code == 404


def test_schema_form_creates_and_refuses(as_user, analyst, reviewer, review):
    url = reverse("harmonisation:schema", args=[review.pk])
    body = {"name": "SEX", "role": "covariate", "type": "category", "allowed_values": "M, F", "label": "", "unit": ""}
    response = as_user(analyst).post(url, body)
    assert response.status_code == 302
    assert SchemaVariable.objects.get(review=review, name="SEX").allowed_values == ["M", "F"]
    again = as_user(analyst).post(url, body)
    assert again.status_code == 400 and SchemaVariable.objects.filter(name="SEX").count() == 1
    bad = as_user(analyst).post(url, {**body, "name": "AGE", "type": "number", "minimum": "9", "maximum": "1"})
    assert bad.status_code == 400 and "The maximum is below the minimum." in bad.content.decode()
    assert as_user(reviewer).post(url, {**body, "name": "X"}).status_code == 403


def test_schema_variable_edit_page(as_user, coordinator, schema):
    url = reverse("harmonisation:schema-variable-edit", args=[schema["AGE"].pk])
    body = {"name": "AGE", "role": "covariate", "type": "integer", "unit": "year", "minimum": "18", "maximum": "95"}
    assert as_user(coordinator).post(url, body).status_code == 302
    schema["AGE"].refresh_from_db()
    assert schema["AGE"].maximum == 95


def test_a_version_link_opens_its_mapping_or_offers_to_start_one(as_user, analyst, trial, version):
    url = reverse("harmonisation:trial-mappings", args=[trial.pk]) + f"?version={version.pk}"
    start = as_user(analyst).get(url)
    assert start.status_code == 200 and start.context["form"].initial == {"source_version": version.pk}
    assert f'<option value="{version.pk}" selected>' in start.content.decode()
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    opened = as_user(analyst).get(url)
    assert opened.status_code == 302
    assert opened["Location"] == reverse("harmonisation:mapping-editor", args=[mapping.pk])


def test_start_a_mapping_from_the_trial_page(as_user, analyst, trial, version):
    url = reverse("harmonisation:trial-mappings", args=[trial.pk])
    assert "gluco_v1.sav" in as_user(analyst).get(url).content.decode()
    response = as_user(analyst).post(url, {"source_version": version.pk, "note": "first upload"})
    mapping = Mapping.objects.get(trial=trial)
    assert response.status_code == 302 and response["Location"] == reverse(
        "harmonisation:mapping-editor", args=[mapping.pk]
    )


def test_editor_shows_suggestions_and_the_preview(as_user, analyst, mapping, schema):
    services.mapping_rule_set(
        mapping=mapping, target=schema["AGE"], actor=analyst, category="direct", source_variables=["age"]
    )
    page = as_user(analyst).get(reverse("harmonisation:mapping-editor", args=[mapping.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "AGE = age" in content
    assert 'Suggested: <span class="mono">patid</span>' in content
    assert "below minimum 18: 17" in content  # the preview flags the 17-year-old
    assert "Preview: the first 6 rows" in content


def test_rule_form_saves_a_revision_and_shows_errors(as_user, analyst, mapping, schema):
    url = reverse("harmonisation:mapping-rule-set", args=[mapping.pk])
    body = {"target": schema["SEX"].pk, "category": "recode", "source_variables": "sexn", "status": ""}
    bad_json = as_user(analyst).post(url, {**body, "parameters": "{'map': 1}"})
    assert bad_json.status_code == 400 and "Not valid JSON" in bad_json.content.decode()
    bad_code = as_user(analyst).post(url, {**body, "parameters": '{"map": {"1": "male"}}'})
    assert bad_code.status_code == 400 and "Not allowed codes for SEX: male" in bad_code.content.decode()
    assert not MappingRule.objects.exists()
    good = as_user(analyst).post(
        url, {**body, "parameters": '{"map": {"1": "M", "2": "F"}}', "rationale": "SPSS labels"}
    )
    assert good.status_code == 302
    rule = MappingRule.objects.get()
    assert rule.parameters == {"map": {"1": "M", "2": "F"}} and rule.set_by == analyst


def test_using_a_suggestion(as_user, analyst, mapping, schema):
    suggestion = {"category": "direct", "source_variables": ["patid"], "parameters": {}, "reason": "same name"}
    response = as_user(analyst).post(
        reverse("harmonisation:mapping-suggestion-use", args=[mapping.pk]),
        {"target": schema["USUBJID"].pk, "suggestion": json.dumps(suggestion)},
    )
    assert response.status_code == 302
    rule = MappingRule.objects.get()
    assert rule.source_variables == ["patid"]
    assert rule.rationale == f"Suggested (same name), accepted by {analyst.get_username()}."
    assert rule.origin == MappingRule.Origin.SUGGESTION and rule.set_by == analyst


def test_readers_cannot_post_to_the_editor(as_user, reviewer, contributor, mapping, schema):
    for user in (reviewer, contributor):
        client = as_user(user)
        assert client.post(reverse("harmonisation:mapping-apply", args=[mapping.pk])).status_code == 403
        response = client.post(
            reverse("harmonisation:mapping-rule-set", args=[mapping.pk]),
            {"target": schema["AGE"].pk, "category": "direct", "source_variables": "age"},
        )
        assert response.status_code == 403
        assert (
            "Set a rule" not in client.get(reverse("harmonisation:mapping-editor", args=[mapping.pk])).content.decode()
        )
    assert not MappingRule.objects.exists()


def test_apply_from_the_editor_queues_a_job(as_user, analyst, mapping, schema, django_capture_on_commit_callbacks):
    set_rules(mapping, schema, analyst)
    with django_capture_on_commit_callbacks(execute=False):
        response = as_user(analyst).post(reverse("harmonisation:mapping-apply", args=[mapping.pk]))
    assert response.status_code == 302
    assert Job.objects.get().kind == "harmonise"


def test_log_pages(as_user, reviewer, contributor, review, trial, mapping, schema, analyst):
    set_rules(mapping, schema, analyst)
    services.harmonised_table_build(mapping=mapping, actor=analyst)
    page = as_user(contributor).get(reverse("harmonisation:trial-log", args=[trial.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "GLUC = glu_mgdl * 0.0555" in content and "mg/dL → mmol/L" in content
    assert reverse("api-trial-log-csv", args=[trial.pk]) in content
    download = as_user(contributor).get(reverse("api-trial-log-csv", args=[trial.pk]))  # the page's session is enough
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert download.content.decode().splitlines()[0].startswith("trial,trial_id,mapping,mapping_revision,target")
    assert as_user(contributor).get(reverse("harmonisation:review-log", args=[review.pk])).status_code == 403
    review_page = as_user(reviewer).get(reverse("harmonisation:review-log", args=[review.pk]), {"history": "1"})
    assert review_page.status_code == 200 and "?history=true" in review_page.content.decode()
    # The history names each rule by the mapping revision it was set at, as the editor does.
    mapping.refresh_from_db()
    assert f"mapping revision {mapping.revision}<" in review_page.content.decode()


def test_a_recode_is_written_in_a_code_table_and_shown_in_words(as_user, analyst, mapping, schema):
    url = reverse("harmonisation:mapping-rule-set", args=[mapping.pk])
    body = {"target": schema["SEX"].pk, "category": "recode", "source_variables": "sexn", "status": ""}
    half = as_user(analyst).post(url, {**body, "code_from": ["1", "2"], "code_to": ["M", ""]})
    assert half.status_code == 400
    assert "Row 2: give both the trial&#x27;s code and the value it becomes." in half.content.decode()
    # What was typed comes back in the table.
    assert 'name="code_from" id="code-from-2" value="2"' in half.content.decode()
    assert not MappingRule.objects.exists()
    saved = as_user(analyst).post(
        url, {**body, "code_from": ["1", "2", ""], "code_to": ["M", "F", ""], "missing_codes": "9"}
    )
    assert saved.status_code == 302
    rule = MappingRule.objects.get()
    assert rule.parameters == {"map": {"1": "M", "2": "F"}, "missing": [9]}
    mapping.refresh_from_db()
    page = as_user(analyst).get(saved["Location"]).content.decode()
    assert f"Rule for SEX saved: the mapping is now at revision {mapping.revision}." in page
    assert "From sexn: &#x27;1&#x27; → M, &#x27;2&#x27; → F. Read as missing: &#x27;9&#x27;." in page
    assert f"Mapping revision {mapping.revision}" in page and f"mapping revision {mapping.revision}" in page
    assert "__flag" not in page and "SEX: why flagged" in page and "Row in the file" in page
    assert "; score " not in page and "% match)" in page
    # Changing the rule shows its codes in the table, not as JSON.
    change = as_user(analyst).get(
        reverse("harmonisation:mapping-editor", args=[mapping.pk]) + f"?target={schema['SEX'].pk}"
    )
    form = change.context["rule_form"]
    assert form.code_rows == [("1", "M"), ("2", "F")]
    assert form.initial["missing_codes"] == "9" and form.initial["parameters"] == ""


def test_treatment_arms_in_the_code_table(as_user, analyst, mapping, schema):
    url = reverse("harmonisation:mapping-rule-set", args=[mapping.pk])
    body = {"target": schema["TRT01P"].pk, "category": "treatment_arms", "source_variables": "arm", "status": ""}
    twice = as_user(analyst).post(
        url, {**body, "code_from": ["Drug A", "Drug A"], "code_to": ["intervention", "control"]}
    )
    assert (
        twice.status_code == 400
        and "Row 2: the code &#x27;Drug A&#x27; is already in a row above" in twice.content.decode()
    )
    saved = as_user(analyst).post(
        url, {**body, "code_from": ["Drug A", "Placebo"], "code_to": ["intervention", "control"]}
    )
    assert saved.status_code == 302
    assert MappingRule.objects.get().parameters == {"arms": {"Drug A": "intervention", "Placebo": "control"}}
    page = as_user(analyst).get(saved["Location"]).content.decode()
    assert "From arm: &#x27;Drug A&#x27; → intervention, &#x27;Placebo&#x27; → control." in page
