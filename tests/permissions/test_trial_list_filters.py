"""The trial list's named filters (?prisma=<box>, from the PRISMA-IPD diagram) as a contributor, who sees only
the trials assigned to them and neither the diagram nor the analyses: what the page tells them must not depend on
trials or analysis runs they cannot see.

The filter's label carries the box's count over the whole review ("Studies identified through database searching
(6)"), and the analysed-data filter the count of the trials an analysis pooled: the resolver is given the user, and
for those who may not read the diagram (contributors) it names nothing, whatever the value.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from apps.analyses.models import AnalysisRun
from apps.trials.models import Trial
from tests.factories import TrialFactory
from tests.permissions.matrix import ROLES

pytestmark = pytest.mark.django_db
CONTRIBUTOR = ROLES[3]


def what_the_list_says(world, value: str) -> tuple:
    client = Client()
    client.force_login(world.users[CONTRIBUTOR])
    response = client.get(reverse("dashboard:trial-list", args=[world.own.review.pk]) + f"?prisma={value}")
    text = response.content.decode()
    shown = re.findall(r"Showing [^<]*", text)
    listed = re.findall(r'id="results-heading">([^<]*)<', text)
    return response.status_code, shown, listed


def test_a_box_filter_says_the_same_whatever_trials_the_contributor_cannot_see(world):
    before = what_the_list_says(world, "identified_database")
    assert before[0] == 400 and before[1] == []  # names nothing to a contributor: no count, no label
    TrialFactory(review=world.own.review, identified_via=Trial.IdentifiedVia.DATABASE, title="A trial no one assigned")
    assert what_the_list_says(world, "identified_database") == before


def test_the_analysed_filter_tells_a_contributor_nothing_of_the_analyses(world):
    value = f"analysed-{world.own.pressure.pk}-ipd"
    with_run = what_the_list_says(world, value)
    AnalysisRun.objects.filter(review=world.own.review).delete()
    assert what_the_list_says(world, value) == with_run
