"""The checks app's part of the review overview's recent activity (apps.trials.activity): queries raised by the
checks, and queries resolved (by a person, or closed because the check passed on the same data)."""

from django.urls import reverse

from apps.checks.models import Finding
from apps.trials.activity import Activity


def _findings(trials):
    return Finding.objects.filter(trial__in=trials).select_related("trial", "result", "resolved_by")


def queries_opened(review, trials, review_wide: bool, limit: int) -> list[Activity]:
    return [
        Activity(
            when=finding.created_at,
            text=f"Query opened: {finding.result.title}",
            url=reverse("checks:result-detail", args=[finding.result_id]),
            trial=finding.trial,
        )
        for finding in _findings(trials).order_by("-created_at", "-id")[:limit]
    ]


def queries_resolved(review, trials, review_wide: bool, limit: int) -> list[Activity]:
    closed = _findings(trials).filter(
        status__in=(Finding.Status.RESOLVED, Finding.Status.SUPERSEDED), resolved_at__isnull=False
    )
    return [
        Activity(
            when=finding.resolved_at,
            text=(
                f"Query resolved: {finding.result.title}"
                if finding.status == Finding.Status.RESOLVED
                else f"Query closed, the check now passes: {finding.result.title}"
            ),
            url=reverse("checks:result-detail", args=[finding.result_id]),
            actor=finding.resolved_by,
            trial=finding.trial,
        )
        for finding in closed.order_by("-resolved_at", "-id")[:limit]
    ]
