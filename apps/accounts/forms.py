"""Forms of the accounts pages. They parse input; apps.accounts.invitations and services do the writes."""

from django import forms

from apps.accounts.models import Role, trial_model
from apps.core.forms import AccessibleFormMixin, compare_with_what_was_shown


class ReviewTrialsForm(AccessibleFormMixin, forms.Form):
    """A form with the trials a contributor is assigned, chosen among one review's trials."""

    trials = forms.ModelMultipleChoiceField(
        queryset=trial_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Trials (contributors)",
        help_text="A contributor sees only the trials assigned here.",
    )

    def limit_trials_to(self, review) -> None:
        # This review's trials only: another review's trial id is "not one of the choices", like the API's.
        self.fields["trials"].queryset = trial_model().objects.filter(review=review).order_by("title", "pk")


class InvitationForm(ReviewTrialsForm):
    """The fields the API's invitation accepts (InvitationCreateSerializer): who, which role, which trials."""

    invitee = forms.CharField(
        max_length=254,
        label="Username or e-mail address",
        help_text="They become a member when they accept. The answer here is the same whether or not an account "
        "has this name.",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REVIEWER)
    field_order = ["invitee", "role", "trials"]

    def __init__(self, *args, review, **kwargs):
        kwargs.setdefault("auto_id", "invite_%s")
        super().__init__(*args, **kwargs)
        self.limit_trials_to(review)
        self.describe_fields()


class MembershipForm(ReviewTrialsForm):
    """A member's role and, for contributors, their trials (the fields the API's member PATCH accepts)."""

    role = forms.ChoiceField(choices=Role.choices)
    field_order = ["role", "trials"]

    def __init__(self, *args, membership, **kwargs):
        kwargs.setdefault("auto_id", "member_%s")
        kwargs.setdefault("initial", {"role": membership.role, "trials": list(membership.trials.all())})
        super().__init__(*args, **kwargs)
        self.limit_trials_to(membership.review)
        compare_with_what_was_shown(self)
        # The page draws the trials' checkboxes one by one, without the shown value: compared with the stored ones.
        self.fields["trials"].show_hidden_initial = False
        self.describe_fields()

    def changed_service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}
