"""Admin building blocks: every record is scoped to the reviews the user coordinates, and every save,
inline save and delete made in the admin writes an audit event in the admin's transaction.

Core knows no domain: the domain apps' admin modules register, when the admin loads them, which reviews a user
coordinates (accounts), how a model's audit events find their review and trial (reviews, trials) and how the
choices of a related field are narrowed to the coordinated reviews (accounts, trials).
"""

import copy

from django import forms
from django.contrib import admin
from django.forms.models import construct_instance

from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent, DataAccessEvent
from apps.core.services import audit_record, snapshot

_COORDINATED_REVIEWS = []  # one function(user) -> the reviews' queryset, registered by the accounts app
_AUDIT_SCOPES = {}  # model -> function(obj) -> (review, trial)
_SCOPED_CHOICES = {}  # field name -> function(reviews, user) -> the queryset of choices


def register_coordinated_reviews(function) -> None:
    """function(user) returns the reviews whose records the user may manage in the admin."""
    _COORDINATED_REVIEWS[:] = [function]


def register_audit_scope(model, function) -> None:
    """function(obj) returns the (review, trial) an object of this model belongs to, for its audit events."""
    _AUDIT_SCOPES[model] = function


def register_scoped_choices(field_names, function) -> None:
    """function(reviews, user) returns the choices a related field of these names offers."""
    for name in field_names:
        _SCOPED_CHOICES[name] = function


def reviews_coordinated_by(user):
    if not _COORDINATED_REVIEWS:
        raise LookupError("No app registered the coordinated reviews (apps.accounts.admin does, when loaded).")
    return _COORDINATED_REVIEWS[0](user)


def audit_scope(obj) -> tuple:
    """The review and trial an object belongs to, for its audit events."""
    scope = _AUDIT_SCOPES.get(type(obj))
    if scope is not None:
        return scope(obj)
    trial = getattr(obj, "trial", None)
    if trial is not None:
        return trial.review, trial
    return getattr(obj, "review", None), None


def _stored_snapshot(obj) -> dict | None:
    if not obj.pk:
        return None
    stored = type(obj).objects.filter(pk=obj.pk).first()
    return snapshot(stored) if stored else None


def _audit(request, obj, before) -> None:
    after = snapshot(obj)
    if before == after:
        return
    review, trial = audit_scope(obj)
    action = AuditEvent.Action.UPDATE if before is not None else AuditEvent.Action.CREATE
    audit_record(
        actor=request.user, action=action, instance=obj, before=before, after=after, review=review, trial=trial
    )


def _audit_delete(request, obj) -> None:
    review, trial = audit_scope(obj)
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.DELETE,
        instance=obj,
        before=snapshot(obj),
        review=review,
        trial=trial,
    )


def coordinates_any_review(request) -> bool:
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or reviews_coordinated_by(user).exists()


class ScopedChoicesMixin:
    """Offer only the reviews, trials, contacts and people of the reviews the user coordinates."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = _scoped_choices(db_field.name, request.user)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        choices = _scoped_choices(db_field.name, request.user)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _scoped_choices(field_name: str, user):
    choices = _SCOPED_CHOICES.get(field_name)
    return choices(reviews_coordinated_by(user), user) if choices is not None else None


class CoordinatorAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """A ModelAdmin for records of a review; `review_path` is the lookup from the model to its review."""

    review_path = "review"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.review_path}__in": reviews_coordinated_by(request.user)})

    def has_module_permission(self, request):
        return coordinates_any_review(request)

    def has_view_permission(self, request, obj=None):
        return coordinates_any_review(request)

    def has_add_permission(self, request):
        return coordinates_any_review(request)

    def has_change_permission(self, request, obj=None):
        return coordinates_any_review(request)

    def has_delete_permission(self, request, obj=None):
        return coordinates_any_review(request)

    def save_model(self, request, obj, form, change):
        obj._audit_before = _stored_snapshot(obj)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Audited after the many-to-many fields are saved, so they appear in the after values.
        _audit(request, form.instance, getattr(form.instance, "_audit_before", None))

    # Whether an inline's removals wait until its changed rows are saved (a review's coordinator handed over and
    # removed in one save: the removal must see the new coordinator).
    inline_removals_last = False

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        if not self.inline_removals_last:
            self._delete_inline_rows(request, formset)
        for obj in instances:
            if hasattr(obj, "created_by_id") and obj.pk is None and obj.created_by_id is None:
                obj.created_by = request.user
            before = _stored_snapshot(obj)
            obj.save()
            _audit(request, obj, before)
        if self.inline_removals_last:
            self._delete_inline_rows(request, formset)
        formset.save_m2m()

    def _delete_inline_rows(self, request, formset) -> None:
        for obj in formset.deleted_objects:
            self.delete_inline_object(request, obj)

    def delete_inline_object(self, request, obj):
        """Delete a row an inline marked for deletion; an admin whose inlines have a delete service overrides it."""
        _audit_delete(request, obj)
        obj.delete()

    def delete_model(self, request, obj):
        _audit_delete(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class ViewOnlyForCoordinators:
    """Shown to coordinators, never added, changed or deleted in the admin: records only the services or the
    workers write (history, jobs, mappings, tables)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return coordinates_any_review(request)


class ReadOnlyCoordinatorAdmin(ViewOnlyForCoordinators, CoordinatorAdmin):
    """A read-only admin of one kind of record, scoped to the reviews the user coordinates."""


class CoordinatorInline(ScopedChoicesMixin):
    """Inline permissions follow the parent: coordinators of the review may edit."""

    extra = 0

    def has_view_permission(self, request, obj=None):
        return coordinates_any_review(request)

    def has_add_permission(self, request, obj=None):
        return coordinates_any_review(request)

    def has_change_permission(self, request, obj=None):
        return coordinates_any_review(request)

    def has_delete_permission(self, request, obj=None):
        return coordinates_any_review(request)


class AuditEventInline(ViewOnlyForCoordinators, admin.TabularInline):
    """The audit trail, read-only."""

    model = AuditEvent
    extra = 0
    fields = ["created_at", "actor", "action", "object_type", "object_repr", "changes"]
    readonly_fields = fields
    ordering = ["-created_at"]
    can_delete = False
    show_change_link = True

    @admin.display(description="changed fields")
    def changes(self, event):
        return ", ".join(event.changed_fields)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_repr", "review", "trial"]
    list_filter = ["action", "object_type", ("review", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["object_repr", "object_id", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "review", "trial"]
    readonly_fields = [
        "created_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "review",
        "trial",
        "before",
        "after",
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(review__in=reviews_coordinated_by(request.user))

    def has_module_permission(self, request):
        return coordinates_any_review(request)

    def has_view_permission(self, request, obj=None):
        return coordinates_any_review(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DataAccessEvent)
class DataAccessEventAdmin(AuditEventAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_repr", "review", "trial", "client_ip"]
    list_filter = ["action", "object_type", ("review", admin.RelatedOnlyFieldListFilter)]
    readonly_fields = [
        "created_at", "actor", "action", "object_type", "object_id", "object_repr", "review", "trial", "detail",
        "client_ip",
    ]  # fmt: skip


class ServiceCheckedModelForm(forms.ModelForm):
    """A form that runs `service_check(candidate)`, the service's own checks, on the instance it would save,
    showing the service's ApplicationError on the fields it names."""

    service_check = None

    def clean(self):
        cleaned = super().clean()
        candidate = construct_instance(self, copy.copy(self.instance))
        try:
            type(self).service_check(candidate)
        except ApplicationError as error:
            self._add_service_error(error)
        return cleaned

    def _add_service_error(self, error: ApplicationError) -> None:
        placed = False
        for field, messages_ in error.details.items():
            if field in self.fields:
                for message in messages_:
                    self.add_error(field, message)
                placed = True
        if not placed:
            self.add_error(None, error.message)
