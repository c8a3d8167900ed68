"""Hostile or merely unusual input answers 400 in the API's error shape, never 500; and an unexpected API
failure still answers JSON."""

import datetime
import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.core.models import AuditEvent
from apps.harmonisation import services as harmonisation_services
from apps.harmonisation.models import SchemaVariable
from tests.factories import AgreementFactory, MembershipFactory, ReviewFactory, TrialFactory, UserFactory
from tests.harmonisation.conftest import parsed_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dataset_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "datasets": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "datasets")},
        },
    }


@pytest.fixture
def scene():
    review = ReviewFactory()
    user = UserFactory(username="cora")
    MembershipFactory(review=review, user=user, role=Role.COORDINATOR)
    trial = TrialFactory(review=review)
    AgreementFactory(trial=trial, status="signed", signed_on=datetime.date(2026, 1, 1), expires_on=None)
    version = parsed_version(trial)
    mapping = harmonisation_services.mapping_create(trial=trial, source_version=version, actor=user)
    api = APIClient()
    api.force_authenticate(user)
    return {"review": review, "user": user, "trial": trial, "version": version, "mapping": mapping, "api": api}


def _refused(response) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:500])
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    return error


def _post_raw(api, url, text, method="post"):
    return getattr(api, method)(url, data=text.encode("utf-8", "surrogatepass"), content_type="application/json")


NUL = '"a\\u0000b"'
SURROGATE = '"\\ud800"'


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_schema_allowed_values_with_nul_or_lone_surrogate(scene, bad):
    body = f'{{"name": "SEX", "role": "covariate", "type": "category", "allowed_values": ["M", {bad}]}}'
    events = AuditEvent.objects.count()
    error = _refused(_post_raw(scene["api"], f"/api/v1/reviews/{scene['review'].pk}/schema/", body))
    assert "allowed_values[1]" in error["message"]
    assert not SchemaVariable.objects.exists() and AuditEvent.objects.count() == events


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_rule_parameters_with_nul_or_lone_surrogate(scene, bad):
    body = f'{{"target": 1, "category": "recode", "parameters": {{"mapping": {{{bad}: "x"}}}}}}'
    _refused(_post_raw(scene["api"], f"/api/v1/mappings/{scene['mapping'].pk}/rules/", body))


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_declared_missing_codes_with_nul_or_lone_surrogate(scene, bad):
    body = f'{{"missing_codes": [{bad}], "variables": {{}}}}'
    url = f"/api/v1/datasets/{scene['version'].pk}/declarations/"
    _refused(_post_raw(scene["api"], url, body, method="put"))


def test_deeply_nested_json_of_200_kb(scene):
    depth = 100_000
    body = "[" * depth + "]" * depth
    assert len(body) == 200_000
    error = _refused(_post_raw(scene["api"], f"/api/v1/reviews/{scene['review'].pk}/schema/", body))
    assert "nested" in error["message"]
    body = '{"a":' * 40_000 + "1" + "}" * 40_000
    _refused(_post_raw(scene["api"], f"/api/v1/mappings/{scene['mapping'].pk}/rules/", body))


def test_nan_and_infinity_are_not_json(scene):
    body = '{"name": "AGE", "role": "covariate", "type": "number", "minimum": NaN}'
    _refused(_post_raw(scene["api"], f"/api/v1/reviews/{scene['review'].pk}/schema/", body))


@pytest.mark.parametrize("query", ["status=%00", "search=a%00b", "ordering=%00", "%00=1", "page=%00"])
def test_nul_in_query_filters(scene, query):
    _refused(scene["api"].get(f"/api/v1/reviews/{scene['review'].pk}/trials/?{query}"))
    _refused(scene["api"].get(f"/api/v1/reviews/{scene['review'].pk}/history/?{query}"))


def test_nul_in_a_page_s_query_string(scene):
    client = Client()
    client.force_login(scene["user"])
    assert client.get(f"/reviews/{scene['review'].pk}/trials/?status=%00").status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/datasets/{version}/declarations/",
        "/api/v1/trials/{trial}/harmonisation-log/",
        "/api/v1/trials/{trial}/harmonisation-log/?format=csv",
        "/api/v1/trials/{trial}/harmonisation-log.csv",
        "/api/v1/reviews/{review}/harmonisation-log.csv",
        "/api/v1/datasets/0/declarations/",
    ],
)
def test_options_describes_every_endpoint(scene, path):
    url = path.format(version=scene["version"].pk, trial=scene["trial"].pk, review=scene["review"].pk)
    response = scene["api"].options(url)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["name"]


def test_a_contact_attempt_without_channel_or_outcome_takes_the_defaults(scene):
    url = f"/api/v1/trials/{scene['trial'].pk}/contact-attempts/"
    response = scene["api"].post(url, {"date": "2026-09-11"}, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["channel"], response.json()["outcome"]) == ("email", "no_reply")


def test_an_unexpected_api_failure_answers_json(scene, monkeypatch):
    from apps.trials import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(selectors, "trial_list", broken)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(scene["user"])
    response = client.get(f"/api/v1/reviews/{scene['review'].pk}/trials/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["error"]["code"] == "server_error" and "disk on fire" not in response.content.decode()


@pytest.mark.parametrize("body", ["[null, null]", "3", '"text"', "null"])
def test_a_patch_whose_body_is_no_object(scene, body):
    _refused(_post_raw(scene["api"], f"/api/v1/trials/{scene['trial'].pk}/", body, method="patch"))


def test_a_moment_with_an_offset_postgresql_does_not_take_is_read_in_utc(scene):
    """Python reads offsets up to 23:59, PostgreSQL up to 15:59: the filter passes the moment on in UTC."""
    history = f"/api/v1/reviews/{scene['review'].pk}/history/"
    assert scene["api"].get(history, {"since": "0168-02-29T00:52:24+22:16"}).status_code == 200
    assert scene["api"].get(history, {"since": "2026-12-07T23:00:00-23:00"}).status_code == 200
    _refused(scene["api"].get(history, {"since": "0001-01-01T00:00:00+10:00"}))  # before the year 1 in UTC
