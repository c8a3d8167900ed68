"""API tokens (django-rest-knox): stored as a hash, valid for REST_KNOX["TOKEN_TTL"], revocable."""

import datetime

from knox.models import AuthToken


def token_create(*, user) -> tuple[str, datetime.datetime | None]:
    """A new token for each login, so that logging out in one client leaves the others working."""
    instance, token = AuthToken.objects.create(user=user)
    return token, instance.expiry


def tokens_revoke_for_user(*, user) -> int:
    """Every API token of the user stops working at once."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
