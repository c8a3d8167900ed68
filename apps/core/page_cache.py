"""Whole pages cached per user under a key the caller builds (with the review's version, say), for the pages
read most. The forms' CSRF tokens are not kept: they are cut out before the page is stored and each request
gets its own. A page with messages to show, or any request but GET, is rendered afresh."""

import hashlib
import re

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token

TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
PLACEHOLDER = r"\1__csrf__\2"


def cached_page(request, key_parts: list, render, *, timeout: int) -> HttpResponse:
    if request.method != "GET" or len(messages.get_messages(request)):
        return render()
    key = "page:" + hashlib.sha256(repr(key_parts).encode()).hexdigest()
    stored = cache.get(key)
    if stored is None:
        response = render()
        if response.status_code == 200 and not response.streaming:
            cache.set(key, TOKEN.sub(PLACEHOLDER, response.content.decode()), timeout)
        return response
    return HttpResponse(stored.replace("__csrf__", get_token(request)))
