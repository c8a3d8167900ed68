"""django-filter sets of the trials API (query-string filters of its lists)."""

import datetime

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from apps.core.models import AuditEvent
from apps.trials.models import ContactAttempt, Trial


class TrialFilter(django_filters.FilterSet):
    year_from = django_filters.NumberFilter(field_name="year", lookup_expr="gte")
    year_to = django_filters.NumberFilter(field_name="year", lookup_expr="lte")

    class Meta:
        model = Trial
        fields = [
            "status",
            "sponsor_type",
            "identified_via",
            "screening_decision",
            "ipd_sought",
            "ipd_provided",
            "aggregate_available",
            "year",
        ]


class ContactAttemptFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    follow_up_by = django_filters.DateFilter(field_name="next_follow_up", lookup_expr="lte")

    class Meta:
        model = ContactAttempt
        fields = ["channel", "outcome", "owner"]


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, read in UTC: Python takes offsets up to 23:59 but PostgreSQL only up to 15:59, so the
    moment is passed on without its offset."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError("Enter a moment between the years 1 and 9999 in UTC.", code="invalid")


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class AuditEventFilter(django_filters.FilterSet):
    since = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = AuditEvent
        fields = ["action", "object_type", "trial"]
