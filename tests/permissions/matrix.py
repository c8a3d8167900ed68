"""The vocabulary of the permission matrix: the routes, the calls made on each, the answer each role expects, and
the objects the world is built with.

A route's entry says, for each method it answers, what each role gets in its own review (on the trial assigned
to the contributor). The other cases follow from those and the roles' rules (README, "Roles"):
- in another review, every object answers 404, never 403;
- on a trial of the same review not assigned to them, a contributor gets 404, every other role the same answer as
  on the assigned trial.
An entry may override those two (`unassigned=`, `other=`) where a route has reason to differ.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

from apps.accounts.models import Role

C, A, R, K = Role.COORDINATOR, Role.ANALYST, Role.REVIEWER, Role.CONTRIBUTOR
ROLES = (C, A, R, K)
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Refused:
    """A refusal: its status, and what says so; the API's error code, or a text the page shows."""

    status: int
    code: str = ""
    text: str = ""

    @property
    def api_code(self) -> str:
        return self.code or {403: "permission_denied", 404: "not_found"}[self.status]

    @property
    def page_text(self) -> str:
        return self.text or {403: "Not allowed", 404: "Page not found"}[self.status]


FORBIDDEN = Refused(403)
NOT_FOUND = Refused(404)
# The upload rights' own refusal (apps.datasets.access.trial_get_for_upload).
UPLOAD_REFUSED = Refused(403, code="upload_not_allowed")


def answer(value) -> int | Refused:
    """403 and 404 are refusals with their standard code; other numbers are the status of a success."""
    return {403: FORBIDDEN, 404: NOT_FOUND}.get(value, value) if isinstance(value, int) else value


def codes(coordinator, analyst, reviewer, contributor) -> dict:
    """The answers of the four roles, in this order."""
    return {C: answer(coordinator), A: answer(analyst), R: answer(reviewer), K: answer(contributor)}


READ_ALL = codes(200, 200, 200, 200)


@dataclass(frozen=True)
class Literal:
    """A URL argument that is a fixed value rather than an object's id."""

    value: str


def literal(value: str) -> Literal:
    return Literal(value)


@dataclass(frozen=True)
class Call:
    """One request on a route: the answers per role, and the body to send (a function of the scope's objects)."""

    answers: dict
    body: Callable | None = None
    format: str = "json"  # API: json or multipart (pages always post a form)
    label: str = ""  # names the call when a method has several (a PATCH of tracking fields, one of results)
    target: str = ""  # the object a refusal must leave unchanged; by default the URL's first object
    audited: bool = True  # a successful call writes an audit event (False: the record is a job row, say)
    unassigned: dict | None = None  # answers on the unassigned trial, where they do not follow the rule above
    other: dict | None = None  # answers in the other review, likewise

    def expected(self, role: str, scope: str, trial_level: bool):
        if scope == "other":
            return (self.other or {}).get(role, NOT_FOUND)
        if scope == "unassigned" and trial_level:
            if self.unassigned:
                return self.unassigned[role]
            return NOT_FOUND if role == K else self.answers[role]
        return self.answers[role]


@dataclass(frozen=True)
class Route:
    """One URL pattern (by its name in the resolver) and the calls the matrix makes on it."""

    name: str
    args: dict = field(default_factory=dict)  # URL argument -> the object filling it (by name), or a literal
    get: object = None
    post: object = None
    put: object = None
    patch: object = None
    delete: object = None

    def calls(self) -> list[tuple[str, Call]]:
        found = []
        for method in METHODS:
            value = getattr(self, method)
            for call in value if isinstance(value, list) else [value] if value is not None else []:
                found.append((method, call if isinstance(call, Call) else Call(answers=call)))
        return found

    @property
    def methods(self) -> set[str]:
        return {method for method, _ in self.calls()}

    @property
    def objects(self) -> list[str]:
        return [value for value in self.args.values() if not isinstance(value, Literal)]


# ------------------------------------------------------------------------------------------- the world's objects


@dataclass(frozen=True)
class Builder:
    name: str
    level: str  # "review": one per review, shared by its scopes; "trial": one per scope, on its trial
    build: Callable


BUILDERS: dict[str, Builder] = {}


def builds(name: str, level: str = "trial"):
    """Register how to build the object `name` in a scope (a function of the scope, which gives its review,
    trial, author and every other object by name)."""

    def register(function):
        if name in BUILDERS:
            raise ValueError(f"{name} is built twice")
        BUILDERS[name] = Builder(name, level, function)
        return function

    return register


# Every scope has its review and its trial; the other objects are built by the functions registered above.
BASE_LEVELS = {"review": "review", "trial": "trial"}


def level_of(name: str) -> str:
    return BASE_LEVELS[name] if name in BASE_LEVELS else BUILDERS[name].level


def trial_level(route: Route) -> bool:
    """A route on a trial or one of its objects: the trial not assigned to the contributor is a case of its own."""
    return any(level_of(name) == "trial" for name in route.objects)


# ------------------------------------------------------------------------------------------------ the routes


def all_routes() -> list[Route]:
    """Every entry of the modules in tests/permissions/routes/ (each holds a list ROUTES)."""
    from tests.permissions import routes

    found = []
    for module in pkgutil.iter_modules(routes.__path__):
        found += importlib.import_module(f"{routes.__name__}.{module.name}").ROUTES
    return found


# Routes that belong to no review, so have no place in the matrix; each with where its access is tested.
UNSCOPED = {
    "healthz": "public: the container health check (tests/apps/test_platform_defaults.py)",
    "api-schema": "the OpenAPI schema, no review data (tests/apps/test_schema_and_settings.py)",
    "api-docs": "the API's documentation page, no review data (tests/apps/test_schema_and_settings.py)",
    "api-token": "public: exchanges a password for a token (tests/apps/test_throttling.py)",
    "login": "public: the login page (tests/apps/test_throttling.py, tests/e2e)",
    "logout": "the session's own logout (tests/e2e)",
    "api-logout": "revokes the token (or ends the session) the request came with (tests/security/test_api_tokens.py)",
    "api-my-invitations": "the user's own pending invitations (tests/security/test_members_and_invitations.py)",
    "password_change": "the user's own password (django.contrib.auth)",
    "password_change_done": "the user's own password (django.contrib.auth)",
    "password_reset": "public: django.contrib.auth's password reset",
    "password_reset_done": "public: django.contrib.auth's password reset",
    "password_reset_confirm": "public: django.contrib.auth's password reset",
    "password_reset_complete": "public: django.contrib.auth's password reset",
}
# Namespaces left out whole: the admin limits coordinators to their reviews in its own querysets
# (tests/apps/test_admin.py, tests/harmonisation/test_admin.py).
UNSCOPED_NAMESPACES = {"admin"}
