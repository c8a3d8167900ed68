"""The one way dates and times are written on every page, message and e-mail (Django's en-gb formats differ
between filters and plain output): 7 Dec 2026, and 7 Dec 2026, 14:30 in the server's time zone."""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
