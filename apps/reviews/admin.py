from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from apps.accounts.admin import MembershipRules
from apps.accounts.models import Membership, Role
from apps.accounts.services import membership_create, membership_delete, memberships_left_without_coordinator
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


class MembershipFormSet(BaseInlineFormSet):
    """Removals and changes of role saved together must leave the review a coordinator."""

    def clean(self):
        super().clean()
        if self.instance.pk is None or any(form.errors for form in self.forms):
            return
        removed = [form.instance for form in self.deleted_forms if form.instance.pk]
        changed = [
            form.instance
            for form in self.forms
            if form.instance.pk and form not in self.deleted_forms and "role" in form.changed_data
        ]
        if (removed or changed) and memberships_left_without_coordinator(self.instance, removed, changed):
            raise ValidationError("A review needs at least one coordinator; appoint another before changing this one.")


class MembershipInline(MembershipRules, CoordinatorInline, admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
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

    inline_removals_last = True

    def delete_inline_object(self, request, obj):
        if isinstance(obj, Membership):
            # Through the service, which audits and revokes the member's API tokens.
            membership_delete(membership=obj, actor=request.user)
        else:
            super().delete_inline_object(request, obj)

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
