"""The access functions of every app called directly, in the matrix's world: each getter and each list, as every
role, on the assigned trial, the unassigned one and another review; and the exact words of their refusals."""

import datetime

import pytest

from apps.accounts import access as accounts
from apps.accounts.models import Role
from apps.analyses import access as analyses
from apps.checks import access as checks
from apps.core.errors import NotFound, PermissionDenied
from apps.datasets import access as datasets
from apps.harmonisation import access as harmonisation
from apps.reporting import access as reporting
from apps.trials import access as trial_access
from apps.trials.models import Agreement
from tests.factories import AgreementFactory, TrialFactory
from tests.permissions.matrix import ROLES

pytestmark = pytest.mark.django_db
C, A, R, K = ROLES

# getter, the object it finds, the message of its NotFound, whether the object belongs to a trial
GETTERS = [
    (accounts.review_get_for_user, "review", "Review not found.", False),
    (trial_access.trial_get_for_user, "trial", "Trial not found.", True),
    (datasets.version_get_for_user, "version", "Dataset version not found.", True),
    (harmonisation.schema_variable_get_for_user, "variable", "Schema variable not found.", False),
    (harmonisation.mapping_get_for_user, "mapping", "Mapping not found.", True),
    (harmonisation.rule_get_for_user, "rule", "Rule not found.", True),
    (harmonisation.harmonised_table_get_for_user, "table", "Harmonised table not found.", True),
    (checks.run_get_for_user, "run", "Check run not found.", True),
    (checks.result_get_for_user, "result", "Check result not found.", True),
    (checks.finding_get_for_user, "finding", "Finding not found.", True),
]
# list, the objects it lists (by name in the scopes)
LISTS = [
    (lambda user: trial_access.trials_for_user(user), "trial"),
    (datasets.versions_for_user, "version"),
    (lambda user: harmonisation.mappings_for_user(user), "mapping"),
    (checks.runs_for_user, "run"),
    (checks.results_for_user, "result"),
    (checks.findings_for_user, "finding"),
]


def sees(role: str, scope: str, on_trial: bool) -> bool:
    if scope == "other":
        return False
    return not (scope == "unassigned" and on_trial and role == K)


@pytest.mark.parametrize(("getter", "name", "message", "on_trial"), GETTERS, ids=[g[1] for g in GETTERS])
def test_each_getter_finds_what_the_role_may_see_and_nothing_else(world, getter, name, message, on_trial):
    for role in ROLES:
        user = world.users[role]
        for scope_name, scope in world.scopes.items():
            wanted = scope.get(name)
            if sees(role, scope_name, on_trial):
                assert getter(user, wanted.pk) == wanted, (role, scope_name)
                assert getter(user, str(wanted.pk)) == wanted
            else:
                with pytest.raises(NotFound) as refused:
                    getter(user, wanted.pk)
                assert refused.value.message == message, (role, scope_name)
        for bad_id in ("abc", None, "", 10**12):
            with pytest.raises(NotFound) as refused:
                getter(user, bad_id)
            assert refused.value.message == message, bad_id


@pytest.mark.parametrize(("listed", "name"), LISTS, ids=[item[1] for item in LISTS])
def test_each_list_holds_what_the_role_may_see_and_nothing_else(world, listed, name):
    for role in ROLES:
        pks = set(listed(world.users[role]).values_list("pk", flat=True))
        for scope_name, scope in world.scopes.items():
            assert (scope.get(name).pk in pks) == sees(role, scope_name, True), (role, scope_name)


def test_a_list_of_one_trials_mappings_holds_that_trials_only(world):
    analyst = world.users[A]
    mappings = harmonisation.mappings_for_user(analyst, world.own.trial)
    assert set(mappings) == {world.own.mapping, world.own.bare_mapping}
    assert not harmonisation.mappings_for_user(world.users[K], world.unassigned.trial).exists()


def test_what_each_role_may_do_with_data_harmonisation_and_checks(world):
    trial, review = world.own.trial, world.own.review
    may = {
        role: (
            harmonisation.can_edit_harmonisation(world.users[role], review),
            harmonisation.can_read_review_log(world.users[role], review),
            checks.can_run_checks(world.users[role], trial),
            checks.is_review_team(world.users[role], trial),
            datasets.upload_problem(world.users[role], trial) is None,
        )
        for role in ROLES
    }
    assert may == {
        C: (True, True, True, True, True),
        A: (True, True, True, True, True),
        R: (False, True, False, True, False),
        K: (False, False, False, False, True),
    }
    outsider = world.users[C]
    assert not harmonisation.can_edit_harmonisation(outsider, world.other.review)
    assert not checks.is_review_team(outsider, world.other.trial)


def test_the_refusals_say_who_may(world):
    reviewer, contributor = world.users[R], world.users[K]
    review, trial = world.own.review, world.own.trial
    cases = [
        (lambda: harmonisation.require_editor(reviewer, review), "Only the review's coordinators and analysts change"),
        (
            lambda: harmonisation.require_review_reader(contributor, review),
            "The review-wide log is for the review team; open the log of one of your trials.",
        ),
        (
            lambda: checks.require_runner(reviewer, trial),
            "Only the review's coordinators and analysts start check runs.",
        ),
        (lambda: checks.require_review_team(contributor, trial, "resolves findings"), "Only the review team resolves"),
    ]
    for refuse, words in cases:
        with pytest.raises(PermissionDenied) as refused:
            refuse()
        assert refused.value.message.startswith(words)
        assert (refused.value.code, refused.value.status) == ("permission_denied", 403)
    assert checks.require_review_team(world.users[R], trial, "resolves findings") is None
    assert harmonisation.require_editor(world.users[A], review) is None


def test_upload_refusals_have_their_own_code_and_say_why(world):
    with pytest.raises(PermissionDenied) as refused:
        datasets.trial_get_for_upload(world.users[R], world.own.trial.pk)
    assert refused.value.code == "upload_not_allowed"
    assert refused.value.message == (
        "Only the trial's contributors and the review's analysts and coordinators can upload data."
    )
    with pytest.raises(NotFound, match="Trial not found."):
        datasets.trial_get_for_upload(world.users[K], world.unassigned.trial.pk)
    assert datasets.trial_get_for_upload(world.users[K], world.own.trial.pk) == world.own.trial


def test_the_result_fields_are_the_published_result_and_the_counts():
    # RESULT_FIELDS written out: the published primary result and the participant counts.
    fields = {
        "result_measure",
        "result_estimate",
        "result_ci_low",
        "result_ci_high",
        "result_n_intervention",
        "result_n_control",
        "aggregate_available",
    }
    assert trial_access.RESULT_FIELDS == fields


def test_an_analyst_patching_all_result_fields_is_allowed(world):
    analyst, trial = world.users[A], world.own.trial
    assert trial_access.can_edit_trial_fields(analyst, trial, sorted(trial_access.RESULT_FIELDS))
    assert not trial_access.can_edit_trial_fields(analyst, trial, [*trial_access.RESULT_FIELDS, "title"])
    assert not trial_access.can_edit_trial_fields(world.users[K], trial, ["result_estimate"])


# --------------------------------------------------------------------------------------- agreements in force

TODAY = datetime.date(2026, 6, 15)


@pytest.mark.parametrize(
    ("agreements", "problem"),
    [
        ([], "The trial has no data-sharing agreement; data can be uploaded once one is signed."),
        (
            [("negotiating", None)],
            "The trial's data-sharing agreement is not signed yet; data can be uploaded once it is signed.",
        ),
        (
            [("draft", datetime.date(2026, 1, 1))],
            "The trial's data-sharing agreement is not signed yet; data can be uploaded once it is signed.",
        ),
        (
            [("signed", datetime.date(2026, 6, 14)), ("expired", datetime.date(2025, 3, 1))],
            "The trial's data-sharing agreement expired on 14 June 2026; "
            "data can be uploaded again once it is renewed.",
        ),
        ([("signed", TODAY)], None),
        ([("signed", None)], None),
        ([("expired", datetime.date(2026, 1, 1)), ("signed", datetime.date(2027, 1, 1))], None),
    ],
)
def test_an_agreement_is_in_force_when_signed_and_not_expired(db, agreements, problem):
    trial = TrialFactory()
    for status, expires_on in agreements:
        AgreementFactory(trial=trial, status=status, expires_on=expires_on)
    assert datasets.agreement_problem(trial, today=TODAY) == problem


def test_an_agreement_expiring_today_is_in_force_until_tomorrow(db):
    trial = TrialFactory()
    AgreementFactory(trial=trial, status=Agreement.Status.SIGNED, expires_on=TODAY)
    assert datasets.agreement_problem(trial, today=TODAY) is None
    assert "expired on 15 June 2026" in datasets.agreement_problem(trial, today=TODAY + datetime.timedelta(days=1))


# ------------------------------------------------------------------------------------- analyses and reporting

# The review team's getters: the object for a reader, 403 with these words for a contributor of the review, 404
# with the NotFound's message outside it (and for ids that name nothing).
ANALYSES_REFUSAL = "Analyses are for the review team; trial contributors do not see them."
REPORTING_REFUSAL = "The PRISMA-IPD report is for the review team; trial contributors do not see it."
TEAM_GETTERS = [
    (analyses.analysis_get_for_user, "analysis", "Analysis not found.", ANALYSES_REFUSAL),
    (analyses.run_get_for_user, "analysis_run", "Analysis run not found.", ANALYSES_REFUSAL),
    (analyses.run_get_for_user, "sensitivity_run", "Analysis run not found.", ANALYSES_REFUSAL),
    (analyses.review_for_reader, "review", "Review not found.", ANALYSES_REFUSAL),
    (reporting.review_for_reader, "review", "Review not found.", REPORTING_REFUSAL),
]


@pytest.mark.parametrize(
    ("getter", "name", "missing", "refusal"), TEAM_GETTERS, ids=[f"{g[0].__module__}.{g[1]}" for g in TEAM_GETTERS]
)
def test_the_review_team_getters_refuse_contributors_and_hide_other_reviews(world, getter, name, missing, refusal):
    for role in ROLES:
        user = world.users[role]
        wanted = world.own.get(name)
        if role == K:
            with pytest.raises(PermissionDenied) as refused:
                getter(user, wanted.pk)
            assert (refused.value.message, refused.value.code) == (refusal, "permission_denied")
        else:
            assert getter(user, wanted.pk) == wanted, role
            assert getter(user, str(wanted.pk)) == wanted
        with pytest.raises(NotFound) as refused:
            getter(user, world.other.get(name).pk)
        assert refused.value.message == missing, role
        for bad_id in ("abc", None, "", 10**12):
            with pytest.raises(NotFound) as refused:
                getter(user, bad_id)
            assert refused.value.message == missing, bad_id


def test_the_bundle_is_for_coordinators_and_analysts(world):
    review = world.own.review
    for role in (C, A):
        assert reporting.review_for_bundle(world.users[role], review.pk) == review
    with pytest.raises(PermissionDenied) as refused:
        reporting.review_for_bundle(world.users[R], review.pk)
    assert refused.value.message.startswith("Only the review's coordinators and analysts download the reproducibility")
    with pytest.raises(PermissionDenied) as refused:
        reporting.review_for_bundle(world.users[K], review.pk)
    assert refused.value.message == REPORTING_REFUSAL
    with pytest.raises(NotFound):
        reporting.review_for_bundle(world.users[C], world.other.review.pk)


def test_what_each_role_may_do_with_analyses_and_reporting(world):
    review = world.own.review
    may = {
        role: (
            analyses.can_read_analyses(world.users[role], review),
            analyses.can_edit_analyses(world.users[role], review),
            reporting.can_read_reporting(world.users[role], review),
            reporting.can_edit_checklist(world.users[role], review),
            reporting.can_take_bundle(world.users[role], review),
        )
        for role in ROLES
    }
    assert may == {
        C: (True, True, True, True, True),
        A: (True, True, True, True, True),
        R: (True, False, True, True, False),
        K: (False, False, False, False, False),
    }
    outsider = world.users[C]
    assert not analyses.can_read_analyses(outsider, world.other.review)
    assert not reporting.can_read_reporting(outsider, world.other.review)


def test_a_list_of_analyses_holds_the_reviews_the_user_reads(world):
    for role in ROLES:
        listed = set(analyses.analyses_for_user(world.users[role]))
        own = {world.own.analysis, world.own.idle_analysis}
        assert listed == (set() if role == K else own), role


def test_roles_are_what_the_matrix_acts_as():
    assert ROLES == (Role.COORDINATOR, Role.ANALYST, Role.REVIEWER, Role.CONTRIBUTOR)
