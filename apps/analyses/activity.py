"""The analyses app's part of the review overview's recent activity (apps.trials.activity): finished runs. They
belong to the review, not to a trial, so only readers of the whole review see them."""

from django.urls import reverse

from apps.analyses.models import AnalysisRun
from apps.trials.activity import Activity

_FINISHED = (AnalysisRun.State.SUCCEEDED, AnalysisRun.State.FAILED)


def _text(run: AnalysisRun) -> str:
    what = "sensitivity analyses" if run.kind == AnalysisRun.Kind.SENSITIVITY else "run"
    outcome = "succeeded" if run.state == AnalysisRun.State.SUCCEEDED else "failed"
    return f"Analysis {run.analysis.name}: {what} {outcome}"


def runs_finished(review, trials, review_wide: bool, limit: int) -> list[Activity]:
    if not review_wide:
        return []
    runs = (
        AnalysisRun.objects.filter(review=review, state__in=_FINISHED, finished_at__isnull=False)
        .select_related("analysis", "created_by")
        .only("pk", "state", "kind", "finished_at", "analysis__name", "created_by")
        .order_by("-finished_at", "-id")[:limit]
    )
    return [
        Activity(
            when=run.finished_at, text=_text(run), url=reverse("analyses:run", args=[run.pk]), actor=run.created_by
        )
        for run in runs
    ]
