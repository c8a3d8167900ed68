"""Dates and times are written one way on every page, message and e-mail: 7 Dec 2026, and 7 Dec 2026, 14:30."""

import datetime
import re
from pathlib import Path

from django.template import Context, Template
from django.utils import timezone

from apps.core.text import human_date, human_datetime

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Named formats for people; ISO forms only inside <time datetime="..."> for machines.
ALLOWED = {"DATE_FORMAT", "DATETIME_FORMAT", "Y-m-d", "c"}


def test_plain_output_filters_and_sentences_agree():
    moment = datetime.datetime(2026, 12, 7, 14, 30, tzinfo=datetime.UTC)
    day = datetime.date(2026, 12, 7)
    rendered = Template('{{ day }}|{{ day|date:"DATE_FORMAT" }}|{{ moment }}|{{ moment|date:"DATETIME_FORMAT" }}')
    with timezone.override("UTC"):
        text = rendered.render(Context({"day": day, "moment": moment}))
        assert text == "7 Dec 2026|7 Dec 2026|7 Dec 2026, 14:30|7 Dec 2026, 14:30"
        assert (human_date(day), human_datetime(moment)) == ("7 Dec 2026", "7 Dec 2026, 14:30")


def test_templates_name_their_date_formats():
    used = {
        (path.relative_to(TEMPLATES).as_posix(), fmt)
        for path in TEMPLATES.rglob("*.html")
        for fmt in re.findall(r"""\|date:["']([^"']*)["']""", path.read_text())
    }
    assert {item for item in used if item[1] not in ALLOWED} == set()
