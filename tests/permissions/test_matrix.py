"""The permission matrix: every route of the API and every page, for GET and each write, for every role on its own
review's trial, on a trial of its review not assigned to the contributor, and in another review.

Every route the URL resolver knows must have an entry (tests/permissions/routes/) or a reason to have none
(matrix.UNSCOPED); a route with no entry fails test_every_route_has_an_entry. A method a route answers but no entry
declares fails test_methods_no_entry_declares_are_not_allowed.

A refused request changes nothing: no row added or removed in any table of the apps, the target row read again
equal to what it was, no file stored. Refusals carry their exact code: 403 permission_denied (or the route's own)
and 404 not_found from the API; the site's 403 and 404 pages from the pages.
"""

import html

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.files.storage import storages
from django.db import connection, transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from tests.permissions.matrix import (
    METHODS,
    ROLES,
    UNSCOPED,
    UNSCOPED_NAMESPACES,
    Literal,
    Refused,
    all_routes,
    trial_level,
)

ROUTES = all_routes()
LOGIN_PATH = "/accounts/login/"

pytestmark = pytest.mark.django_db


def route_id(route) -> str:
    return route.name + (f"({','.join(route.objects)})" if route.objects else "")


def call_id(route, method, call) -> str:
    return f"{route_id(route)}-{method}" + (f"[{call.label}]" if call.label else "")


def scopes_of(route) -> tuple:
    if trial_level(route):
        return ("own", "unassigned", "other")
    return ("own", "other") if route.objects else ("own",)


def _cases():
    """One test per route, call and scope; each acts as the four roles in turn."""
    for route in ROUTES:
        for method, call in route.calls():
            for scope in scopes_of(route):
                yield pytest.param(route, method, call, scope, id=f"{call_id(route, method, call)}-{scope}")


CASES = list(_cases())


# ---------------------------------------------------------------------------------------------------- requests


def path_of(route, scope) -> str:
    kwargs = {
        name: value.value if isinstance(value, Literal) else scope.get(value).pk for name, value in route.args.items()
    }
    return reverse(route.name, kwargs=kwargs)


def is_api(path: str) -> bool:
    return path.startswith("/api/")


def client_for(user, path: str):
    if is_api(path):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def send(client, method: str, path: str, call, scope):
    data = call.body(scope) if call.body else None
    if method == "get":
        return client.get(path)
    if is_api(path):
        return getattr(client, method)(path, data, format=call.format)
    return getattr(client, method)(path, data or {})


# ----------------------------------------------------------------------------------------- what a request left


def app_models() -> list:
    return [
        model
        for model in django_apps.get_models(include_auto_created=True)
        if model._meta.app_config.name.startswith("apps.")
    ]


def table_counts() -> dict:
    """Rows per table of every app, in one query."""
    models = app_models()
    counts = ", ".join(f'(SELECT COUNT(*) FROM "{model._meta.db_table}")' for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        return dict(zip([model._meta.label for model in models], cursor.fetchone(), strict=True))


def stored_files() -> set:
    roots = {storages["datasets"].location, str(settings.MEDIA_ROOT)}
    from pathlib import Path

    return {str(path) for root in roots for path in Path(root).rglob("*") if path.is_file()}


def target_of(route, call, scope):
    name = call.target or (route.objects[0] if route.objects else "review")
    return scope.get(name)


def row(instance) -> dict | None:
    return type(instance).objects.filter(pk=instance.pk).values().first()


def state(target) -> dict:
    return {"tables": table_counts(), "target": row(target), "files": stored_files()}


def assert_refused(response, refusal: Refused, path: str):
    assert response.status_code == refusal.status, response.content[:500]
    if is_api(path):
        error = response.json()["error"]
        assert error["code"] == refusal.api_code, error
        assert error["message"]
    else:
        assert refusal.page_text in html.unescape(response.content.decode()), response.content[:500]


def assert_changed(before: dict, after: dict, call):
    if call.audited:
        assert after["tables"]["core.AuditEvent"] > before["tables"]["core.AuditEvent"], "every write is audited"
    else:
        assert (after["tables"], after["target"]) != (before["tables"], before["target"]), "nothing was written"


# ------------------------------------------------------------------------------------------------------- tests


def check_role(world, route, method, call, scope, role):
    """Send the call as `role` and check the answer and what it left; an AssertionError says what is wrong."""
    expected = call.expected(role, scope.name, trial_level(route))
    path = path_of(route, scope)
    target = target_of(route, call, scope)
    watched = isinstance(expected, Refused) or method != "get"
    before = state(target) if watched else None
    response = send(client_for(world.users[role], path), method, path, call, scope)
    after = state(target) if watched else None
    if isinstance(expected, Refused):
        assert_refused(response, expected, path)
        assert after == before, "a refused request must change nothing"
        return
    assert response.status_code == expected, f"{response.status_code}: {response.content[:300]}"
    if response.status_code == 302:
        assert not response["Location"].startswith(LOGIN_PATH)
    if method != "get":
        assert_changed(before, after, call)


@pytest.mark.parametrize(("route", "method", "call", "scope_name"), CASES)
def test_permission_matrix(world, route, method, call, scope_name):
    """Each role in its own savepoint, so that one role's write is not seen by the next."""
    scope = world.scopes[scope_name]
    wrong = {}
    for role in ROLES:
        with transaction.atomic():
            try:
                check_role(world, route, method, call, scope, role)
            except AssertionError as error:
                wrong[role] = f"expected {call.expected(role, scope_name, trial_level(route))}; {error}"
            transaction.set_rollback(True)
    assert wrong == {}


ANONYMOUS_CASES = [
    pytest.param(route, method, call, id=call_id(route, method, call))
    for route in ROUTES
    for method, call in route.calls()
]


@pytest.mark.parametrize(("route", "method", "call"), ANONYMOUS_CASES)
def test_anonymous_requests_are_sent_to_log_in(world, route, method, call):
    path = path_of(route, world.own)
    target = target_of(route, call, world.own)
    before = state(target)
    response = send(client_for(None, path), method, path, call, world.own)
    if is_api(path):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN_PATH}?next=")
    assert state(target) == before


def _by_name() -> dict:
    found = {}
    for route in ROUTES:
        found.setdefault(route.name, []).append(route)
    return found


@pytest.mark.parametrize("name", sorted(_by_name()))
def test_methods_no_entry_declares_are_not_allowed(world, name):
    entries = _by_name()[name]
    declared = set().union(*(entry.methods for entry in entries))
    path = path_of(entries[0], world.own)
    client = client_for(world.users["coordinator"], path)
    answers = {method: getattr(client, method)(path).status_code for method in METHODS if method not in declared}
    assert answers == {method: 405 for method in answers}, f"{name} answers methods its entries do not declare"


# --------------------------------------------------------------------------------------------- every route


def resolver_routes() -> dict:
    """Every URL pattern the resolver knows outside UNSCOPED_NAMESPACES: its name with namespaces (or, unnamed,
    its route) -> its route."""
    found = {}

    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = ":".join(part for part in (namespace, pattern.namespace) if part)
                if inner.split(":")[0] not in UNSCOPED_NAMESPACES:
                    walk(pattern.url_patterns, route, inner)
            elif pattern.name:
                found[f"{namespace}:{pattern.name}" if namespace else pattern.name] = route
            else:
                found[f"<unnamed: {route}>"] = route

    walk(get_resolver().url_patterns, "/", "")
    return found


def test_every_route_has_an_entry():
    routes = resolver_routes()
    missing = sorted(set(routes) - {route.name for route in ROUTES} - set(UNSCOPED))
    assert missing == [], (
        "These routes have no entry in the permission matrix: add one to tests/permissions/routes/ "
        f"(see tests/permissions/README.md): {[(name, routes[name]) for name in missing]}"
    )


def test_every_entry_is_a_route_with_these_arguments():
    known = resolver_routes()
    for route in ROUTES:
        assert route.name in known, f"{route.name} is no route any more"
        assert route.calls(), f"{route_id(route)} makes no call"
    stale = sorted(set(UNSCOPED) - set(known))
    assert stale == [], f"UNSCOPED names routes that no longer exist: {stale}"


def test_the_matrix_acts_in_every_scope():
    assert {param.values[3] for param in CASES} == {"own", "unassigned", "other"}
    assert AuditEvent._meta.label in {model._meta.label for model in app_models()}


def matrix_size() -> int:
    """Requests the matrix checks: each call, in each of its scopes, as each role."""
    return len(CASES) * len(ROLES)
