"""Who may see and change a review's schema, its trials' mappings and the harmonisation log.

Built on apps.accounts.access: a user outside the review gets 404 for everything in it.
- coordinators and analysts edit the schema and the mappings, and apply them;
- reviewers read the schema, the mappings and the log;
- contributors read the schema, and the mappings and log of the trials assigned to them only.
"""

from apps.accounts.access import review_get_for_user, role_for
from apps.accounts.models import Role
from apps.core.errors import NotFound, PermissionDenied
from apps.core.ids import as_int
from apps.harmonisation.models import HarmonisedTable, Mapping, MappingRule, SchemaVariable
from apps.reviews.models import Review
from apps.trials.access import trials_for_user
from apps.trials.models import Trial

EDITORS = {Role.COORDINATOR, Role.ANALYST}
REVIEW_READERS = {Role.COORDINATOR, Role.ANALYST, Role.REVIEWER}


def can_edit_harmonisation(user, review: Review | int) -> bool:
    return role_for(user, review) in EDITORS


def can_read_review_log(user, review: Review | int) -> bool:
    return role_for(user, review) in REVIEW_READERS


def require_editor(user, review: Review | int) -> None:
    if not can_edit_harmonisation(user, review):
        raise PermissionDenied("Only the review's coordinators and analysts change the schema and the mappings.")


def require_review_reader(user, review: Review | int) -> None:
    if not can_read_review_log(user, review):
        raise PermissionDenied("The review-wide log is for the review team; open the log of one of your trials.")


def schema_variable_get_for_user(user, variable_id) -> SchemaVariable:
    variable = SchemaVariable.objects.filter(pk=as_int(variable_id)).select_related("review").first()
    if variable is None:
        raise NotFound("Schema variable not found.")
    try:
        review_get_for_user(user, variable.review_id)
    except NotFound:
        raise NotFound("Schema variable not found.")
    return variable


def mappings_for_user(user, trial: Trial | None = None):
    mappings = Mapping.objects.filter(trial__in=trials_for_user(user)).select_related(
        "trial", "trial__review", "source_version", "created_by", "reviewed_by"
    )
    return mappings.filter(trial=trial) if trial is not None else mappings


def mapping_get_for_user(user, mapping_id) -> Mapping:
    mapping = mappings_for_user(user).filter(pk=as_int(mapping_id)).first()
    if mapping is None:
        raise NotFound("Mapping not found.")
    return mapping


def rule_get_for_user(user, rule_id) -> MappingRule:
    rule = MappingRule.objects.filter(pk=as_int(rule_id), mapping__in=mappings_for_user(user)).first()
    if rule is None:
        raise NotFound("Rule not found.")
    return rule


def harmonised_table_get_for_user(user, table_id) -> HarmonisedTable:
    table = (
        HarmonisedTable.objects.filter(pk=as_int(table_id), mapping__in=mappings_for_user(user))
        .select_related("mapping", "mapping__trial")
        .first()
    )
    if table is None:
        raise NotFound("Harmonised table not found.")
    return table
