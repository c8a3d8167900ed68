"""The tracking pages: the list of reviews (the home page), a review's overview, its trial list and a trial's
page. Each view parses input, checks access through apps.accounts.access, calls one selector or service, and
renders; the rules live in those modules."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import invitations
from apps.accounts.models import Role
from apps.core.cache_versions import review_cache_version
from apps.core.errors import ApplicationError
from apps.core.forms import posted_data, posted_files
from apps.core.page_cache import cached_page
from apps.core.views import get_or_404
from apps.trials import access, lifecycle, list_filters, selectors, services
from apps.trials.forms import (
    AgreementForm,
    ApprovalForm,
    ContactAttemptForm,
    ContactForm,
    TransitionForm,
    TrialFilterForm,
    TrialForm,
)
from apps.trials.models import Agreement, Contact, ContactAttempt, EthicsApproval, Trial

TRIALS_PER_PAGE = 25


def _review_or_404(request: HttpRequest, review_id: int):
    return get_or_404(access.review_get_for_user, request.user, review_id)


def _trial_or_404(request: HttpRequest, trial_id: int):
    return get_or_404(access.trial_get_for_user, request.user, trial_id)


@require_GET
@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    reviews = [
        {
            "review": review,
            "pipeline": selectors.review_pipeline(review, user=request.user),
            "role": access.role_for(request.user, review),
        }
        for review in access.reviews_for_user(request.user)
    ]
    pending = invitations.invitations_for_user(request.user)
    # A trial team's member in one review needs no list of one: their home is that review's trials.
    if len(reviews) == 1 and reviews[0]["role"] == Role.CONTRIBUTOR and not pending:
        return _contributor_home(request, reviews[0]["review"])
    context = {"reviews": reviews, "invitations": pending}
    return render(request, "dashboard/review_list.html", context)


def _contributor_home(request: HttpRequest, review) -> HttpResponse:
    """A contributor's own page: their trials, what to do next on each, and their agreements (never cached: the
    next steps follow uploads and queries, which do not change the review's cache version)."""
    context = {
        "review": review,
        "role": Role.CONTRIBUTOR,
        "trials": selectors.contributor_home(review, request.user),
        "warning_days": selectors.CONTRIBUTOR_EXPIRY_WARNING_DAYS,
    }
    return render(request, "dashboard/contributor_home.html", context)


@require_GET
@login_required
def review_overview(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _review_or_404(request, review_id)
    user = request.user
    role = access.role_for(user, review)
    if role == Role.CONTRIBUTOR:
        return _contributor_home(request, review)
    warning_days = settings.IPD_EXPIRY_WARNING_DAYS
    # The page's body is cached for a minute under the review's version (apps.core.cache_versions): the
    # selectors below are lazy, and run only when it is rendered afresh.
    context = {
        "review": review,
        "cache_key": [review.pk, user.pk, review_cache_version(review.pk), timezone.localdate().isoformat()],
        "expiry_warning_days": warning_days,
        "role": role,
        "pipeline": SimpleLazyObject(lambda: selectors.review_pipeline(review, user=user)),
        "response_rate": SimpleLazyObject(lambda: selectors.review_response_rate(review, user=user)),
        "followups": SimpleLazyObject(lambda: selectors.followups_due(review, user=user)),
        "expiring": SimpleLazyObject(lambda: selectors.expiring_soon(review, days=warning_days, user=user)),
        "activity": SimpleLazyObject(lambda: selectors.recent_activity(review, limit=12, user=user)),
    }
    key = ["review-overview", *context["cache_key"]]
    return cached_page(request, key, lambda: render(request, "dashboard/review_overview.html", context), timeout=60)


@require_GET
@login_required
def trial_list(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _review_or_404(request, review_id)
    filters = TrialFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    named, unknown = _named_filters(request, review)
    trial_ids = None
    for found in named:
        trial_ids = found.trial_ids if trial_ids is None else trial_ids & found.trial_ids
    sort = request.GET.get("sort") or selectors.DEFAULT_TRIAL_SORT
    unknown_sort = not selectors.trial_sort_is_known(sort)
    if unknown_sort:
        sort = selectors.DEFAULT_TRIAL_SORT  # an old or mistyped link still lists the trials, and says so
    trials = selectors.trial_list(
        request.user,
        review,
        status=criteria.get("status") or None,
        search=criteria.get("q") or None,
        sponsor_type=criteria.get("sponsor_type") or None,
        trial_ids=frozenset() if unknown else trial_ids,
        sort=sort,
    )
    page = Paginator(trials, TRIALS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    if unknown_sort:
        query.pop("sort", None)
    # The column headers' links keep the filters and change only the order.
    sort_query = query.copy()
    sort_query.pop("sort", None)
    context = {
        "sort": sort,
        "unknown_sort": request.GET.get("sort") if unknown_sort else "",
        "sort_keys": sorted(selectors.TRIAL_SORTS),
        "sort_query": sort_query.urlencode(),
        "review": review,
        "filters": filters,
        "named_filters": named,
        "unknown_filters": unknown,
        "page": page,
        "filtered": any(criteria.values()) or bool(named) or bool(unknown),
        "query": query.urlencode(),
        "can_add_trial": access.can_create_trial(request.user, review),
    }
    return render(request, "dashboard/trial_list.html", context, status=400 if unknown else 200)


def _named_filters(request: HttpRequest, review) -> tuple[list, list[str]]:
    """The filters other apps provide (e.g. ?prisma=excluded), resolved; and those whose value names nothing."""
    named, unknown = [], []
    for name in list_filters.names():
        value = request.GET.get(name)
        if not value:
            continue
        found = list_filters.resolve(name, review, value, request.user)
        if found is None:
            unknown.append(f"{name}={value}")
        else:
            named.append(found)
    return named, unknown


def _owner_choices(review):
    return get_user_model().objects.filter(memberships__review=review).order_by("first_name", "username")


def _trial_page(
    request,
    trial,
    *,
    transition_form=None,
    record_forms=None,
    gate_findings=(),
    status=200,
) -> HttpResponse:
    # Unbound forms render the same for everyone with the same key: their fields are cached with the page.
    fresh_forms = not record_forms and transition_form is None
    can_log = access.can_log_contact(request.user, trial)
    can_move = access.can_edit_tracking(request.user, trial)
    if can_move and transition_form is None:
        transition_form = _pending_transition_form(request, trial)
        fresh_forms = fresh_forms and transition_form is None
        if transition_form is None:
            transition_form = TransitionForm(trial=trial)
        else:
            gate_findings = transition_form.gate_findings
    forms = {
        "attempt_form": ATTEMPT.form(trial) if can_log else None,
        "contact_form": ContactForm() if can_log else None,
        "agreement_form": AgreementForm() if can_move else None,
        "approval_form": ApprovalForm() if can_move else None,
    }
    forms.update(record_forms or {})
    # The parts without forms are cached for five minutes under the review's version; lazy until rendered.
    context = {
        "review": trial.review,
        "trial": trial,
        "cache_key": [trial.pk, request.user.pk, review_cache_version(trial.review_id), timezone.localdate()],
        "fresh_forms": fresh_forms,
        # A trial's team sees its trial's record, not the review team's tracking panels and forms. Of those who
        # can see the trial, only its contributors may log contacts without editing the tracking.
        "is_contributor": can_log and not can_move,
        "is_exit": lifecycle.is_exit(trial.status),
        "allowed_next": [(s, lifecycle.label(s)) for s in lifecycle.allowed_next(trial.status)],
        "contacts": trial.contacts.all(),
        "agreements": trial.agreements.all(),
        "approvals": trial.approvals.all(),
        "timeline": SimpleLazyObject(lambda: selectors.trial_timeline(trial)),
        "transition_form": transition_form if can_move else None,
        "gate_findings": gate_findings,
        "can_edit_fields": access.can_edit_trial_fields(request.user, trial, access.RESULT_FIELDS),
        # Contacts, agreements and approvals are changed by those the API lets PATCH and DELETE them.
        "can_edit_records": can_move,
        "exit_statuses": " ".join(lifecycle.EXITS),
        **forms,
    }
    return render(request, "dashboard/trial_detail.html", context, status=status)


@require_GET
@login_required
def trial_detail(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = _trial_or_404(request, trial_id)
    if (request.session.get(_PENDING_TRANSITION) or {}).get("trial") == trial.pk:
        return _trial_page(request, trial)  # this trial's refused move to show: never from the cache
    key = ["trial-page", trial.pk, request.user.pk, review_cache_version(trial.review_id), timezone.localdate()]
    return cached_page(request, key, lambda: _trial_page(request, trial), timeout=300)


@require_GET
@login_required
def agreement_document(request: HttpRequest, trial_id: int, agreement_id: int) -> FileResponse:
    """An agreement's document, to members who may see the trial, always as a download (never rendered)."""
    trial = _trial_or_404(request, trial_id)
    agreement = selectors.agreement_with_document(trial, agreement_id)
    if agreement is None:
        raise Http404("No document for this agreement.")
    return FileResponse(
        agreement.document.open("rb"),
        as_attachment=True,
        filename=Path(agreement.document.name).name,
        content_type="application/octet-stream",
    )


@require_POST
@login_required
def contact_attempt_create(request: HttpRequest, trial_id: int) -> HttpResponse:
    return _record_create(request, trial_id, ATTEMPT)


# A refused status change is kept in the session and shown on the trial page after a redirect, so that
# reloading the page does not post the move again.
_PENDING_TRANSITION = "pending-transition"


def _gate_refusal(error: ApplicationError) -> tuple[str, list[dict]]:
    """The gate's reason as one sentence, and the findings it names (id, title, url) when it names any."""
    message = error.message.removeprefix("to_status: ")
    message = message[:1].upper() + message[1:]
    return message, list((error.details or {}).get("findings", []))


def _pending_transition_form(request, trial):
    pending = request.session.get(_PENDING_TRANSITION)
    if not pending or pending.get("trial") != trial.pk:
        return None
    del request.session[_PENDING_TRANSITION]
    form = TransitionForm(pending["data"], trial=trial)
    form.gate_findings = pending.get("findings", [])
    if form.is_valid() and pending.get("gate"):
        form.add_error(None, pending["gate"])
    return form


@require_POST
@login_required
def trial_transition(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = _trial_or_404(request, trial_id)
    if not access.can_edit_tracking(request.user, trial):
        raise PermissionDenied("Your role does not allow changing this trial's status.")
    form = TransitionForm(request.POST, trial=trial)
    pending = {"trial": trial.pk, "data": {name: request.POST.get(name, "") for name in form.fields}}
    if form.is_valid():
        try:
            services.trial_transition(trial=trial, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            pending["gate"], pending["findings"] = _gate_refusal(error)
        else:
            label = lifecycle.label(form.cleaned_data["to_status"])
            messages.success(request, f"Status changed to {label}.")
            return redirect(reverse("dashboard:trial-detail", args=[trial.pk]) + "#timeline")
    request.session[_PENDING_TRANSITION] = pending
    return redirect(reverse("dashboard:trial-detail", args=[trial.pk]) + "#move-status")


# Trials and their tracking records --------------------------------------------------------------------------


def _save_or_error(form, write) -> bool:
    """Run the service; a refusal goes to the fields it names. True when saved."""
    try:
        write()
    except ApplicationError as error:
        form.add_application_error(error)
        return False
    return True


@require_http_methods(["GET", "POST"])
@login_required
def trial_create(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _review_or_404(request, review_id)
    if not access.can_create_trial(request.user, review):
        raise PermissionDenied("Only coordinators and reviewers can add trials.")
    form = TrialForm(posted_data(request))
    if request.method == "POST":
        created = {}

        def write():
            created["trial"] = services.trial_create(review=review, actor=request.user, **form.service_data())

        if form.is_valid() and _save_or_error(form, write):
            messages.success(request, f"Trial '{created['trial'].title}' added.")
            return redirect("dashboard:trial-detail", created["trial"].pk)
    context = {"review": review, "form": form, "groups": _field_groups(form), "adding": True}
    return render(request, "dashboard/trial_form.html", context, status=400 if form.is_bound else 200)


TRIAL_FIELD_GROUPS = (
    ("Trial", ("registry_id", "title", "citation", "doi", "year", "sponsor_type", "n_randomised", "arms")),
    (
        "Published primary result",
        (
            "result_measure",
            "result_estimate",
            "result_ci_low",
            "result_ci_high",
            "result_n_intervention",
            "result_n_control",
            "aggregate_available",
        ),
    ),
    (
        "PRISMA-IPD",
        (
            "identified_via",
            "is_duplicate",
            "screening_decision",
            "exclusion_reason",
            "ipd_sought",
            "ipd_not_sought_reason",
            "ipd_provided",
            "ipd_not_provided_reason",
            "ipd_not_provided_note",
            "n_provided",
            "n_not_provided",
            "n_not_provided_reason",
        ),
    ),
)


def _field_groups(form) -> list:
    groups = [(legend, [form[name] for name in names if name in form.fields]) for legend, names in TRIAL_FIELD_GROUPS]
    return [(legend, fields) for legend, fields in groups if fields]


def _editable_trial_fields(user, trial) -> tuple[str, ...] | None:
    """All the trial's fields for tracking editors, the published result for analysts, None for others."""
    if access.can_edit_tracking(user, trial):
        return services.TRIAL_FIELDS
    if access.can_edit_trial_fields(user, trial, access.RESULT_FIELDS):
        return tuple(name for name in services.TRIAL_FIELDS if name in access.RESULT_FIELDS)
    return None


@require_http_methods(["GET", "POST"])
@login_required
def trial_edit(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = _trial_or_404(request, trial_id)
    fields = _editable_trial_fields(request.user, trial)
    if fields is None:
        raise PermissionDenied("Your role cannot change this trial's fields.")
    # The form works on its own copy: the service reads the stored row again and writes only what changed.
    form = TrialForm(posted_data(request), instance=Trial.objects.get(pk=trial.pk), fields=fields)
    if request.method == "POST":

        def write():
            data = form.changed_service_data()
            if not access.can_edit_trial_fields(request.user, trial, data.keys()):
                raise PermissionDenied("Your role cannot change these fields of the trial.")
            services.trial_update(trial=trial, actor=request.user, data=data)

        if form.is_valid() and _save_or_error(form, write):
            messages.success(request, "Trial saved." if form.has_changed() else "Nothing changed.")
            return redirect("dashboard:trial-detail", trial.pk)
    context = {
        "review": trial.review,
        "trial": trial,
        "form": form,
        "groups": _field_groups(form),
        "adding": False,
        "can_delete": access.can_delete_trial(request.user, trial),
    }
    return render(request, "dashboard/trial_form.html", context, status=400 if form.is_bound else 200)


@require_POST
@login_required
def trial_delete(request: HttpRequest, trial_id: int) -> HttpResponse:
    """Through the service the API's DELETE uses: a trial with uploaded data is refused, with the reason."""
    trial = _trial_or_404(request, trial_id)
    if not access.can_delete_trial(request.user, trial):
        raise PermissionDenied("Only the review's coordinators can delete a trial.")
    try:
        services.trial_delete(trial=trial, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(reverse("dashboard:trial-edit", args=[trial.pk]) + "#delete")
    messages.success(request, f"Trial '{trial.title}' deleted.")
    return redirect("dashboard:trial-list", trial.review_id)


# The trial's tracking records: added from the trial page with the rights of the API's POST (`may_add`), edited
# and deleted with those of its PATCH and DELETE (can_edit_tracking).


@dataclass(frozen=True)
class _RecordKind:
    model: type
    form_class: type
    noun: str  # the services' keyword ("contact") and the URL names' prefix
    label: str  # how the messages name it ("Ethics approval")
    title_field: str  # the field that names one record on the pages
    anchor: str  # its section of the trial page
    may_add: object
    create: object
    update: object
    delete: object
    form_options: object = None  # the form's keyword arguments for a trial, when it needs any
    added: str = "added"  # how the message says it was added ("Contact attempt logged.")

    def title(self, record) -> str:
        return str(getattr(record, self.title_field)) if self.title_field else str(record)

    def form(self, trial, *args, **kwargs):
        options = self.form_options(trial) if self.form_options else {}
        return self.form_class(*args, **kwargs, **options)

    def record_argument(self, record) -> dict:
        """The record as the services take it: contact=, agreement=, approval=, attempt=."""
        return {self.noun: record}


CONTACT = _RecordKind(
    model=Contact,
    form_class=ContactForm,
    noun="contact",
    label="Contact",
    title_field="name",
    anchor="#contacts",
    may_add=access.can_log_contact,
    create=services.contact_create,
    update=services.contact_update,
    delete=services.contact_delete,
)
AGREEMENT = _RecordKind(
    model=Agreement,
    form_class=AgreementForm,
    noun="agreement",
    label="Agreement",
    title_field="title",
    anchor="#agreements",
    may_add=access.can_edit_tracking,
    create=services.agreement_create,
    update=services.agreement_update,
    delete=services.agreement_delete,
)
APPROVAL = _RecordKind(
    model=EthicsApproval,
    form_class=ApprovalForm,
    noun="approval",
    label="Ethics approval",
    title_field="body",
    anchor="#approvals",
    may_add=access.can_edit_tracking,
    create=services.approval_create,
    update=services.approval_update,
    delete=services.approval_delete,
)

ATTEMPT = _RecordKind(
    model=ContactAttempt,
    form_class=ContactAttemptForm,
    noun="attempt",
    label="Contact attempt",
    title_field="",
    anchor="#timeline",
    may_add=access.can_log_contact,
    create=services.contact_attempt_create,
    update=services.contact_attempt_update,
    delete=services.contact_attempt_delete,
    form_options=lambda trial: {"trial": trial, "owners": _owner_choices(trial.review)},
    added="logged",
)


def _record_create(request, trial_id: int, kind: _RecordKind) -> HttpResponse:
    trial = _trial_or_404(request, trial_id)
    if not kind.may_add(request.user, trial):
        raise PermissionDenied("Your role cannot add this record to this trial.")
    form = kind.form(trial, request.POST, request.FILES)
    if form.is_valid() and _save_or_error(
        form, lambda: kind.create(trial=trial, actor=request.user, **form.service_data())
    ):
        messages.success(request, f"{kind.label} {kind.added}.")
        return redirect(reverse("dashboard:trial-detail", args=[trial.pk]) + kind.anchor)
    return _trial_page(request, trial, record_forms={f"{kind.noun}_form": form}, status=400)


@require_POST
@login_required
def contact_create(request: HttpRequest, trial_id: int) -> HttpResponse:
    return _record_create(request, trial_id, CONTACT)


@require_POST
@login_required
def agreement_create(request: HttpRequest, trial_id: int) -> HttpResponse:
    return _record_create(request, trial_id, AGREEMENT)


@require_POST
@login_required
def approval_create(request: HttpRequest, trial_id: int) -> HttpResponse:
    return _record_create(request, trial_id, APPROVAL)


def _record_or_404(request, trial_id: int, record_id: int, kind: _RecordKind):
    """The trial's record for a tracking editor: 404 outside what the user sees or outside this trial, 403 for
    members who may see it but not change it."""
    trial = _trial_or_404(request, trial_id)
    record = kind.model.objects.filter(trial=trial, pk=record_id).first()
    if record is None:
        raise Http404(f"No such {kind.noun} on this trial.")
    if not access.can_edit_tracking(request.user, trial):
        raise PermissionDenied(f"Only coordinators and reviewers can change or delete this {kind.noun}.")
    return trial, record


def _record_edit(request, trial_id: int, record_id: int, kind: _RecordKind) -> HttpResponse:
    trial, record = _record_or_404(request, trial_id, record_id, kind)
    # The form works on its own copy: the service reads the stored row again and writes only what changed.
    form = kind.form(trial, posted_data(request), posted_files(request), instance=kind.model.objects.get(pk=record.pk))
    if request.method == "POST":
        data = {}

        def write():
            data.update(form.changed_service_data())
            kind.update(**kind.record_argument(record), actor=request.user, data=data)

        if form.is_valid() and _save_or_error(form, write):
            messages.success(request, f"{kind.label} saved." if data else "Nothing changed.")
            return redirect(reverse("dashboard:trial-detail", args=[trial.pk]) + kind.anchor)
    context = {
        "review": trial.review,
        "trial": trial,
        "record": record,
        "record_title": kind.title(record),
        "kind": kind,
        "form": form,
        "delete_url": reverse(f"dashboard:{kind.noun}-delete", args=[trial.pk, record.pk]),
    }
    return render(request, "dashboard/record_form.html", context, status=400 if form.is_bound else 200)


def _record_delete(request, trial_id: int, record_id: int, kind: _RecordKind) -> HttpResponse:
    trial, record = _record_or_404(request, trial_id, record_id, kind)
    try:
        kind.delete(**kind.record_argument(record), actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(f"dashboard:{kind.noun}-edit", trial.pk, record.pk)
    messages.success(request, f"{kind.label} '{kind.title(record)}' deleted.")
    return redirect(reverse("dashboard:trial-detail", args=[trial.pk]) + kind.anchor)


@require_http_methods(["GET", "POST"])
@login_required
def contact_edit(request: HttpRequest, trial_id: int, contact_id: int) -> HttpResponse:
    return _record_edit(request, trial_id, contact_id, CONTACT)


@require_POST
@login_required
def contact_delete(request: HttpRequest, trial_id: int, contact_id: int) -> HttpResponse:
    return _record_delete(request, trial_id, contact_id, CONTACT)


@require_http_methods(["GET", "POST"])
@login_required
def agreement_edit(request: HttpRequest, trial_id: int, agreement_id: int) -> HttpResponse:
    return _record_edit(request, trial_id, agreement_id, AGREEMENT)


@require_POST
@login_required
def agreement_delete(request: HttpRequest, trial_id: int, agreement_id: int) -> HttpResponse:
    return _record_delete(request, trial_id, agreement_id, AGREEMENT)


@require_http_methods(["GET", "POST"])
@login_required
def approval_edit(request: HttpRequest, trial_id: int, approval_id: int) -> HttpResponse:
    return _record_edit(request, trial_id, approval_id, APPROVAL)


@require_POST
@login_required
def approval_delete(request: HttpRequest, trial_id: int, approval_id: int) -> HttpResponse:
    return _record_delete(request, trial_id, approval_id, APPROVAL)


@require_http_methods(["GET", "POST"])
@login_required
def attempt_edit(request: HttpRequest, trial_id: int, attempt_id: int) -> HttpResponse:
    return _record_edit(request, trial_id, attempt_id, ATTEMPT)


@require_POST
@login_required
def attempt_delete(request: HttpRequest, trial_id: int, attempt_id: int) -> HttpResponse:
    return _record_delete(request, trial_id, attempt_id, ATTEMPT)
