"""Named filters of a review's trial list that downstream apps provide (the PRISMA-IPD boxes register theirs):
the trials app lists the trials a filter names without knowing what it means, so it imports none of those apps.

A filter is a function (review, value, user) -> ListFilter or None (None: the value names nothing, or nothing the
user may see: its label and trials must tell them nothing they could not read elsewhere).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ListFilter:
    label: str  # what the list says it shows, e.g. "PRISMA-IPD: studies excluded"
    trial_ids: frozenset[int]
    back_url: str = ""  # where the filter came from, e.g. the flow diagram


_FILTERS: dict[str, Callable] = {}


def register(name: str, resolve: Callable) -> None:
    _FILTERS[name] = resolve


def names() -> list[str]:
    return sorted(_FILTERS)


def resolve(name: str, review, value: str, user) -> ListFilter | None:
    """The trials the named filter selects in `review` for `value`, as `user` may see them; None when the filter
    or its value is unknown to them."""
    resolver = _FILTERS.get(name)
    return resolver(review, value, user) if resolver is not None else None
