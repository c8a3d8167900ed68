"""The mapping editor in a real Chromium: accept a suggestion, write a recode, read the preview, apply, read the log."""

import pytest
from celery import current_app
from playwright.sync_api import expect

from apps.harmonisation.models import HarmonisedTable, MappingRule
from tests.e2e.test_accessibility import axe_violations
from tests.factories import FACTORY_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager():
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


@pytest.fixture
def signed_in(page, live_server, analyst):  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(analyst.username)
    page.get_by_label("Password").fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def test_map_apply_and_read_the_log(signed_in, live_server, mapping, schema, eager):
    tab = signed_in
    tab.goto(f"{live_server.url}/mappings/{mapping.pk}/")
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Mapping 1 of GLUCO-1")
    assert axe_violations(tab) == []

    # Accept the suggestion for the participant id.
    tab.get_by_role("button", name="Use patid for USUBJID").click()
    expect(tab.get_by_role("status")).to_contain_text("Rule for USUBJID saved from the suggestion.")

    # Write a recode by hand in the code -> value table; a code outside the schema is refused next to the form,
    # nothing saved, and what was typed comes back.
    form = tab.locator("#rule-form form")
    form.get_by_label("Schema variable").select_option(label="SEX")
    form.get_by_label("Rule", exact=True).select_option(label="Recode")
    form.get_by_label("Source variables").fill("sexn")
    form.get_by_label("Trial's code, row 1").fill("1")
    form.get_by_label("Becomes, row 1").fill("male")
    form.get_by_label("Trial's code, row 2").fill("2")
    form.get_by_label("Becomes, row 2").fill("female")
    form.get_by_role("button", name="Save rule").click()
    expect(tab.locator("#rule-form")).to_contain_text("Not allowed codes for SEX: female, male")
    assert not MappingRule.objects.filter(target=schema["SEX"]).exists()
    assert axe_violations(tab) == []  # the editor showing a refused rule
    form = tab.locator("#rule-form form")
    expect(form.get_by_label("Trial's code, row 2")).to_have_value("2")
    form.get_by_label("Becomes, row 1").fill("M")
    form.get_by_label("Becomes, row 2").fill("F")
    # "Add a row" gives one more blank row beyond those the page came with.
    rows = form.locator("#code-table-rows tr").count()
    form.get_by_role("button", name="Add a row").click()
    expect(form.locator("#code-table-rows tr")).to_have_count(rows + 1)
    expect(form.get_by_label(f"Trial's code, row {rows + 1}")).to_be_focused()
    form.get_by_label("Codes that mean missing").fill("9")
    form.get_by_label("Rationale").fill("Codes from the SPSS value labels")
    assert axe_violations(tab) == []  # the code table with a row added
    form.get_by_role("button", name="Save rule").click()
    expect(tab.get_by_role("status")).to_contain_text("Rule for SEX saved: the mapping is now at revision 2.")
    assert MappingRule.objects.get(target=schema["SEX"], superseded_at=None).parameters == {
        "map": {"1": "M", "2": "F"},
        "missing": [9],
    }
    expect(tab.locator("#rules")).to_contain_text("From sexn: '1' → M, '2' → F. Read as missing: '9'.")
    expect(tab.locator("#preview thead")).not_to_contain_text("__flag")
    assert axe_violations(tab) == []  # the rule in words

    # The preview flags the code the recode does not cover, on the first rows, without a job.
    preview = tab.locator("#preview")
    expect(preview).to_contain_text("unmapped source value '3'")

    tab.get_by_role("button", name="Apply to all rows").click()
    expect(tab.locator("#jobs")).to_contain_text("Succeeded")
    assert HarmonisedTable.objects.get().n_rows == 6
    assert axe_violations(tab) == []  # rules, preview flags, a job and a table

    tab.get_by_role("link", name="Log", exact=True).click()
    log = tab.locator("table")
    expect(log).to_contain_text("SEX = recode(sexn, {'1': 'M', '2': 'F'}); missing: 9")
    expect(log).to_contain_text("Codes from the SPSS value labels")
    expect(tab.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", f"/api/v1/trials/{mapping.trial_id}/harmonisation-log.csv"
    )
    assert axe_violations(tab) == []


def test_the_schema_mappings_and_review_log_pages_pass_axe(signed_in, live_server, mapping, schema, review, trial):
    tab = signed_in
    pages = {
        "schema": f"/reviews/{review.pk}/schema/",
        "schema variable": f"/schema-variables/{schema['AGE'].pk}/edit/",
        "trial mappings": f"/trials/{trial.pk}/mappings/",
        "review log": f"/reviews/{review.pk}/harmonisation-log/",
        "trial log": f"/trials/{trial.pk}/harmonisation-log/?history=true",
    }
    found = {}
    for name, path in pages.items():
        response = tab.goto(live_server.url + path)
        assert response.status == 200, name
        found[name] = axe_violations(tab)

    # A form refused with its errors shown: a variable whose maximum is below its minimum.
    tab.goto(live_server.url + pages["schema variable"])
    tab.get_by_label("Maximum").fill("1")
    tab.get_by_role("button", name="Save", exact=True).click()
    expect(tab.get_by_role("region", name="Variable")).to_contain_text("Please correct the fields marked below")
    found["schema variable with an error"] = axe_violations(tab)
    assert found == {name: [] for name in found}
