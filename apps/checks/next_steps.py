"""The checks app's part of a trial team's next steps (apps.trials.next_steps): open queries to answer, answers
waiting for the review team, and the check results."""

from django.template.defaultfilters import pluralize
from django.urls import reverse

from apps.checks.models import CheckRun, Finding
from apps.trials.next_steps import Step


def trial_steps(trials) -> dict[int, list[Step]]:
    trial_ids = [trial.pk for trial in trials]
    open_findings: dict[int, list[Finding]] = {}
    answered: dict[int, int] = {}
    for finding in (
        Finding.objects.filter(trial_id__in=trial_ids, status__in=(Finding.Status.OPEN, Finding.Status.ANSWERED))
        .select_related("result")
        .order_by("created_at", "pk")
    ):
        if finding.status == Finding.Status.OPEN:
            open_findings.setdefault(finding.trial_id, []).append(finding)
        else:
            answered[finding.trial_id] = answered.get(finding.trial_id, 0) + 1
    checked = set(
        CheckRun.objects.filter(trial_id__in=trial_ids, state=CheckRun.State.SUCCEEDED).values_list(
            "trial_id", flat=True
        )
    )
    steps = {}
    for trial_id in trial_ids:
        found = []
        results = reverse("checks:trial-checks", args=[trial_id])
        queries = open_findings.get(trial_id, [])
        if queries:
            found.append(
                Step(
                    f"Answer {len(queries)} open quer{pluralize(len(queries), 'y,ies')}",
                    reverse("checks:result-detail", args=[queries[0].result_id]),
                    action=True,
                    links=tuple(
                        (finding.result.title, reverse("checks:result-detail", args=[finding.result_id]))
                        for finding in queries
                    ),
                )
            )
        if answered.get(trial_id):
            count = answered[trial_id]
            found.append(Step(f"{count} answer{pluralize(count)} waiting for the review team", results))
        if trial_id in checked:
            found.append(Step("See the check results", results))
        if found:
            steps[trial_id] = found
    return steps
