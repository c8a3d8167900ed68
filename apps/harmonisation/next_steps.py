"""The harmonisation app's part of a trial team's next steps (apps.trials.next_steps): data read but not yet
mapped to the review's schema."""

from django.db.models import Exists, OuterRef
from django.urls import reverse

from apps.datasets.models import DatasetVersion
from apps.harmonisation.models import HarmonisedTable
from apps.trials.models import Trial
from apps.trials.next_steps import Step


def trial_steps(trials) -> dict[int, list[Step]]:
    parsed = DatasetVersion.objects.filter(trial_id=OuterRef("pk"), status=DatasetVersion.Status.PARSED)
    harmonised = HarmonisedTable.objects.filter(mapping__trial_id=OuterRef("pk"))
    waiting = (
        Trial.objects.filter(pk__in=[trial.pk for trial in trials])
        .filter(Exists(parsed))
        .exclude(Exists(harmonised))
        .values_list("pk", flat=True)
    )
    return {
        trial_id: [
            Step(
                "Mapping pending: the review team is mapping your data to the common schema",
                reverse("harmonisation:trial-mappings", args=[trial_id]),
            )
        ]
        for trial_id in waiting
    }
