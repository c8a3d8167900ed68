"""The datasets app's part of a trial team's next steps (apps.trials.next_steps): upload, or a failed upload."""

from django.db.models import Exists, OuterRef
from django.urls import reverse

from apps.datasets.models import DatasetVersion
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement
from apps.trials.next_steps import Step

# Statuses at which the review team expects the trial's data (the agreement is signed, or data came before).
_DATA_EXPECTED = (Status.AGREEMENT_SIGNED, Status.DATA_RECEIVED, Status.DATA_CHECKED, Status.INCLUDED)


def _latest_versions(trial_ids) -> dict[int, DatasetVersion]:
    later = DatasetVersion.objects.filter(trial_id=OuterRef("trial_id"), number__gt=OuterRef("number"))
    latest = DatasetVersion.objects.filter(trial_id__in=trial_ids).exclude(Exists(later))
    return {version.trial_id: version for version in latest}


def _agreement_signed(trial) -> bool:
    # The trials' agreements are prefetched by the home's selector.
    return trial.status in _DATA_EXPECTED or any(a.status == Agreement.Status.SIGNED for a in trial.agreements.all())


def trial_steps(trials) -> dict[int, list[Step]]:
    latest = _latest_versions([trial.pk for trial in trials])
    steps = {}
    for trial in trials:
        version = latest.get(trial.pk)
        upload = reverse("datasets:upload", args=[trial.pk])
        if version is None:
            if _agreement_signed(trial):
                steps[trial.pk] = [Step("Upload your data", upload, detail="The agreement is signed.", action=True)]
            continue
        detail_url = reverse("datasets:version-detail", args=[version.pk])
        if version.status == DatasetVersion.Status.FAILED:
            steps[trial.pk] = [
                Step(
                    f"Version {version.number} could not be read: upload a corrected file",
                    upload,
                    detail=version.error[:200],
                    action=True,
                    links=((f"See version {version.number}", detail_url),),
                )
            ]
        elif version.status in (DatasetVersion.Status.QUEUED, DatasetVersion.Status.PARSING):
            steps[trial.pk] = [Step(f"Version {version.number} ({version.original_name}) is being read", detail_url)]
    return steps
