"""Fixtures for the page tests: two reviews, members in every role, and a few trials."""

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership, Role
from apps.reviews.models import Review
from apps.trials.lifecycle import Status
from apps.trials.models import Contact, Trial

PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(db):
    def make(username: str, **extra):
        return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)

    return make


@pytest.fixture
def review(db):
    return Review.objects.create(
        title="Exercise therapy for chronic low back pain",
        question="Does supervised exercise reduce pain at 12 months?",
        registration="PROSPERO CRD42024000001",
        status=Review.Status.ACQUIRING,
    )


@pytest.fixture
def other_review(db):
    return Review.objects.create(title="Statins after stroke", status=Review.Status.ACQUIRING)


@pytest.fixture
def trial(review):
    trial = Trial.objects.create(
        review=review,
        registry_id="NCT01000001",
        title="BACK-FIT: supervised exercise versus usual care",
        year=2015,
        sponsor_type=Trial.SponsorType.ACADEMIC,
        n_randomised=240,
        status=Status.CONTACTED,
        result_measure=Trial.Measure.MD,
        result_estimate=-0.8,
        result_ci_low=-1.3,
        result_ci_high=-0.3,
    )
    Contact.objects.create(trial=trial, name="Dr Ada Okafor", email="ada@example.org", institution="Leeds")
    return trial


@pytest.fixture
def second_trial(review):
    return Trial.objects.create(
        review=review,
        registry_id="ISRCTN2000002",
        title="Pilates for back pain in primary care",
        year=2019,
        sponsor_type=Trial.SponsorType.INDUSTRY,
        n_randomised=120,
        status=Status.AGREEMENT_SIGNED,
    )


@pytest.fixture
def other_trial(other_review):
    return Trial.objects.create(
        review=other_review, registry_id="NCT09999999", title="Statin trial", status=Status.CONTACTED
    )


@pytest.fixture
def member(make_user, review):
    """Return a logged-in client for a new user with `role` in the review (contributors get `trials`)."""

    def make(client, role: str, *, trials=(), username=None):
        user = make_user(username or f"{role}-user", first_name=role.capitalize())
        membership = Membership.objects.create(review=review, user=user, role=role)
        membership.trials.set(trials)
        client.force_login(user)
        return user

    return make


@pytest.fixture
def reviewer(client, member):
    return member(client, Role.REVIEWER)
