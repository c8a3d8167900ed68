"""The overview's recent activity: status moves, uploads, queries opened and resolved, analyses run, in plain
words with links, newest first; no job states, no empty status changes."""

import datetime

from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.analyses.models import Analysis, AnalysisRun
from apps.checks.models import CheckResult, CheckRun, Finding
from apps.core.models import AuditEvent
from apps.datasets.models import DatasetVersion
from apps.harmonisation.models import HarmonisedTable, Mapping, SchemaVariable
from apps.trials import selectors, services
from apps.trials.lifecycle import Status
from tests.factories import OutcomeFactory


def _upload(trial, number=1):
    return DatasetVersion.objects.create(
        trial=trial,
        number=number,
        sha256=f"{number:064d}",
        size=10,
        original_name="backfit.csv",
        storage_name=f"s-{trial.pk}-{number}",
        status=DatasetVersion.Status.PARSED,
    )


def _finding(trial, version, title):
    mapping = Mapping.objects.create(trial=trial, source_version=version, number=version.number, revision=1)
    table = HarmonisedTable.objects.create(
        mapping=mapping, mapping_revision=1, storage_name="t", sha256="0" * 64, code_version="test", n_rows=3
    )
    run = CheckRun.objects.create(review=trial.review, trial=trial, harmonised_table=table, state="succeeded")
    result = CheckResult.objects.create(run=run, code="c", title=title, status="fail", sentence=title)
    return Finding.objects.create(result=result, trial=trial)


def _analysis_run(review, state):
    arm = SchemaVariable.objects.create(review=review, position=0, name="ARM", role="treatment", type="categorical")
    analysis = Analysis.objects.create(
        review=review, outcome=OutcomeFactory(review=review), name="Pain at 12 months", measure="OR", treatment=arm
    )
    return AnalysisRun.objects.create(
        analysis=analysis, review=review, state=state, finished_at=timezone.now(), input_sha256="0" * 64
    )


def _texts(review, user=None):
    return [event.text for event in selectors.recent_activity(review, user=user)]


def test_status_moves_uploads_queries_and_runs_in_plain_words(review, trial, make_user):
    actor = make_user("coordinator")
    services.trial_transition(trial=trial, to_status=Status.RESPONDED, actor=actor)
    version = _upload(trial)
    finding = _finding(trial, version, "Arm sizes match the publication")
    finding.status, finding.resolved_at = Finding.Status.RESOLVED, timezone.now()
    finding.save()
    _analysis_run(review, AnalysisRun.State.FAILED)

    texts = _texts(review)

    assert "Status moved from Contacted to Responded" in texts
    assert "Version 1 of backfit.csv uploaded" in texts
    assert "Query opened: Arm sizes match the publication" in texts
    assert "Query resolved: Arm sizes match the publication" in texts
    assert "Analysis Pain at 12 months: run failed" in texts


def test_no_job_states_nor_empty_status_changes(review, trial):
    version = _upload(trial)
    AuditEvent.objects.create(
        review=review,
        trial=trial,
        action=AuditEvent.Action.TRANSITION,
        object_type="datasetversion",
        object_id=str(version.pk),
        object_repr=str(version),
        before={"status": "queued"},
        after={"status": "parsing"},
    )
    texts = _texts(review)
    assert texts == ["Version 1 of backfit.csv uploaded"]


def test_newest_first_and_limited(review, trial):
    for number in range(1, 5):
        _upload(trial, number)
    DatasetVersion.objects.filter(number=2).update(uploaded_at=timezone.now() + datetime.timedelta(hours=1))
    events = selectors.recent_activity(review, limit=3)
    assert [event.text for event in events] == [
        "Version 2 of backfit.csv uploaded",
        "Version 4 of backfit.csv uploaded",
        "Version 3 of backfit.csv uploaded",
    ]


def test_a_contributor_sees_only_their_trials_events_and_no_analyses(review, trial, second_trial, member, client):
    user = member(client, Role.CONTRIBUTOR, trials=[trial])
    _upload(trial)
    _upload(second_trial)
    _analysis_run(review, AnalysisRun.State.SUCCEEDED)
    events = selectors.recent_activity(review, user=user)
    assert [(event.text, event.trial) for event in events] == [("Version 1 of backfit.csv uploaded", trial)]


def test_the_overview_links_each_event(client, reviewer, review, trial):
    version = _upload(trial)
    run = _analysis_run(review, AnalysisRun.State.SUCCEEDED)
    html = client.get(reverse("dashboard:review-overview", args=[review.pk])).content.decode()
    assert (
        f'<a href="{reverse("datasets:version-detail", args=[version.pk])}">Version 1 of backfit.csv uploaded</a>'
        in html
    )
    assert f'<a href="{reverse("analyses:run", args=[run.pk])}">Analysis Pain at 12 months: run succeeded</a>' in html
    assert "Status changed: →" not in html
