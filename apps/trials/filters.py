"""django-filter sets of the trials API (query-string filters of its lists)."""

import django_filters

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


class AuditEventFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = AuditEvent
        fields = ["action", "object_type", "trial"]
