"""Imported once by the forkserver that starts parse children (see isolation.py): Django is set up and the
readers are loaded there, so that every child forked from it starts ready instead of importing them again. The
children run without transparent huge pages, as the worker does (apps/jobs/memory.py), whoever started them."""

import django

django.setup()

from django.conf import settings  # noqa: E402

from apps.datasets import services  # noqa: E402,F401
from apps.jobs.memory import huge_pages_off  # noqa: E402

if not settings.JOBS_TRANSPARENT_HUGE_PAGES:
    huge_pages_off()
