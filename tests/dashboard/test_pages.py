"""What each page shows."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership, Role
from apps.trials import services
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, ContactAttempt, Trial

pytestmark = pytest.mark.django_db


def test_review_list_shows_only_the_users_reviews(client, reviewer, review, other_review, trial, second_trial):
    html = client.get(reverse("dashboard:review-list")).content.decode()
    assert review.title in html
    assert other_review.title not in html
    assert reverse("dashboard:review-overview", args=[review.pk]) in html
    assert "Your role: Reviewer" in html
    # Two trials, one of them past the contact stage.
    assert "Trials by stage: Screening 0, Contact 1, Agreement 1, Data 0, Exited 0" in html


def test_review_list_explains_an_empty_list(client, make_user):
    client.force_login(make_user("newcomer"))
    html = client.get(reverse("dashboard:review-list")).content.decode()
    assert "No reviews yet" in html


def test_overview_shows_pipeline_response_rate_followups_and_expiring(client, reviewer, review, trial, second_trial):
    today = timezone.localdate()
    services.trial_transition(trial=trial, to_status="responded", actor=reviewer)
    services.contact_attempt_create(
        trial=second_trial,
        actor=reviewer,
        date=today - datetime.timedelta(days=20),
        channel="email",
        outcome="no_reply",
        next_follow_up=today - datetime.timedelta(days=1),
        owner=reviewer,
    )
    Agreement.objects.create(
        trial=second_trial,
        title="YODA data use agreement",
        status=Agreement.Status.SIGNED,
        signed_on=today - datetime.timedelta(days=300),
        expires_on=today + datetime.timedelta(days=30),
    )

    html = client.get(reverse("dashboard:review-overview", args=[review.pk])).content.decode()

    assert f"{reverse('dashboard:trial-list', args=[review.pk])}?status=responded" in html
    assert "?status=agreement_signed" in html
    assert "<dt>Participants randomised</dt><dd>360</dd>" in html  # 240 + 120
    # The fixture's trial started at "contacted" without a recorded move there, so no rate can be given yet.
    assert "0 of 0 contacted" in html
    assert "YODA data use agreement" in html
    assert "Follow-ups due" in html and "ISRCTN2000002" in html
    assert "Status moved from" in html  # the transition in recent activity


def test_overview_response_rate_counts_replies_after_contact(client, reviewer, review, trial):
    trial.status = "ipd_sought"
    trial.save()
    services.trial_transition(trial=trial, to_status="contacted", actor=reviewer)
    services.trial_transition(trial=trial, to_status="responded", actor=reviewer)
    html = client.get(reverse("dashboard:review-overview", args=[review.pk])).content.decode()
    assert "100%" in html
    assert "1 of 1 contacted" in html


def test_trial_list_filters_by_status_sponsor_and_search(client, reviewer, review, trial, second_trial):
    url = reverse("dashboard:trial-list", args=[review.pk])

    html = client.get(url).content.decode()
    assert trial.title in html and second_trial.title in html
    assert "2 trials" in html

    html = client.get(url, {"status": "agreement_signed"}).content.decode()
    assert second_trial.title in html and trial.title not in html

    html = client.get(url, {"sponsor_type": "academic"}).content.decode()
    assert trial.title in html and second_trial.title not in html

    html = client.get(url, {"q": "nct01000001"}).content.decode()
    assert trial.title in html and second_trial.title not in html
    assert "1 trial matching the filters" in html

    html = client.get(url, {"q": "nothing like this"}).content.decode()
    assert "No trial matches" in html


def test_trial_list_ignores_an_unknown_status_filter(client, reviewer, review, trial):
    response = client.get(reverse("dashboard:trial-list", args=[review.pk]), {"status": "bogus"})
    assert response.status_code == 200
    assert trial.title in response.content.decode()


def test_trial_list_paginates(client, reviewer, review):
    Trial.objects.bulk_create(Trial(review=review, title=f"Trial {n:02d}") for n in range(30))
    url = reverse("dashboard:trial-list", args=[review.pk])
    first = client.get(url).content.decode()
    assert "Page 1 of 2" in first and "Trial 00" in first and "Trial 29" not in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "Trial 29" in second


def test_trial_page_shows_details_result_prisma_contacts_and_timeline(client, reviewer, trial):
    services.trial_transition(trial=trial, to_status="responded", actor=reviewer, note="Keen to share.")
    html = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    assert trial.title in html
    assert "Mean difference" in html and "-1.3 to -0.3" in html
    assert "PRISMA-IPD" in html and "Database search" in html
    assert "Dr Ada Okafor" in html and "mailto:ada@example.org" in html
    assert "Contacted → Responded" in html and "Keen to share." in html


def test_trial_page_offers_only_the_allowed_next_states(client, reviewer, trial):
    html = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    options = html.split('id="transition_to_status"')[1].split("</select>")[0]
    for allowed in ("responded", "no_response", "declined", "data_not_available", "withdrawn"):
        assert f'value="{allowed}"' in options
    for refused in ("included", "identified", "agreement_signed"):
        assert f'value="{refused}"' not in options


@pytest.mark.parametrize(
    ("role", "sees_attempt_form", "sees_transition_form"),
    [
        (Role.COORDINATOR, True, True),
        (Role.REVIEWER, True, True),
        (Role.ANALYST, False, False),
        # The contributor's page is their trial's record: the tracking forms are the review team's.
        (Role.CONTRIBUTOR, False, False),
    ],
)
def test_trial_page_shows_the_forms_the_role_may_use(
    client, member, trial, role, sees_attempt_form, sees_transition_form
):
    member(client, role, trials=[trial])
    html = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    assert ("Log a contact attempt" in html) is sees_attempt_form
    assert ("Move the status" in html) is sees_transition_form


def test_final_status_offers_no_move(client, reviewer, review):
    trial = Trial.objects.create(review=review, title="Lost data", status="data_not_available")
    html = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    assert "is a final status" in html
    assert ContactAttempt.objects.count() == 0


def test_contributor_overview_lists_only_their_trials_followups_and_activity(
    client, member, review, trial, second_trial
):
    today = timezone.localdate()
    coordinator = member(client, Role.COORDINATOR, username="coordinator")
    for target in (trial, second_trial):
        services.contact_attempt_create(
            trial=target,
            actor=coordinator,
            date=today - datetime.timedelta(days=10),
            channel="email",
            outcome="no_reply",
            next_follow_up=today,
            owner=coordinator,
        )
    member(client, Role.CONTRIBUTOR, trials=[trial])

    html = client.get(reverse("dashboard:review-overview", args=[review.pk])).content.decode()

    assert trial.registry_id in html
    assert second_trial.registry_id not in html


def test_contributor_figures_count_only_their_trials(client, member, review, other_review, trial, second_trial):
    user = member(client, Role.CONTRIBUTOR, trials=[trial])
    # With two reviews the home page lists them; the review's own page is the contributor's home.
    Membership.objects.create(review=other_review, user=user, role=Role.REVIEWER)

    listing = client.get(reverse("dashboard:review-list"))

    counts = {row["status"]: row["trials"] for row in _pipeline_of(listing)}
    assert counts[Status.CONTACTED] == 1
    assert counts[Status.AGREEMENT_SIGNED] == 0


def _pipeline_of(response):
    (item,) = [item for item in response.context["reviews"] if item["role"] == Role.CONTRIBUTOR]
    return item["pipeline"]


TRIAL_DATA_PAGES = [
    "datasets:trial-versions",
    "harmonisation:trial-mappings",
    "harmonisation:trial-log",
    "checks:trial-checks",
]
REVIEW_DATA_PAGES = ["harmonisation:schema", "harmonisation:review-log", "checks:review-integrity"]


@pytest.mark.parametrize(
    ("page", "of_trial", "links"),
    [
        ("dashboard:trial-detail", True, TRIAL_DATA_PAGES),
        ("dashboard:review-overview", False, REVIEW_DATA_PAGES),
    ],
)
def test_pages_link_to_the_data_pages_that_answer(client, member, review, trial, page, of_trial, links):
    member(client, Role.COORDINATOR)
    target = trial.pk if of_trial else review.pk
    html = client.get(reverse(page, args=[target])).content.decode()
    for name in links:
        url = reverse(name, args=[target])
        assert f'href="{url}"' in html
        assert client.get(url).status_code == 200, url


def test_contributor_overview_hides_the_review_wide_data_pages(client, member, review, trial):
    member(client, Role.CONTRIBUTOR, trials=[trial])
    html = client.get(reverse("dashboard:review-overview", args=[review.pk])).content.decode()
    assert reverse("harmonisation:schema", args=[review.pk]) not in html
    assert reverse("harmonisation:review-log", args=[review.pk]) not in html


@pytest.mark.parametrize(("warning_days", "shown"), [(30, False), (120, True)])
def test_overview_warns_of_expiry_within_the_configured_days(
    client, reviewer, review, second_trial, settings, warning_days, shown
):
    settings.IPD_EXPIRY_WARNING_DAYS = warning_days
    today = timezone.localdate()
    Agreement.objects.create(
        trial=second_trial,
        title="Vivli data use agreement",
        status=Agreement.Status.SIGNED,
        signed_on=today - datetime.timedelta(days=300),
        expires_on=today + datetime.timedelta(days=100),
    )
    html = client.get(reverse("dashboard:review-overview", args=[review.pk])).content.decode()
    assert f"Expiring within {warning_days} days" in html
    assert ("Vivli data use agreement" in html) is shown
