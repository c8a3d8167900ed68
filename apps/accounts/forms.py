"""Forms of the accounts pages. They parse input; apps.accounts.invitations and services do the writes."""

from django import forms

from apps.accounts.models import Role, trial_model
from apps.core.forms import AccessibleFormMixin


class InvitationForm(AccessibleFormMixin, forms.Form):
    """The fields the API's invitation accepts (InvitationCreateSerializer): who, which role, which trials."""

    invitee = forms.CharField(
        max_length=254,
        label="Username or e-mail address",
        help_text="They become a member when they accept. The answer here is the same whether or not an account "
        "has this name.",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REVIEWER)
    trials = forms.ModelMultipleChoiceField(
        queryset=trial_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Trials (contributors)",
        help_text="A contributor sees only the trials assigned here.",
    )

    def __init__(self, *args, review, **kwargs):
        kwargs.setdefault("auto_id", "invite_%s")
        super().__init__(*args, **kwargs)
        # This review's trials only: another review's trial id is "not one of the choices", like the API's.
        self.fields["trials"].queryset = trial_model().objects.filter(review=review).order_by("title", "pk")
        self.describe_fields()
