"""Forms of the reviews pages. They parse input; apps.reviews.services does the writes."""

from django import forms

from apps.core.forms import AccessibleFormMixin, compare_with_what_was_shown
from apps.reviews.models import Outcome
from apps.reviews.services import OUTCOME_FIELDS


class OutcomeForm(AccessibleFormMixin, forms.ModelForm):
    """The outcome's fields the API accepts; the service checks that the measure fits the type."""

    class Meta:
        model = Outcome
        fields = OUTCOME_FIELDS
        labels = {"measure": "Effect measure", "is_primary": "Primary outcome"}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "outcome_%s")
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            compare_with_what_was_shown(self)
        self.describe_fields()
