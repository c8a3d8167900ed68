"""Forms of the tracking pages. They parse and check input; the services in apps.trials do the writes."""

from django import forms
from django.utils import timezone

from apps.core.forms import AccessibleFormMixin, DateInput, compare_with_what_was_shown
from apps.trials import lifecycle, services
from apps.trials.models import Agreement, Contact, ContactAttempt, EthicsApproval, Trial


def _exit_reason_choices() -> list:
    """Reasons grouped under the exit they belong to, so the list reads like the lifecycle."""
    groups = [("", "No reason (not an exit)")]
    for status in lifecycle.EXITS:
        reasons = [(code, lifecycle.ExitReason(code).label) for code in lifecycle.exit_reasons(status)]
        groups.append((lifecycle.label(status), reasons))
    return groups


class StatusChoiceField(forms.ChoiceField):
    """A choice whose refusal TransitionForm.clean_to_status words in full, naming the status and why."""

    def valid_value(self, value) -> bool:
        return True


class TransitionForm(AccessibleFormMixin, forms.Form):
    to_status = StatusChoiceField(label="New status")
    reason = forms.ChoiceField(
        required=False,
        label="Exit reason (required for an exit)",
        help_text="Required when the trial leaves the path: not eligible, no response, declined, data not "
        "available or withdrawn.",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, trial: Trial, **kwargs):
        kwargs.setdefault("auto_id", "transition_%s")
        super().__init__(*args, **kwargs)
        self.trial = trial
        self.fields["to_status"].choices = [("", "Choose the next status")] + [
            (status, lifecycle.label(status)) for status in lifecycle.allowed_next(trial.status)
        ]
        self.fields["reason"].choices = _exit_reason_choices()
        # The page's script marks the reason required when an exit is chosen; clean() checks it either way.
        self.fields["reason"].conditionally_required = True
        self.describe_fields()

    def clean_to_status(self):
        to_status = self.cleaned_data["to_status"]
        current = lifecycle.label(self.trial.status)
        allowed = lifecycle.allowed_next(self.trial.status)
        allowed_labels = ", ".join(lifecycle.label(status) for status in allowed) or "nothing (this status is final)"
        if to_status not in lifecycle.Status.values:
            raise forms.ValidationError(
                f"'{to_status}' is not a status. A trial that is {current.lower()} can move to: {allowed_labels}."
            )
        if to_status not in allowed:
            raise forms.ValidationError(
                f"{lifecycle.label(to_status)} cannot be chosen: a trial that is {current.lower()} can move only "
                f"to: {allowed_labels}."
            )
        return to_status

    def clean(self):
        cleaned = super().clean()
        to_status, reason = cleaned.get("to_status"), cleaned.get("reason")
        if to_status and lifecycle.is_exit(to_status):
            allowed_reasons = lifecycle.exit_reasons(to_status)
            if not reason:
                self.add_error("reason", f"Give a reason for moving the trial to {lifecycle.label(to_status)}.")
            elif reason not in allowed_reasons:
                labels = ", ".join(lifecycle.ExitReason(code).label for code in allowed_reasons)
                self.add_error("reason", f"For {lifecycle.label(to_status)}, choose one of: {labels}.")
        elif to_status:
            cleaned["reason"] = ""
        return cleaned


class TrialFilterForm(forms.Form):
    """The trial list's filters; read from the query string, never saved."""

    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Title, registry id, citation or DOI"}),
    )
    status = forms.ChoiceField(required=False, choices=[("", "All statuses"), *lifecycle.Status.choices])
    sponsor_type = forms.ChoiceField(
        required=False, label="Sponsor", choices=[("", "All sponsors"), *Trial.SponsorType.choices]
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "filter_%s")
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"


# Tracking records ------------------------------------------------------------------------------------------
# Model forms over the fields the services accept (the API's serializers accept the same): the model's own
# validation runs here and again in the service, whose extra rules come back as ApplicationErrors.


class TrackingModelForm(AccessibleFormMixin, forms.ModelForm):
    prefix_id = "record"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.prefix_id}_%s")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.DateInput):
                field.widget = DateInput()
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3
        if self.instance.pk:
            compare_with_what_was_shown(self)
        self.describe_fields()

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}

    def changed_service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class TrialForm(TrackingModelForm):
    prefix_id = "trial"

    class Meta:
        model = Trial
        fields = services.TRIAL_FIELDS
        labels = {
            "registry_id": "Registry id",
            "doi": "DOI",
            "n_randomised": "Participants randomised",
            "result_measure": "Effect measure",
            "result_estimate": "Estimate",
            "result_ci_low": "95% CI, lower limit",
            "result_ci_high": "95% CI, upper limit",
            "result_n_intervention": "Participants, intervention arm",
            "result_n_control": "Participants, control arm",
            "identified_via": "Identified via",
            "is_duplicate": "Duplicate record of another trial",
            "exclusion_reason": "Reason for exclusion",
            "ipd_sought": "IPD sought",
            "ipd_not_sought_reason": "Reason the IPD were not sought",
            "ipd_provided": "IPD provided",
            "ipd_not_provided_reason": "Reason the IPD were not provided",
            "ipd_not_provided_note": "Note on the IPD not provided",
            "n_provided": "Participants provided",
            "n_not_provided": "Participants not provided",
            "n_not_provided_reason": "Why those participants were not provided",
            "aggregate_available": "Aggregate data available",
        }

    def __init__(self, *args, fields=None, **kwargs):
        super().__init__(*args, **kwargs)
        if fields is not None:
            # An analyst edits the published result only (apps.accounts.access.RESULT_FIELDS).
            for name in list(self.fields):
                if name not in fields:
                    del self.fields[name]


class ContactAttemptForm(TrackingModelForm):
    """Logs an attempt from the trial page, and edits one (its outcome once a reply comes, its follow-up)."""

    prefix_id = "attempt"
    # As the trial page's "Log a contact attempt" lays them out.
    field_order = ["date", "channel", "contact", "outcome", "next_follow_up", "owner", "note"]

    class Meta:
        model = ContactAttempt
        fields = services.ATTEMPT_FIELDS
        labels = {"next_follow_up": "Next follow-up", "owner": "Follow-up owner"}
        help_texts = {"next_follow_up": "The owner is reminded by e-mail on this day."}

    def __init__(self, *args, trial: Trial, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = trial.contacts.all()
        self.fields["contact"].empty_label = "Not recorded"
        self.fields["owner"].queryset = owners
        self.fields["owner"].empty_label = "Nobody"

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date and date > timezone.localdate():
            raise forms.ValidationError("The date of an attempt cannot be in the future.")
        return date

    def clean(self):
        cleaned = super().clean()
        date, follow_up = cleaned.get("date"), cleaned.get("next_follow_up")
        if date and follow_up and follow_up < date:
            self.add_error("next_follow_up", "The next follow-up cannot be before the attempt.")
        return cleaned


class ContactForm(TrackingModelForm):
    prefix_id = "contact"

    class Meta:
        model = Contact
        fields = services.CONTACT_FIELDS


class AgreementForm(TrackingModelForm):
    prefix_id = "agreement"

    class Meta:
        model = Agreement
        fields = services.AGREEMENT_FIELDS
        labels = {
            "signed_on": "Signed on",
            "expires_on": "Expires on",
            "data_may_leave_platform": "Data may leave the platform",
        }
        help_texts = {"document": "The signed agreement: PDF, Word (doc, docx) or OpenDocument (odt)."}
        # A plain file input: the stored document is linked through the pages' access-checked download, never
        # through its storage URL, and a new upload replaces it (the old file stays stored).
        widgets = {"document": forms.FileInput}

    remove_document = forms.BooleanField(
        required=False,
        label="Remove the document",
        help_text="For a wrong file: the agreement keeps no document (the file stays stored; the history names it).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.document:
            del self.fields["remove_document"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("remove_document") and "document" in self.changed_data:
            self.add_error("remove_document", "Choose a new document or remove the current one, not both.")
        return cleaned

    def service_data(self) -> dict:
        return self._document_removed(super().service_data())

    def changed_service_data(self) -> dict:
        return self._document_removed(super().changed_service_data())

    def _document_removed(self, data: dict) -> dict:
        if data.pop("remove_document", False):
            data["document"] = None
        return data


class ApprovalForm(TrackingModelForm):
    prefix_id = "approval"

    class Meta:
        model = EthicsApproval
        fields = services.APPROVAL_FIELDS
        labels = {"approved_on": "Approved on", "expires_on": "Expires on"}
