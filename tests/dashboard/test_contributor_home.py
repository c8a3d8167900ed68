"""The contributor's home: their trials, the next step on each, their agreement; never the review team's overview."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.checks.models import CheckResult, CheckRun, Finding
from apps.datasets.models import DatasetVersion
from apps.harmonisation.models import HarmonisedTable, Mapping
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement


def _version(trial, number=1, status=DatasetVersion.Status.PARSED, error=""):
    return DatasetVersion.objects.create(
        trial=trial,
        number=number,
        sha256=f"{number:064d}",
        size=10,
        original_name=f"data-v{number}.csv",
        storage_name=f"stored-{trial.pk}-{number}",
        status=status,
        error=error,
    )


def _table(trial, version):
    mapping = Mapping.objects.create(trial=trial, source_version=version, number=1, revision=1)
    return HarmonisedTable.objects.create(
        mapping=mapping, mapping_revision=1, storage_name="t", sha256="0" * 64, code_version="test", n_rows=3
    )


def _finding(trial, table, title, status=Finding.Status.OPEN):
    run = CheckRun.objects.create(
        review=trial.review, trial=trial, harmonised_table=table, state=CheckRun.State.SUCCEEDED
    )
    result = CheckResult.objects.create(run=run, code=title, title=title, status="fail", sentence=title)
    return Finding.objects.create(result=result, trial=trial, status=status)


def _signed(trial, expires_in_days, title="Data-sharing agreement"):
    today = timezone.localdate()
    return Agreement.objects.create(
        trial=trial,
        title=title,
        status=Agreement.Status.SIGNED,
        signed_on=today - datetime.timedelta(days=100),
        expires_on=today + datetime.timedelta(days=expires_in_days),
    )


def _home(client, review):
    response = client.get(reverse("dashboard:review-overview", args=[review.pk]))
    assert response.status_code == 200
    return response


def test_contributor_gets_their_home_not_the_teams_overview(client, member, review, trial, second_trial):
    member(client, Role.CONTRIBUTOR, trials=[trial])
    response = _home(client, review)
    html = response.content.decode()
    assert [item.trial for item in response.context["trials"]] == [trial]
    assert "Your trials" in html
    assert trial.registry_id in html
    assert second_trial.registry_id not in html
    for team_only in ("Pipeline", "Response rate", "Log a contact attempt", "Follow-ups due"):
        assert team_only not in html
    assert "pipeline" not in response.context


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ANALYST, Role.REVIEWER])
def test_the_team_keeps_its_overview(client, member, review, trial, role):
    member(client, role, trials=[trial])
    html = _home(client, review).content.decode()
    assert "Response rate" in html and "Pipeline" in html and "Your trials" not in html


def test_the_home_page_is_the_contributors_home_when_they_have_one_review(client, member, review, trial):
    member(client, Role.CONTRIBUTOR, trials=[trial])
    response = client.get(reverse("dashboard:review-list"))
    assert response.templates[0].name == "dashboard/contributor_home.html"
    assert trial.registry_id in response.content.decode()


def test_a_signed_agreement_without_data_asks_for_an_upload(client, member, review, second_trial):
    member(client, Role.CONTRIBUTOR, trials=[second_trial])
    _signed(second_trial, 200)
    html = _home(client, review).content.decode()
    assert f'href="{reverse("datasets:upload", args=[second_trial.pk])}">Upload your data</a>' in html


def test_before_the_agreement_the_step_is_to_wait_for_it(client, member, review, trial):
    member(client, Role.CONTRIBUTOR, trials=[trial])
    (item,) = _home(client, review).context["trials"]
    assert [step.label for step in item.steps] == ["The data-sharing agreement is being arranged"]
    assert reverse("datasets:upload", args=[trial.pk]) not in [step.url for step in item.steps]


def test_a_failed_upload_asks_for_a_corrected_file(client, member, review, second_trial):
    member(client, Role.CONTRIBUTOR, trials=[second_trial])
    _version(second_trial, 1)
    _version(second_trial, 2, status=DatasetVersion.Status.FAILED, error="Row 4 has 9 columns, the header 8.")
    (item,) = _home(client, review).context["trials"]
    step = item.steps[0]  # then version 1, parsed, waits for its mapping
    assert step.label == "Version 2 could not be read: upload a corrected file"
    assert step.action and step.url == reverse("datasets:upload", args=[second_trial.pk])
    assert "Row 4 has 9 columns" in step.detail


def test_parsed_data_waiting_for_a_mapping(client, member, review, second_trial):
    member(client, Role.CONTRIBUTOR, trials=[second_trial])
    _version(second_trial)
    (item,) = _home(client, review).context["trials"]
    (step,) = item.steps
    assert step.label.startswith("Mapping pending")
    assert step.url == reverse("harmonisation:trial-mappings", args=[second_trial.pk])


def test_open_queries_come_first_with_counts_and_links(client, member, review, second_trial):
    member(client, Role.CONTRIBUTOR, trials=[second_trial])
    table = _table(second_trial, _version(second_trial))
    first = _finding(second_trial, table, "Arm sizes differ from the publication")
    second = _finding(second_trial, table, "Dates after the data cut-off")
    _finding(second_trial, table, "Duplicate ids", status=Finding.Status.ANSWERED)
    _finding(second_trial, table, "Old one", status=Finding.Status.RESOLVED)
    response = _home(client, review)
    (item,) = response.context["trials"]
    assert [step.label for step in item.steps] == [
        "Answer 2 open queries",
        "1 answer waiting for the review team",
        "See the check results",
    ]
    html = response.content.decode()
    for finding in (first, second):
        assert reverse("checks:result-detail", args=[finding.result_id]) in html
    assert reverse("checks:trial-checks", args=[second_trial.pk]) in html
    assert "Old one" not in html


def test_one_open_query_is_singular(client, member, review, second_trial):
    member(client, Role.CONTRIBUTOR, trials=[second_trial])
    _finding(second_trial, _table(second_trial, _version(second_trial)), "Arm sizes")
    (item,) = _home(client, review).context["trials"]
    assert item.steps[0].label == "Answer 1 open query"


@pytest.mark.parametrize(
    ("expires_in", "expected"),
    [
        (200, None),
        (30, "This agreement expires in 30 days"),
        (1, "This agreement expires in 1 day:"),
        (0, "This agreement expires today"),
        (-1, "This agreement expired 1 day ago"),
        (-12, "This agreement expired 12 days ago"),
    ],
)
def test_the_agreement_and_its_expiry_warning(client, member, review, second_trial, expires_in, expected):
    member(client, Role.CONTRIBUTOR, trials=[second_trial])
    agreement = _signed(second_trial, expires_in, title="Vivli data use agreement")
    html = _home(client, review).content.decode()
    assert "Vivli data use agreement" in html
    assert f"expires {agreement.expires_on:%-d %b %Y}" in html
    if expected is None:
        assert "This agreement expire" not in html
    else:
        assert expected in html


def test_the_home_costs_the_same_queries_for_more_trials(
    client, member, review, trial, second_trial, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = member(client, Role.CONTRIBUTOR, trials=[trial])
    _home(client, review)
    with CaptureQueriesContext(connection) as one:
        _home(client, review)
    user.memberships.get().trials.add(second_trial)
    for target in (trial, second_trial):
        _signed(target, 10)
        _finding(target, _table(target, _version(target)), "Arm sizes")
    with CaptureQueriesContext(connection) as two:
        _home(client, review)
    assert len(two) == len(one)


def test_the_trial_page_hides_the_teams_forms_and_panels_from_a_contributor(client, member, trial):
    member(client, Role.CONTRIBUTOR, trials=[trial])
    html = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    assert "Log a contact attempt" not in html
    assert "PRISMA-IPD" not in html
    assert trial.title in html


def test_a_contributor_with_no_trial_is_told_whom_to_ask(client, member, review, trial):
    member(client, Role.CONTRIBUTOR, trials=[])
    html = _home(client, review).content.decode()
    assert "No trials assigned" in html


def test_status_of_trial_is_shown(client, member, review, second_trial):
    member(client, Role.CONTRIBUTOR, trials=[second_trial])
    assert Status.AGREEMENT_SIGNED.label in _home(client, review).content.decode()
