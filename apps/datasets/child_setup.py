"""Imported once by the forkserver that starts parse children (see isolation.py): Django is set up and the
readers are loaded there, so that every child forked from it starts ready instead of importing them again."""

import django

django.setup()

from apps.datasets import services  # noqa: E402,F401
