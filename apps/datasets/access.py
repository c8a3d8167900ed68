"""Who may see and upload a trial's participant data. The API and the pages both ask these functions.

- Seeing versions and dictionaries: anyone who sees the trial (apps.trials.access.trials_for_user).
- Uploading: the trial's contributors and the review's analysts and coordinators, and only while the trial
  has a signed data-sharing agreement that has not expired.
- Declaring missing codes and date formats of a version (which reads its file again into a new table): the
  same people under the same agreement as uploading.
- Members of other reviews get 404, never 403.
"""

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.access import role_for
from apps.accounts.models import Role
from apps.core.errors import NotFound, PermissionDenied
from apps.datasets.models import DatasetVersion
from apps.trials.access import trial_get_for_user, trials_for_user
from apps.trials.models import Agreement, Trial

UPLOADER_ROLES = {Role.COORDINATOR, Role.ANALYST, Role.CONTRIBUTOR}
# Who maps a parsed version to the review's schema: apps.harmonisation.access decides it (its EDITORS, which a
# test keeps equal to this); a version's page only chooses the next step it offers with it.
MAPPER_ROLES = {Role.COORDINATOR, Role.ANALYST}


def may_map_versions(user, trial: Trial) -> bool:
    return role_for(user, trial.review_id) in MAPPER_ROLES


def versions_for_user(user) -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.filter(trial__in=trials_for_user(user)).select_related("trial", "uploaded_by")


def version_get_for_user(user, version_id) -> DatasetVersion:
    try:
        version_id = int(version_id)
    except (TypeError, ValueError):
        raise NotFound("Dataset version not found.")
    version = versions_for_user(user).filter(pk=version_id).first()
    if version is None:
        raise NotFound("Dataset version not found.")
    return version


def agreement_problem(trial: Trial, today: datetime.date | None = None) -> str | None:
    """Why no data may be uploaded for the trial under its agreements, or None when one is in force."""
    today = today or timezone.localdate()
    agreements = list(Agreement.objects.filter(trial=trial))
    in_force = [
        agreement
        for agreement in agreements
        if agreement.status == Agreement.Status.SIGNED
        and (agreement.expires_on is None or agreement.expires_on >= today)
    ]
    if in_force:
        return None
    expired = [
        agreement.expires_on
        for agreement in agreements
        if agreement.expires_on and agreement.status in (Agreement.Status.SIGNED, Agreement.Status.EXPIRED)
    ]
    if expired:
        return (
            f"The trial's data-sharing agreement expired on {max(expired):%d %B %Y}; "
            "data can be uploaded again once it is renewed."
        )
    if agreements:
        return "The trial's data-sharing agreement is not signed yet; data can be uploaded once it is signed."
    return "The trial has no data-sharing agreement; data can be uploaded once one is signed."


def upload_problem(user, trial: Trial) -> str | None:
    """Why `user` may not upload to `trial` (which they can see), or None when they may."""
    role = role_for(user, trial.review_id)
    if role not in UPLOADER_ROLES:
        return "Only the trial's contributors and the review's analysts and coordinators can upload data."
    return agreement_problem(trial)


def trial_get_for_upload(user, trial_id) -> Trial:
    """The trial, if `user` may upload to it now; 404 when they cannot see it, 403 with the reason otherwise."""
    trial = trial_get_for_user(user, trial_id)
    problem = upload_problem(user, trial)
    if problem:
        raise PermissionDenied(problem, code="upload_not_allowed")
    return trial
