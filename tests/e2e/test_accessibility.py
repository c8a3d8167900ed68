"""Every dashboard page, in Chromium, checked by axe-core against WCAG 2.1 A and AA (labels, landmarks, heading
order, contrast, ...) and axe's best practices, including a page showing form errors."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from apps.trials import services
from apps.trials.models import Agreement, EthicsApproval, Trial

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_SOURCE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_RULES = {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE_SOURCE))
    result = page.evaluate("async (runOnly) => await axe.run(document, { runOnly })", AXE_RULES)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {[n['target'] for n in violation['nodes']]}"
        for violation in result["violations"]
    ]


@pytest.fixture
def busy_review(tracked_trial):
    """The tracked trial's review with something in every panel: a move, a follow-up due, expiring papers."""
    review = tracked_trial.review
    user = review.memberships.get().user
    today = timezone.localdate()
    services.trial_transition(trial=tracked_trial, to_status="responded", actor=user, note="Replied by e-mail.")
    signed = Trial.objects.create(
        review=review, registry_id="NCT02000002", title="PILATES-2", status="agreement_signed"
    )
    services.contact_attempt_create(
        trial=signed,
        actor=user,
        date=today - datetime.timedelta(days=14),
        channel="email",
        outcome="no_reply",
        next_follow_up=today - datetime.timedelta(days=1),
        owner=user,
    )
    Agreement.objects.create(
        trial=signed,
        status=Agreement.Status.SIGNED,
        signed_on=today - datetime.timedelta(days=300),
        expires_on=today + datetime.timedelta(days=40),
        conditions="Analysis on the provider's server only",
    )
    EthicsApproval.objects.create(
        trial=signed,
        side="receiving",
        body="Leeds REC",
        reference="22/YH/0101",
        expires_on=today + datetime.timedelta(days=60),
    )
    return review


def test_login_page_has_no_accessibility_violations(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    assert axe_violations(page) == []


def test_dashboard_pages_have_no_accessibility_violations(page, live_server, log_in, busy_review, tracked_trial):
    log_in()
    pages = {
        "review list": "/",
        "review overview": f"/reviews/{busy_review.pk}/",
        "trial list": f"/reviews/{busy_review.pk}/trials/",
        "filtered trial list": f"/reviews/{busy_review.pk}/trials/?status=responded&q=back",
        "trial page": f"/trials/{tracked_trial.pk}/",
    }
    found = {}
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        found[name] = axe_violations(page)
    assert found == {name: [] for name in pages}


def test_form_errors_have_no_accessibility_violations(page, live_server, log_in, tracked_trial):
    log_in()
    page.goto(f"{live_server.url}/trials/{tracked_trial.pk}/")
    form = page.locator("#move-status form")
    form.get_by_label("New status").select_option(label="Declined")
    form.get_by_role("button", name="Change status").click()
    page.locator("#transition_reason_errors").wait_for()
    assert page.locator("#transition_reason").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []


def test_the_check_reports_what_it_should(page):
    # A guard against a silently broken checker: an unlabelled input and grey-on-grey text must be reported.
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>Form</h1>'
        '<input type="text" name="q"><p style="color:#aaa;background:#bbb">faint</p></main></body></html>'
    )
    rules = {violation.split(" ")[0] for violation in axe_violations(page)}
    assert {"label", "color-contrast"} <= rules
