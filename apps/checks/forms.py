from django import forms


class ReplyForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="Resolution note",
        help_text="How the finding was settled: explained, corrected in a new version, or accepted as it is.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10000,
    )
