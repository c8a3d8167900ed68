"""Admin: coordinators edit the schema of their reviews only; mappings and their rules are read-only there."""

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.harmonisation.models import SchemaVariable
from tests.harmonisation.conftest import set_rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_coordinator(client, coordinator):
    coordinator.is_staff = True
    coordinator.save()
    client.force_login(coordinator)
    return client


def test_schema_in_the_admin_is_validated_and_audited(staff_coordinator, review, schema):
    url = reverse("admin:harmonisation_schemavariable_add")
    body = {"review": review.pk, "name": "BMI", "role": "covariate", "type": "number", "allowed_values": "[]"}
    refused = staff_coordinator.post(url, {**body, "minimum": "40", "maximum": "10", "position": "10"})
    assert refused.status_code == 200 and "The maximum is below the minimum." in refused.content.decode()
    saved = staff_coordinator.post(url, {**body, "minimum": "10", "maximum": "80", "position": "10"})
    assert saved.status_code == 302
    variable = SchemaVariable.objects.get(name="BMI")
    assert AuditEvent.objects.filter(object_type="schemavariable", object_id=str(variable.pk), action="create").exists()


def test_other_reviews_schema_is_not_listed(staff_coordinator, schema, outsider):
    foreign = SchemaVariable.objects.create(review=outsider.memberships.get().review, name="FOREIGN")
    listing = staff_coordinator.get(reverse("admin:harmonisation_schemavariable_changelist")).content.decode()
    assert "USUBJID" in listing and "FOREIGN" not in listing
    assert (
        staff_coordinator.get(reverse("admin:harmonisation_schemavariable_change", args=[foreign.pk])).status_code
        == 302
    )


def test_mappings_are_read_only(staff_coordinator, mapping, schema, analyst):
    set_rules(mapping, schema, analyst)
    page = staff_coordinator.get(reverse("admin:harmonisation_mapping_change", args=[mapping.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "glu_mgdl" in content and 'name="_save"' not in content
    assert staff_coordinator.get(reverse("admin:harmonisation_mapping_add")).status_code == 403
