from django import forms

from apps.checks.models import CheckSettings
from apps.checks.services import SETTINGS_FIELDS


class CheckSettingsForm(forms.ModelForm):
    class Meta:
        model = CheckSettings
        fields = list(SETTINGS_FIELDS)
        widgets = {
            "recruitment_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "recruitment_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "data_cutoff": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


class ReplyForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="Resolution note",
        help_text="How the finding was settled: explained, corrected in a new version, or accepted as it is.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10000,
    )
