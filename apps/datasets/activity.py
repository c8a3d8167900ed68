"""The datasets app's part of the review overview's recent activity (apps.trials.activity): uploads."""

from django.urls import reverse

from apps.datasets.models import DatasetVersion
from apps.trials.activity import Activity


def uploads(review, trials, review_wide: bool, limit: int) -> list[Activity]:
    versions = (
        DatasetVersion.objects.filter(trial__in=trials)
        .select_related("trial", "uploaded_by")
        .only("pk", "number", "original_name", "uploaded_at", "trial", "uploaded_by")
        .order_by("-uploaded_at", "-id")[:limit]
    )
    return [
        Activity(
            when=version.uploaded_at,
            text=f"Version {version.number} of {version.original_name} uploaded",
            url=reverse("datasets:version-detail", args=[version.pk]),
            actor=version.uploaded_by,
            trial=version.trial,
        )
        for version in versions
    ]
