"""The demo review: a registered IPD meta-analysis with trials at every stage, built through the services
so that its transitions and audit trail look like real use: an agreement is signed before a trial is marked
so, data are uploaded and parsed before "data received", harmonised and checked before "data checked". Dates
are relative to today, so follow-ups are due and agreements expire within the dashboard's window whenever the
demo is loaded."""

import datetime
import math
import random
import unicodedata
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership, Role
from apps.accounts.services import membership_create
from apps.core.models import AuditEvent
from apps.reviews.models import Review
from apps.reviews.services import outcome_create, review_create
from apps.trials import services
from apps.trials.lifecycle import MAIN_PATH, ExitReason, Status
from apps.trials.models import Agreement, ContactAttempt, EthicsApproval, StatusTransition, Trial

DEMO_REGISTRATION = "PROSPERO CRD42026000042"
DEMO_PASSWORD = "ipd-demo-2026"
# Seeds, so that every load builds the same trials and the same participant data.
RESULTS_SEED = 20260427
DATA_SEED = 20260501
DEMO_USERS = (
    ("coordinator", "Clara", "Okafor", Role.COORDINATOR),
    ("analyst", "Anders", "Lindqvist", Role.ANALYST),
    ("reviewer", "Rosa", "Moreno", Role.REVIEWER),
    ("contributor", "Kenji", "Watanabe", Role.CONTRIBUTOR),
)

# registry id, title, year, sponsor, participants randomised, final status, exit reason
TRIALS = (
    (
        "NCT00912340",
        "CAP-STEROID: dexamethasone in community-acquired pneumonia",
        2011,
        "academic",
        304,
        Status.INCLUDED,
        "",
    ),
    (
        "ISRCTN48201957",
        "STEP-UP: early steroids for severe pneumonia in older adults",
        2014,
        "government",
        412,
        Status.INCLUDED,
        "",
    ),
    ("NCT01283459", "PRED-CAP: prednisolone 50 mg for 7 days", 2015, "academic", 785, Status.INCLUDED, ""),
    (
        "NCT02517489",
        "HYDRO-PNEU: hydrocortisone infusion in ICU pneumonia",
        2018,
        "industry",
        800,
        Status.DATA_CHECKED,
        "",
    ),
    (
        "NCT01743274",
        "DEXA-ED: dexamethasone started in the emergency department",
        2016,
        "academic",
        226,
        Status.DATA_RECEIVED,
        "",
    ),
    (
        "ACTRN12615000741527",
        "ANZ-CAP: methylprednisolone pulse therapy",
        2019,
        "academic",
        120,
        Status.DATA_RECEIVED,
        "",
    ),
    ("NCT03852537", "SEPCAP: steroids in pneumonia with sepsis", 2020, "industry", 584, Status.AGREEMENT_SIGNED, ""),
    (
        "EUCTR2016-001421-33",
        "CORTI-LUNG: corticosteroids and lung function recovery",
        2021,
        "government",
        310,
        Status.AGREEMENT_SIGNED,
        "",
    ),
    (
        "NCT04112121",
        "RAPID-STAB: time to clinical stability with dexamethasone",
        2021,
        "academic",
        198,
        Status.AGREEMENT_IN_PROGRESS,
        "",
    ),
    (
        "NCT02004847",
        "PNEU-HC: low-dose hydrocortisone in ward patients",
        2017,
        "industry",
        656,
        Status.AGREEMENT_IN_PROGRESS,
        "",
    ),
    (
        "ChiCTR1800015402",
        "SHANGHAI-CAP: methylprednisolone in severe pneumonia",
        2019,
        "academic",
        270,
        Status.RESPONDED,
        "",
    ),
    ("NCT03200587", "OLD-CAP: steroids in patients over 80", 2020, "government", 150, Status.RESPONDED, ""),
    ("NCT01905118", "INFLAME-CAP: anti-inflammatory dosing trial", 2015, "academic", 96, Status.CONTACTED, ""),
    ("ISRCTN10294738", "BREATHE: dexamethasone and oxygen requirement", 2022, "academic", 240, Status.CONTACTED, ""),
    ("NCT04781321", "CAPSTONE: steroid duration 3 vs 7 days", 2023, "industry", 512, Status.CONTACTED, ""),
    (
        "NCT02986434",
        "LATAM-CAP: hydrocortisone in Latin American centres",
        2018,
        "government",
        342,
        Status.IPD_SOUGHT,
        "",
    ),
    ("NCT05011963", "PEDS-TRANS: steroids in young adults with pneumonia", 2024, "academic", 88, Status.IPD_SOUGHT, ""),
    ("NCT05390145", "SHORT-DEX: two days of dexamethasone", 2025, "academic", 160, Status.ELIGIBLE, ""),
    ("DRKS00021345", "GER-CAP: prednisolone in German teaching hospitals", 2022, "academic", 180, Status.ELIGIBLE, ""),
    ("NCT05671289", "ASPIRE-CAP: aspiration pneumonia and steroids", 2025, "other", 140, Status.IDENTIFIED, ""),
    ("ISRCTN77120036", "VIRAL-CAP: steroids in viral pneumonia", 2024, "academic", 220, Status.IDENTIFIED, ""),
    (
        "NCT00456781",
        "Observational cohort of steroid use in pneumonia",
        2008,
        "academic",
        1203,
        Status.NOT_ELIGIBLE,
        ExitReason.NOT_RANDOMISED,
    ),
    (
        "NCT01370525",
        "CAP-DOSE: dexamethasone dose finding",
        2013,
        "academic",
        134,
        Status.NO_RESPONSE,
        ExitReason.NO_REPLY,
    ),
    (
        "NCT01572012",
        "PHARMA-PN1: hydrocortisone tablets",
        2012,
        "industry",
        450,
        Status.DECLINED,
        ExitReason.SPONSOR_DECLINED,
    ),
    (
        "NCT00789256",
        "EARLY-STER: steroids within 12 hours",
        2009,
        "academic",
        212,
        Status.DATA_NOT_AVAILABLE,
        ExitReason.DATA_LOST,
    ),
    (
        "NCT03007693",
        "MULTI-CAP: multicentre hydrocortisone trial",
        2019,
        "government",
        380,
        Status.WITHDRAWN,
        ExitReason.WITHDRAWN_BY_INVESTIGATORS,
    ),
)

# Trials whose participant data are generated, uploaded and parsed.
STATUSES_WITH_DATA = (Status.DATA_RECEIVED, Status.DATA_CHECKED, Status.INCLUDED)

# The path each exit is reached by.
EXIT_PATHS = {
    Status.NOT_ELIGIBLE: (Status.IDENTIFIED,),
    Status.NO_RESPONSE: (Status.IDENTIFIED, Status.ELIGIBLE, Status.IPD_SOUGHT, Status.CONTACTED),
    Status.DECLINED: (Status.IDENTIFIED, Status.ELIGIBLE, Status.IPD_SOUGHT, Status.CONTACTED, Status.RESPONDED),
    Status.DATA_NOT_AVAILABLE: (
        Status.IDENTIFIED,
        Status.ELIGIBLE,
        Status.IPD_SOUGHT,
        Status.CONTACTED,
        Status.RESPONDED,
        Status.AGREEMENT_IN_PROGRESS,
    ),
    Status.WITHDRAWN: MAIN_PATH[: MAIN_PATH.index(Status.AGREEMENT_SIGNED) + 1],
}

FIRST_NAMES = ("Maria", "James", "Aiko", "Pierre", "Fatima", "Lars", "Chen", "Olu", "Sofia", "David", "Priya", "Tomás")
LAST_NAMES = ("García", "Smith", "Tanaka", "Dubois", "Haddad", "Nilsson", "Wei", "Adeyemi", "Rossi", "Cohen", "Rao")
INSTITUTIONS = (
    "University Hospital Basel",
    "Karolinska Institutet",
    "Monash University",
    "Hospital Clínic de Barcelona",
    "University of Toronto",
    "Leiden University Medical Center",
)


@dataclass
class DemoResult:
    review: Review
    created: bool
    users: list


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _path_to(status: str) -> tuple:
    if status in EXIT_PATHS:
        return (*EXIT_PATHS[status], status)
    return MAIN_PATH[: MAIN_PATH.index(status) + 1]


# The trial whose paper reports an odds ratio adjusted for severity and age: its data give the unadjusted one,
# so its re-derivation is deliberately discrepant, and the finding's resolution says why (apps/checks/demo.py).
ADJUSTED_IN_PAPER = "NCT01283459"
# How much further from 1 the adjusted odds ratio lies than the unadjusted one (on the log scale).
ADJUSTMENT_SHIFT = -0.25


def _odds_ratio(log_or: float, se: float, n: int) -> dict:
    n_intervention = n // 2 + n % 2
    return {
        "result_measure": Trial.Measure.OR,
        "result_estimate": round(math.exp(log_or), 2),
        "result_ci_low": round(math.exp(log_or - 1.96 * se), 2),
        "result_ci_high": round(math.exp(log_or + 1.96 * se), 2),
        "result_n_intervention": n_intervention,
        "result_n_control": n - n_intervention,
    }


def _published_result(rng: random.Random, n: int) -> dict:
    """A plausible odds ratio for 30-day mortality with its 95% CI, for a trial whose data the review never sees."""
    return _odds_ratio(rng.gauss(-0.2, 0.25), 2.2 / math.sqrt(n), n)


def _published_from_data(index: int, n: int, registry_id: str) -> dict:
    """The unadjusted odds ratio of 30-day mortality that the trial's own participant file gives (0.5 added to
    each cell when one is empty), as its paper would report it; the paper of ADJUSTED_IN_PAPER reports an
    adjusted one instead."""
    died = {"steroid": [0, 0], "control": [0, 0]}
    lines = _participant_rows(random.Random(DATA_SEED + index), n).splitlines()[1:]
    for line in lines:
        fields = line.split(",")
        died[fields[1]][int(fields[6])] += 1
    cells = [died["steroid"][1], died["steroid"][0], died["control"][1], died["control"][0]]
    if 0 in cells:
        cells = [cell + 0.5 for cell in cells]
    a, b, c, d = cells
    log_or = math.log(a * d / (b * c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    if registry_id == ADJUSTED_IN_PAPER:
        log_or += ADJUSTMENT_SHIFT
    return _odds_ratio(log_or, se, n)


def _ensure_users() -> dict:
    User = get_user_model()
    users = {}
    for username, first, last, role in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@example.org"
        user.is_staff = role == Role.COORDINATOR
        user.set_password(DEMO_PASSWORD)
        user.save()
        if role == Role.COORDINATOR:
            # The demo coordinator may create reviews, a right a site administrator grants.
            user.user_permissions.add(Permission.objects.get(codename="add_review", content_type__app_label="reviews"))
        users[role] = user
    return users


def _backdate(trial: Trial, days_ago: list[int]) -> None:
    """Spread the trial's transitions over the past months, as if the review had been running a while."""
    now = timezone.now()
    transitions = list(trial.transitions.order_by("created_at", "id"))
    for transition, days in zip(transitions, days_ago, strict=False):
        when = now - datetime.timedelta(days=days, hours=transition.pk % 7)
        StatusTransition.objects.filter(pk=transition.pk).update(created_at=when)
        AuditEvent.objects.filter(
            trial=trial, action=AuditEvent.Action.TRANSITION, after__status=transition.to_status
        ).update(created_at=when)
    first_seen = now - datetime.timedelta(days=(days_ago[0] if days_ago else 10) + 5)
    AuditEvent.objects.filter(trial=trial, action=AuditEvent.Action.CREATE, object_type="trial").update(
        created_at=first_seen
    )
    Trial.objects.filter(pk=trial.pk).update(created_at=first_seen)
    if transitions:
        Trial.objects.filter(pk=trial.pk).update(
            status_changed_at=now - datetime.timedelta(days=days_ago[len(transitions) - 1])
        )


def _backdate_records(trial: Trial) -> None:
    """Records logged along the way are dated an hour after the trial's latest move, not today."""
    trial.refresh_from_db()
    when = (trial.status_changed_at or trial.created_at) + datetime.timedelta(hours=1)
    AuditEvent.objects.filter(trial=trial).exclude(action=AuditEvent.Action.TRANSITION).exclude(
        action=AuditEvent.Action.CREATE, object_type="trial"
    ).update(created_at=when)


def _transition_day(trial: Trial, status: str) -> datetime.date:
    transition = trial.transitions.filter(to_status=status).order_by("created_at").first()
    return timezone.localdate(transition.created_at)


def _add_tracking(trial: Trial, index: int, users: dict, today: datetime.date) -> None:
    actor = users[Role.COORDINATOR]
    reached = set(_path_to(trial.status))
    if Status.IPD_SOUGHT not in reached:
        return
    name = f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[index % len(LAST_NAMES)]}"
    contact = services.contact_create(
        trial=trial,
        actor=actor,
        name=name,
        role="corresponding_author",
        email=f"{_ascii(name.split()[1]).lower()}.{index}@trials.example.org",
        institution=INSTITUTIONS[index % len(INSTITUTIONS)],
    )
    if Status.CONTACTED not in reached:
        return
    owner = users[Role.REVIEWER] if index % 2 else users[Role.COORDINATOR]
    first_day = _transition_day(trial, Status.CONTACTED)
    replied = Status.RESPONDED in reached
    services.contact_attempt_create(
        trial=trial,
        actor=actor,
        contact=contact,
        date=first_day,
        channel="email",
        outcome="no_reply",
        next_follow_up=first_day + datetime.timedelta(days=14),
        owner=owner,
        note="Invitation letter and protocol summary sent.",
    )
    if replied:
        services.contact_attempt_create(
            trial=trial,
            actor=actor,
            contact=contact,
            date=_transition_day(trial, Status.RESPONDED),
            channel="email",
            outcome="declined" if trial.status == Status.DECLINED else "replied",
            owner=owner,
            note="Reminder sent; the team replied.",
        )
    elif trial.status == Status.CONTACTED:
        # Reminder sent; the next follow-up is overdue for some trials and still ahead for others.
        services.contact_attempt_create(
            trial=trial,
            actor=actor,
            contact=contact,
            date=today - datetime.timedelta(days=21),
            channel="phone" if index % 3 == 0 else "email",
            outcome="no_reply",
            next_follow_up=today - datetime.timedelta(days=index % 4)
            if index % 3
            else today + datetime.timedelta(days=7),
            owner=owner,
            note="Reminder sent to the corresponding author.",
        )
    if Status.AGREEMENT_IN_PROGRESS not in reached:
        return
    if Status.AGREEMENT_SIGNED not in reached:
        _add_agreement_in_negotiation(trial, index, actor)
    services.approval_create(
        trial=trial,
        actor=actor,
        side=EthicsApproval.Side.CONTRIBUTING,
        body=f"{INSTITUTIONS[index % len(INSTITUTIONS)]} Research Ethics Committee",
        reference=f"REC-{2020 + index % 5}-{100 + index}",
        approved_on=_transition_day(trial, Status.AGREEMENT_IN_PROGRESS),
        expires_on=today + datetime.timedelta(days=40 if index % 5 == 0 else 400),
    )


def _platform(index: int) -> tuple[str, str, bool]:
    """The agreement's platform, conditions, and whether the data may leave the platform. Trials whose data the
    review holds were shared directly with the team and may go into a reproducibility bundle; the others' data
    stay on the provider's platform."""
    if TRIALS[index][5] in STATUSES_WITH_DATA:
        conditions = (
            "Data held on the review's secure server; may be shared for the reproduction of the published "
            "analyses; destroyed five years after publication."
        )
        return Agreement.Platform.DIRECT, conditions, True
    platform = (Agreement.Platform.VIVLI, Agreement.Platform.CSDR)[index % 2]
    conditions = {
        Agreement.Platform.VIVLI: "Analysis on the provider's server only; results exported after review.",
        Agreement.Platform.CSDR: "Access for 12 months, extendable to 24; no download of participant data.",
    }[platform]
    return platform, conditions, False


def _add_agreement_in_negotiation(trial: Trial, index: int, actor) -> None:
    platform, conditions, may_leave = _platform(index)
    services.agreement_create(
        trial=trial,
        actor=actor,
        platform=platform,
        status=Agreement.Status.NEGOTIATING,
        conditions=conditions,
        data_may_leave_platform=may_leave,
    )


def _add_signed_agreement(trial: Trial, index: int, actor, today: datetime.date, signed_on: datetime.date) -> None:
    """Recorded before the trial is marked "agreement signed", as the lifecycle requires."""
    platform, conditions, may_leave = _platform(index)
    # Some agreements run out within the dashboard's 90 days, and one is past its date but not yet marked.
    expires_on = {
        0: today + datetime.timedelta(days=30),
        1: today + datetime.timedelta(days=75),
        2: today - datetime.timedelta(days=3),
    }.get(index % 6, signed_on + datetime.timedelta(days=730))
    services.agreement_create(
        trial=trial,
        actor=actor,
        platform=platform,
        status=Agreement.Status.SIGNED,
        signed_on=signed_on,
        expires_on=expires_on,
        conditions=conditions,
        data_may_leave_platform=may_leave,
    )


def _participant_rows(rng: random.Random, n: int) -> str:
    """One line per randomised participant: arm, age, sex, CRP, severity, 30-day death, days in hospital."""
    lines = ["participant_id,arm,age,sex,crp_mg_l,psi_class,died_30d,los_days"]
    for number in range(1, n + 1):
        arm = "steroid" if number % 2 else "control"
        age = min(99, max(18, round(rng.gauss(68, 14))))
        severity = rng.choice((2, 3, 3, 4, 4, 5))
        risk = 0.02 * severity + (0.004 * (age - 65) if age > 65 else 0) - (0.02 if arm == "steroid" else 0)
        died = int(rng.random() < max(0.01, risk))
        # Steroids shorten the stay of younger patients by a day or so: an interaction with age to find.
        shorter = 1 if arm == "steroid" and age < 70 else 0
        stay = max(1, round(rng.gammavariate(2.2, 3.5)) - shorter) + (0 if died else 1)
        crp = round(rng.lognormvariate(4.9, 0.6), 1)
        lines.append(f"P{number:04d},{arm},{age},{rng.choice('FM')},{crp},{severity},{died},{stay}")
    return "\n".join(lines) + "\n"


def _add_dataset(trial: Trial, index: int, actor):
    """The trial's participant data, uploaded before it is marked "data received", and parsed."""
    from apps.datasets.services import dataset_upload

    name = f"{_ascii(trial.registry_id).lower()}_ipd.csv"
    rows = _participant_rows(random.Random(DATA_SEED + index), trial.n_randomised or 100)
    content = ContentFile(rows.encode(), name=name)
    version, _ = dataset_upload(
        trial=trial, actor=actor, file=content, note="Participant data as sent by the trial team."
    )
    _parse_now(version)
    return version


def _parse_now(version) -> None:
    """The demo is loaded in one transaction, so a queued parse would be sent only once it commits: run the
    parse job here instead (the task does nothing when it is delivered later)."""
    from apps.datasets.selectors import version_parse_job
    from apps.datasets.tasks import dataset_parse_task

    job = version_parse_job(version)
    if job is not None:
        dataset_parse_task(job.pk)
    version.refresh_from_db()


def _check_data(trial: Trial, version, actor) -> None:
    """Harmonise and check the trial's data and settle the findings, before it is marked "data checked"."""
    from apps.checks.demo import demo_harmonise_and_check

    demo_harmonise_and_check(trial=trial, version=version, actor=actor)


def _add_review(users: dict, today: datetime.date) -> Review:
    coordinator = users[Role.COORDINATOR]
    review = review_create(
        actor=coordinator,
        title="Corticosteroids for adults hospitalised with community-acquired pneumonia: an IPD meta-analysis",
        question=(
            "In adults hospitalised with community-acquired pneumonia, do systemic corticosteroids compared with "
            "placebo or usual care reduce 30-day mortality, and does the effect vary with severity, age or CRP?"
        ),
        registration=DEMO_REGISTRATION,
        status=Review.Status.ACQUIRING,
    )
    outcome_create(
        review=review, actor=coordinator, name="30-day mortality", type="binary", measure="OR", is_primary=True
    )
    outcome_create(review=review, actor=coordinator, name="Time to clinical stability", type="survival", measure="HR")
    outcome_create(
        review=review, actor=coordinator, name="Length of hospital stay (days)", type="continuous", measure="MD"
    )
    for role in (Role.ANALYST, Role.REVIEWER, Role.CONTRIBUTOR):
        membership_create(review=review, actor=coordinator, user=users[role], role=role)
    return review


def _add_trials(review: Review, users: dict, today: datetime.date) -> list[Trial]:
    rng = random.Random(RESULTS_SEED)
    coordinator = users[Role.COORDINATOR]
    trials = []
    for index, (registry_id, title, year, sponsor, n, status, reason) in enumerate(TRIALS):
        trial = services.trial_create(
            review=review,
            actor=coordinator,
            registry_id=registry_id,
            title=title,
            citation=f"{LAST_NAMES[index % len(LAST_NAMES)]} et al. {year}",
            doi=f"10.1000/demo.{year}.{index + 1:03d}",
            year=year,
            sponsor_type=sponsor,
            n_randomised=n,
            identified_via="other" if index % 7 == 3 else "database",
            aggregate_available=status not in (Status.IDENTIFIED, Status.NOT_ELIGIBLE),
            **(
                _published_from_data(index, n, registry_id)
                if status in STATUSES_WITH_DATA
                else _published_result(rng, n)
            ),
        )
        path = _path_to(status)
        steps = len(path) - 1
        days_ago = [15 + (steps - step) * 18 + index % 5 for step in range(steps)]
        for step, to_status in enumerate(path[1:]):
            is_last = to_status == status
            if to_status == Status.AGREEMENT_SIGNED:
                signed_on = today - datetime.timedelta(days=days_ago[step])
                _add_signed_agreement(trial, index, coordinator, today, signed_on)
            elif to_status == Status.DATA_RECEIVED:
                version = _add_dataset(trial, index, coordinator)
                trial.refresh_from_db()
                if trial.status == Status.DATA_RECEIVED:
                    continue  # the parsed upload moved the trial on, as it does for every first upload
            elif to_status == Status.DATA_CHECKED:
                _check_data(trial, version, coordinator)
            services.trial_transition(
                trial=trial,
                to_status=to_status,
                actor=users[Role.REVIEWER] if index % 2 else coordinator,
                reason=reason if is_last else "",
                note="See correspondence log." if is_last and reason else "",
            )
        trial.refresh_from_db()
        _backdate(trial, days_ago)
        trial.refresh_from_db()
        _add_tracking(trial, index, users, today)
        if status in STATUSES_WITH_DATA:
            services.trial_update(trial=trial, actor=coordinator, data={"n_provided": n, "n_not_provided": 0})
        _backdate_records(trial)
        trials.append(trial)
    return trials


def demo_review_load(today: datetime.date | None = None) -> DemoResult:
    """Create the demo review once; later runs only reset the demo users' passwords."""
    today = today or timezone.localdate()
    with transaction.atomic():
        users = _ensure_users()
        review = Review.objects.filter(registration=DEMO_REGISTRATION).first()
        if review is not None:
            return DemoResult(review=review, created=False, users=list(users.values()))
        review = _add_review(users, today)
        trials = _add_trials(review, users, today)
        contributor = Membership.objects.get(review=review, user=users[Role.CONTRIBUTOR])
        assigned = [t for t in trials if t.status in (Status.AGREEMENT_SIGNED, Status.DATA_RECEIVED)][:2]
        contributor.trials.set(assigned)
        _add_analyses(review, users[Role.ANALYST])
    return DemoResult(review=review, created=True, users=list(users.values()))


def _add_analyses(review: Review, analyst) -> None:
    """The demo's analyses, defined and run as an analyst would (apps/analyses/demo.py)."""
    from apps.analyses.demo import demo_analyses

    demo_analyses(review=review, actor=analyst)


def demo_summary() -> dict:
    review = Review.objects.get(registration=DEMO_REGISTRATION)
    return {
        "trials": Trial.objects.filter(review=review).count(),
        "attempts": ContactAttempt.objects.filter(trial__review=review).count(),
        "agreements": Agreement.objects.filter(trial__review=review).count(),
        "approvals": EthicsApproval.objects.filter(trial__review=review).count(),
    }
