"""Text shown to people: dates written the one way the pages write them (ipdreview/formats), and text bound for
XML documents (SVG, PDF via SVG, Word), which cannot hold every character a user may type."""

import datetime
import re

from django.utils import formats, timezone

# XML 1.0 allows tab, newline, carriage return and the ranges below; anything else (form feeds, other C0
# controls, lone surrogates, U+FFFE/U+FFFF) makes the document unreadable, so it is dropped from the copy.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters an XML document cannot contain."""
    return _NOT_XML.sub("", text)


def human_date(value: datetime.date) -> str:
    """7 Dec 2026, as the pages write a date."""
    return formats.date_format(value, "DATE_FORMAT")


def human_datetime(value: datetime.datetime) -> str:
    """7 Dec 2026, 14:30 in the server's time zone, as the pages write a moment."""
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
