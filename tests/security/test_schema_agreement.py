"""The published schema and the API's answers agree on the fields that once differed: blank enums, nulls,
path patterns. Each response is validated against the schema drf-spectacular publishes."""

import re

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.checks.selectors import check_settings
from apps.core.models import AuditEvent
from apps.trials import services as trial_services
from tests.factories import MembershipFactory, ReviewFactory, TrialFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _json_schema(node):
    """OpenAPI 3.0's `nullable` in JSON Schema terms."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


def _component(schema, name):
    # Resolve $refs against the whole document.
    return {"$ref": f"#/components/schemas/{name}", "components": _json_schema(schema["components"])}


def _validate(schema, name, value):
    jsonschema.validate(value, _component(schema, name))


@pytest.fixture
def scene():
    review = ReviewFactory()
    user = UserFactory(username="cora")
    MembershipFactory(review=review, user=user, role=Role.COORDINATOR)
    trial = TrialFactory(review=review, exit_reason="", ipd_not_provided_reason="")
    api = APIClient()
    api.force_authenticate(user)
    return {"review": review, "trial": trial, "api": api, "user": user}


def test_a_trial_without_exit_reason_or_reasons_fits_the_schema(schema, scene):
    data = scene["api"].get(f"/api/v1/trials/{scene['trial'].pk}/").json()
    assert data["exit_reason"] == "" and data["ipd_not_provided_reason"] == ""
    _validate(schema, "Trial", data)


def test_transitions_without_reason_fit_the_schema(schema, scene):
    trial_services.trial_transition(trial=scene["trial"], actor=scene["user"], to_status="eligible")
    data = scene["api"].get(f"/api/v1/trials/{scene['trial'].pk}/transitions/").json()["results"]
    assert data and data[0]["reason"] == ""
    for row in data:
        _validate(schema, "StatusTransition", row)


def test_history_with_no_actor_fits_the_schema(schema, scene):
    AuditEvent.objects.create(
        review=scene["review"], trial=scene["trial"], action="update", object_type="trial", object_id="1",
        object_repr="x", actor=None,
    )  # fmt: skip
    rows = scene["api"].get(f"/api/v1/trials/{scene['trial'].pk}/history/").json()["results"]
    assert any(row["actor"] is None for row in rows)
    for row in rows:
        _validate(schema, "AuditEvent", row)


def test_check_settings_never_changed_fit_the_schema(schema, scene):
    assert check_settings(scene["trial"]).pk is None
    data = scene["api"].get(f"/api/v1/trials/{scene['trial'].pk}/check-settings/").json()
    assert data["updated_at"] is None
    _validate(schema, "CheckSettings", data)


@pytest.mark.parametrize("component, field", [("Mapping", "reviewed_by"), ("MappingRule", "superseded_by")])
def test_unset_users_are_nullable_in_the_schema(schema, component, field):
    assert schema["components"]["schemas"][component]["properties"][field].get("nullable") is True


def test_path_patterns_match_only_what_the_urls_take(schema):
    for path, item in schema["paths"].items():
        for parameter in item.get("parameters", []) + [p for op in item.values() if isinstance(op, dict)
                                                       for p in op.get("parameters", [])]:  # fmt: skip
            pattern = parameter.get("schema", {}).get("pattern")
            if not pattern:
                continue
            if "|" in pattern:
                # An alternation must be grouped, or ^ and $ bind to its ends only.
                assert re.fullmatch(r"\^\(.*\)\$", pattern), (path, pattern)
    kind = next(
        p for p in schema["paths"]["/api/v1/harmonised-tables/{id}/table.{kind}"]["get"]["parameters"]
        if p["name"] == "kind"
    )  # fmt: skip
    assert re.search(kind["schema"]["pattern"], "csv") and not re.search(kind["schema"]["pattern"], "parquetx")
    assert not re.search(kind["schema"]["pattern"], "xcsv")
