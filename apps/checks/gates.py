"""The checks app's gate on the trial lifecycle, registered at start-up (ChecksConfig.ready()): a trial is
"data checked" only once every failed check of its latest check run is resolved."""

from django.urls import reverse

from apps.checks.selectors import unresolved_failures
from apps.core.errors import ApplicationError
from apps.trials import lifecycle
from apps.trials.lifecycle import Status


def require_findings_resolved(trial) -> None:
    unresolved = unresolved_failures(trial)
    if unresolved:
        names = "; ".join(f"{finding.result.title} (finding #{finding.pk})" for finding in unresolved)
        raise ApplicationError(
            f"to_status: the data cannot be marked checked while failed checks are unresolved: {names}. "
            "Resolve each finding with a note first.",
            code="unresolved_findings",
            status=409,
            details={
                "to_status": [f"Unresolved failed checks: {names}."],
                "unresolved_findings": [finding.pk for finding in unresolved],
                # For the pages, which link each finding to its page (the check result it belongs to).
                "findings": [
                    {
                        "id": finding.pk,
                        "title": finding.result.title,
                        "url": reverse("checks:result-detail", args=[finding.result_id]),
                    }
                    for finding in unresolved
                ],
            },
        )


def register() -> None:
    lifecycle.register_transition_gate(Status.DATA_CHECKED, require_findings_resolved)
