"""factory_boy factories for the platform's models. Passwords are all `FACTORY_PASSWORD`."""

import datetime

import factory
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership, Role
from apps.reviews.models import Outcome, Review
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, Contact, ContactAttempt, EthicsApproval, Trial

FACTORY_PASSWORD = "factory-password-1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", FACTORY_PASSWORD)

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    title = factory.Sequence(lambda n: f"IPD meta-analysis {n}")
    question = "Does the intervention reduce mortality?"
    registration = factory.Sequence(lambda n: f"PROSPERO CRD4202600{n:04d}")
    status = Review.Status.ACQUIRING


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    review = factory.SubFactory(ReviewFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.REVIEWER

    @factory.post_generation
    def trials(self, create, extracted, **kwargs):
        if create and extracted:
            self.trials.set(extracted)


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outcome

    review = factory.SubFactory(ReviewFactory)
    name = factory.Sequence(lambda n: f"Outcome {n}")
    type = Outcome.Type.BINARY
    measure = Outcome.Measure.OR


class TrialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trial

    review = factory.SubFactory(ReviewFactory)
    registry_id = factory.Sequence(lambda n: f"NCT{n:08d}")
    title = factory.Sequence(lambda n: f"Trial {n} of the intervention")
    year = 2018
    sponsor_type = Trial.SponsorType.ACADEMIC
    n_randomised = 200
    status = Status.IDENTIFIED
    result_measure = Trial.Measure.OR
    result_estimate = 0.8
    result_ci_low = 0.6
    result_ci_high = 1.1


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    trial = factory.SubFactory(TrialFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"author{n}@trials.example.org")
    institution = "University Hospital"


class ContactAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactAttempt

    trial = factory.SubFactory(TrialFactory)
    date = datetime.date(2026, 1, 5)
    channel = ContactAttempt.Channel.EMAIL
    outcome = ContactAttempt.Outcome.NO_REPLY


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    trial = factory.SubFactory(TrialFactory)
    status = Agreement.Status.DRAFT


class EthicsApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EthicsApproval

    trial = factory.SubFactory(TrialFactory)
    side = EthicsApproval.Side.RECEIVING
    body = "Regional Research Ethics Committee"
    reference = factory.Sequence(lambda n: f"REC-{n}")
