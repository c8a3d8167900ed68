from django.contrib import admin, messages

from apps.core import admin as core_admin
from apps.core.admin import AuditEventInline, CoordinatorAdmin, CoordinatorInline, ServiceCheckedModelForm
from apps.core.errors import ApplicationError
from apps.trials import services
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, Contact, ContactAttempt, EthicsApproval, StatusTransition, Trial

# A trial's audit events belong to its review and to it; trial and contact choices are those of the reviews the
# user coordinates.
core_admin.register_audit_scope(Trial, lambda trial: (trial.review, trial))
core_admin.register_scoped_choices(["trial", "trials"], lambda reviews, user: Trial.objects.filter(review__in=reviews))
core_admin.register_scoped_choices(["contact"], lambda reviews, user: Contact.objects.filter(trial__review__in=reviews))


class ServiceCheckedForm(ServiceCheckedModelForm):
    """Admin forms run the services' checks too (a signed agreement needs its date, an attempt's contact
    belongs to its trial, a confidence interval is in order), so the admin cannot store what the API refuses."""

    service_check = staticmethod(services.record_check)


class ContactInline(CoordinatorInline, admin.StackedInline):
    model = Contact
    fields = ["name", "role", "email", "institution"]


class ContactAttemptInline(CoordinatorInline, admin.StackedInline):
    model = ContactAttempt
    form = ServiceCheckedForm
    fields = ["date", "contact", "channel", "outcome", "next_follow_up", "owner", "note", "notified_at"]
    readonly_fields = ["notified_at"]


class AgreementInline(CoordinatorInline, admin.StackedInline):
    model = Agreement
    form = ServiceCheckedForm
    fields = [
        "title",
        "platform",
        "status",
        "signed_on",
        "expires_on",
        "document",
        "conditions",
        "data_may_leave_platform",
    ]


class EthicsApprovalInline(CoordinatorInline, admin.StackedInline):
    model = EthicsApproval
    form = ServiceCheckedForm
    fields = ["side", "body", "reference", "approved_on", "expires_on"]


class StatusTransitionInline(admin.TabularInline):
    """Transitions are written only by the lifecycle service, so they are read-only here."""

    model = StatusTransition
    extra = 0
    fields = ["created_at", "from_status", "to_status", "reason", "note", "actor"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TrialAuditInline(AuditEventInline):
    fk_name = "trial"
    verbose_name_plural = "History (newest first)"


def _transition_action(to_status: str):
    """A bulk action that moves each selected trial through the lifecycle service, so moves are checked
    and audited; refused moves are reported and leave the trial unchanged."""

    def action(modeladmin, request, queryset):
        moved, refused = 0, []
        for trial in queryset:
            try:
                services.trial_transition(trial=trial, to_status=to_status, actor=request.user)
                moved += 1
            except ApplicationError as error:
                refused.append(f"{trial}: {error.message}")
        if moved:
            modeladmin.message_user(request, f"{moved} trial(s) marked {Status(to_status).label}.", messages.SUCCESS)
        for line in refused:
            modeladmin.message_user(request, line, messages.WARNING)

    action.__name__ = f"mark_{to_status}"
    action.short_description = f"Mark selected trials “{Status(to_status).label}”"
    return action


@admin.register(Trial)
class TrialAdmin(CoordinatorAdmin):
    form = ServiceCheckedForm
    list_display = ["title", "registry_id", "review", "status", "sponsor_type", "year", "n_randomised"]
    list_filter = [
        "status",
        ("review", admin.RelatedOnlyFieldListFilter),
        "sponsor_type",
        "identified_via",
        "ipd_provided",
        "aggregate_available",
    ]
    search_fields = ["title", "registry_id", "citation", "doi"]
    list_select_related = ["review"]
    readonly_fields = ["status", "exit_reason", "exit_note", "status_changed_at", "created_at", "updated_at"]
    inlines = [
        ContactInline,
        ContactAttemptInline,
        AgreementInline,
        EthicsApprovalInline,
        StatusTransitionInline,
        TrialAuditInline,
    ]
    actions = [_transition_action(status) for status in (Status.ELIGIBLE, Status.IPD_SOUGHT, Status.CONTACTED)]

    def delete_model(self, request, obj):
        services.trial_delete(trial=obj, actor=request.user)

    fieldsets = [
        (None, {"fields": ["review", "registry_id", "title", "citation", "doi", "year", "sponsor_type"]}),
        ("Design", {"fields": ["n_randomised", "arms"]}),
        (
            "Published primary result",
            {
                "fields": [
                    "result_measure",
                    "result_estimate",
                    ("result_ci_low", "result_ci_high"),
                    ("result_n_intervention", "result_n_control"),
                ]
            },
        ),
        (
            "PRISMA-IPD",
            {
                "fields": [
                    "identified_via",
                    "is_duplicate",
                    "screening_decision",
                    "exclusion_reason",
                    ("ipd_sought", "ipd_not_sought_reason"),
                    ("ipd_provided", "ipd_not_provided_reason"),
                    "ipd_not_provided_note",
                    ("n_provided", "n_not_provided"),
                    "n_not_provided_reason",
                    "aggregate_available",
                ]
            },
        ),
        ("Status (changed by transitions)", {"fields": ["status", "exit_reason", "exit_note", "status_changed_at"]}),
    ]


@admin.register(ContactAttempt)
class ContactAttemptAdmin(CoordinatorAdmin):
    form = ServiceCheckedForm
    review_path = "trial__review"
    list_display = ["trial", "date", "channel", "outcome", "next_follow_up", "owner", "notified_at"]
    list_filter = ["channel", "outcome", "next_follow_up", ("owner", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["trial__title", "trial__registry_id", "note", "contact__name"]
    list_select_related = ["trial", "owner"]
    readonly_fields = ["notified_at", "created_by"]


@admin.register(Contact)
class ContactAdmin(CoordinatorAdmin):
    review_path = "trial__review"
    list_display = ["name", "role", "email", "institution", "trial"]
    list_filter = ["role"]
    search_fields = ["name", "email", "institution", "trial__title"]
    list_select_related = ["trial"]


@admin.register(Agreement)
class AgreementAdmin(CoordinatorAdmin):
    form = ServiceCheckedForm
    review_path = "trial__review"
    list_display = ["trial", "title", "platform", "status", "signed_on", "expires_on"]
    list_filter = ["status", "platform", "expires_on"]
    search_fields = ["trial__title", "trial__registry_id", "title", "conditions"]
    list_select_related = ["trial"]


@admin.register(EthicsApproval)
class EthicsApprovalAdmin(CoordinatorAdmin):
    form = ServiceCheckedForm
    review_path = "trial__review"
    list_display = ["trial", "side", "body", "reference", "approved_on", "expires_on"]
    list_filter = ["side", "expires_on"]
    search_fields = ["body", "reference", "trial__title"]
    list_select_related = ["trial"]
