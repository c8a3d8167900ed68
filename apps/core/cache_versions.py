"""A version number per review, changed by every audited write in it, so that pages and API answers can be
cached under a key holding it: a change in the review makes a new key, and the old answers are never read
again. Every write in a review records an audit event, so the audit trail drives it."""

import time

from django.core.cache import cache
from django.db import transaction


def _key(review_id: int) -> str:
    return f"review-version:{review_id}"


def review_cache_version(review_id: int) -> int:
    version = cache.get(_key(review_id))
    if version is None:
        # A fresh start (or an evicted key): a value no earlier key can have held.
        cache.add(_key(review_id), time.time_ns(), timeout=None)
        version = cache.get(_key(review_id))
    return version


def _bump(review_id: int) -> None:
    try:
        cache.incr(_key(review_id))
    except ValueError:
        cache.set(_key(review_id), time.time_ns(), timeout=None)


def review_cache_reset(review_id: int) -> None:
    """Forget the version: the next read starts a new one (for a database recreated under the same ids)."""
    cache.delete(_key(review_id))


def review_changed(review_id: int) -> None:
    """Now, so that this transaction's own next read is fresh, and again after the commit, so that a page
    cached by another request between the two (from data not yet committed) is not kept."""
    _bump(review_id)
    transaction.on_commit(lambda: _bump(review_id))
