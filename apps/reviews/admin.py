from django.contrib import admin

from apps.accounts.models import Membership, Role
from apps.accounts.services import membership_create
from apps.core import admin as core_admin
from apps.core.admin import AuditEventInline, CoordinatorAdmin, CoordinatorInline, ServiceCheckedModelForm
from apps.reviews import services
from apps.reviews.models import Outcome, Review

# A review's own audit events belong to it, and to no trial.
core_admin.register_audit_scope(Review, lambda review: (review, None))


class OutcomeForm(ServiceCheckedModelForm):
    """The measure must fit the outcome's type in the admin as in the API."""

    service_check = staticmethod(services.record_check)


class OutcomeInline(CoordinatorInline, admin.TabularInline):
    model = Outcome
    form = OutcomeForm
    fields = ["name", "type", "measure", "is_primary", "higher_is_better"]


class MembershipInline(CoordinatorInline, admin.TabularInline):
    model = Membership
    fields = ["user", "role"]


class ReviewAuditInline(AuditEventInline):
    fk_name = "review"
    verbose_name_plural = "History (newest first)"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(trial__isnull=True)


@admin.register(Review)
class ReviewAdmin(CoordinatorAdmin):
    review_path = "pk"
    list_display = ["title", "registration", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["title", "registration", "question"]
    inlines = [OutcomeInline, MembershipInline, ReviewAuditInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        review = form.instance
        if not change and not Membership.objects.filter(review=review, user=request.user).exists():
            # Whoever creates a review in the admin coordinates it, so it stays visible to them.
            membership_create(review=review, actor=request.user, user=request.user, role=Role.COORDINATOR)


@admin.register(Outcome)
class OutcomeAdmin(CoordinatorAdmin):
    form = OutcomeForm
    list_display = ["name", "review", "type", "measure", "is_primary"]
    list_filter = ["type", "measure", ("review", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "review__title"]
