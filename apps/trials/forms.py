"""Forms of the tracking pages. They parse and check input; the services in apps.trials do the writes."""

from django import forms
from django.utils import timezone

from apps.core.forms import AccessibleFormMixin, DateInput
from apps.trials import lifecycle
from apps.trials.models import ContactAttempt, Trial


class ContactAttemptForm(AccessibleFormMixin, forms.Form):
    date = forms.DateField(widget=DateInput(), label="Date")
    channel = forms.ChoiceField(choices=ContactAttempt.Channel.choices, initial=ContactAttempt.Channel.EMAIL)
    outcome = forms.ChoiceField(choices=ContactAttempt.Outcome.choices, initial=ContactAttempt.Outcome.NO_REPLY)
    contact = forms.ModelChoiceField(queryset=None, required=False, empty_label="Not recorded")
    next_follow_up = forms.DateField(
        required=False,
        widget=DateInput(),
        label="Next follow-up",
        help_text="The owner is reminded by e-mail on this day.",
    )
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="Nobody", label="Follow-up owner")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, trial: Trial, owners, **kwargs):
        kwargs.setdefault("auto_id", "attempt_%s")
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = trial.contacts.all()
        self.fields["owner"].queryset = owners
        self.describe_fields()

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise forms.ValidationError("The date of an attempt cannot be in the future.")
        return date

    def clean(self):
        cleaned = super().clean()
        date, follow_up = cleaned.get("date"), cleaned.get("next_follow_up")
        if date and follow_up and follow_up < date:
            self.add_error("next_follow_up", "The next follow-up cannot be before the attempt.")
        return cleaned


def _exit_reason_choices() -> list:
    """Reasons grouped under the exit they belong to, so the list reads like the lifecycle."""
    groups = [("", "No reason (not an exit)")]
    for status in lifecycle.EXITS:
        reasons = [(code, lifecycle.ExitReason(code).label) for code in lifecycle.exit_reasons(status)]
        groups.append((lifecycle.label(status), reasons))
    return groups


class TransitionForm(AccessibleFormMixin, forms.Form):
    to_status = forms.ChoiceField(label="New status")
    reason = forms.ChoiceField(
        required=False,
        label="Exit reason",
        help_text="Required when the trial leaves the path (not eligible, no response, declined, ...).",
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
        self.describe_fields()

    def clean_to_status(self):
        to_status = self.cleaned_data["to_status"]
        allowed = lifecycle.allowed_next(self.trial.status)
        if to_status not in allowed:
            raise forms.ValidationError(
                f"A trial that is {lifecycle.label(self.trial.status).lower()} can move to: "
                f"{lifecycle.describe(allowed)}."
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
