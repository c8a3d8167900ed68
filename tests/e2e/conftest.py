import re

import pytest

PASSWORD = "a long and private passphrase"


@pytest.fixture
def tracked_trial(transactional_db):
    """A reviewer, "maria", in a review with one contacted trial and its corresponding author."""
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Membership, Role
    from apps.reviews.models import Review
    from apps.trials.lifecycle import Status
    from apps.trials.models import Contact, Trial

    user = get_user_model().objects.create_user(username="maria", password=PASSWORD, first_name="Maria")
    review = Review.objects.create(title="Exercise therapy for chronic low back pain", status=Review.Status.ACQUIRING)
    Membership.objects.create(review=review, user=user, role=Role.REVIEWER)
    trial = Trial.objects.create(
        review=review,
        registry_id="NCT01000001",
        title="BACK-FIT: supervised exercise versus usual care",
        n_randomised=240,
        status=Status.CONTACTED,
    )
    Contact.objects.create(trial=trial, name="Dr Ada Okafor", email="ada@example.org")
    return trial


@pytest.fixture
def log_in(page, live_server):
    def log_in_as(username: str = "maria", password: str = PASSWORD):
        page.goto(f"{live_server.url}/")
        # Anonymous visitors land on the login page.
        page.wait_for_url(re.compile(r"/accounts/login/"))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")

    return log_in_as
