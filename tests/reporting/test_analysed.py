"""The "analysed data" boxes: per outcome, the IPD and the aggregate data of its primary analysis' newest run,
side by side, each equal to the rows of the trial list filtered to it."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.trials.lifecycle import Status
from tests.analyses.conftest import add_trial, outcome, trial_frame
from tests.conftest import add_member
from tests.reporting.conftest import define, run_now

pytestmark = pytest.mark.django_db


def test_analysed_boxes_come_from_the_primary_analysis_newest_run(client, api_as, schema_review, dataset_root):
    review = schema_review
    with_tables = [add_trial(review, number) for number in (1, 2, 3)]
    frame = trial_frame(seed=4)
    frame.loc[:9, "DEATH"] = None  # ten participants without the outcome
    with_gaps = add_trial(review, 4, frame=frame)
    no_table = add_trial(review, 5, table=False)
    published = add_trial(
        review, 6, status=Status.DECLINED, table=False, aggregate_available=True, result_measure="OR",
        result_estimate=0.8, result_ci_low=0.5, result_ci_high=1.3,
    )  # fmt: skip
    death, sbp = outcome(review, "Death").pk, outcome(review, "Systolic blood pressure").pk
    run = run_now(define(review, name="Primary", outcome=death, aggregate=True, is_primary=True))
    run_now(define(review, name="Not primary", outcome=sbp))
    user = add_member(review, Role.REVIEWER)
    data = api_as(user).get(f"/api/v1/reviews/{review.pk}/prisma-ipd/").json()
    entries = {entry["outcome"]: entry for entry in data["analysed"]}
    assert set(entries) == {"Death", "Systolic blood pressure"}
    assert entries["Systolic blood pressure"]["ipd"] is None
    assert "No analysis of this outcome is marked primary" in entries["Systolic blood pressure"]["note"]
    entry = entries["Death"]
    assert entry["run"] == run.pk and entry["analysis"]["name"] == "Primary"
    ipd = entry["ipd"]
    assert sorted(ipd["trials"]) == sorted(trial.pk for trial in [*with_tables, with_gaps])
    assert ipd["participants"] == 4 * 240 - 10 == run.result["settings"]["participants"]
    assert ipd["participants_excluded"] == [{"reason": "a value missing in a variable the analysis uses", "n": 10}]
    assert [item["trial"] for item in ipd["studies_excluded"]] == [no_table.pk]
    assert "no harmonised table" in ipd["studies_excluded"][0]["reason"]
    assert entry["aggregate"]["trials"] == [published.pk]
    assert entry["aggregate"]["studies"] == 1 and entry["aggregate"]["participants"] == 240

    client.force_login(user)
    for side in ("ipd", "aggregate"):
        response = client.get(reverse("dashboard:trial-list", args=[review.pk]), {"prisma": f"analysed-{death}-{side}"})
        listed = {trial.pk for trial in response.context["page"].paginator.object_list}
        assert listed == set(entry[side]["trials"]), side
    missing = client.get(reverse("dashboard:trial-list", args=[review.pk]), {"prisma": f"analysed-{sbp}-ipd"})
    assert missing.status_code == 400


def test_one_stage_trials_without_information_are_shown_as_excluded(api_as, schema_review, dataset_root):
    review = schema_review
    for number in (1, 2, 3):
        add_trial(review, number)
    frame = trial_frame(seed=9)
    frame["DEATH"] = 0
    no_events = add_trial(review, 9, frame=frame)
    run_now(define(review, name="One-stage", outcome=outcome(review, "Death").pk, approach="one-stage",
                   is_primary=True))  # fmt: skip
    data = api_as(add_member(review, Role.ANALYST)).get(f"/api/v1/reviews/{review.pk}/prisma-ipd/").json()
    ipd = data["analysed"][0]["ipd"]
    assert ipd["studies"] == 3 and no_events.pk not in ipd["trials"]
    assert ipd["studies_excluded"][0]["trial"] == no_events.pk
    assert "no participant had the event" in ipd["studies_excluded"][0]["reason"]
