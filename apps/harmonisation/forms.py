"""Forms of the harmonisation pages: they parse what a person typed; the services decide."""

import json

from django import forms

from apps.datasets.models import DatasetVersion
from apps.harmonisation.models import Mapping, MappingRule, SchemaVariable


def parse_codes(text: str) -> list:
    """'M, F' -> ["M", "F"]; '0, 1' -> [0, 1]: a code that reads as a number is kept as a number."""
    codes = []
    for item in (part.strip() for part in (text or "").split(",")):
        if not item:
            continue
        try:
            number = float(item)
        except ValueError:
            codes.append(item)
            continue
        codes.append(int(number) if number.is_integer() and "." not in item else number)
    return codes


class SchemaVariableForm(forms.ModelForm):
    allowed_values = forms.CharField(
        required=False,
        help_text="The codes a value may take, separated by commas (e.g. M, F or 0, 1); empty for any value.",
    )

    class Meta:
        model = SchemaVariable
        fields = ["name", "label", "role", "type", "unit", "allowed_values", "minimum", "maximum", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "name": "Used as the column name of the harmonised table, e.g. USUBJID, AGE, TRT01P.",
            "unit": "e.g. year, kg, mmol/L; conversions read it as the target unit.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_values"] = ", ".join(str(code) for code in self.instance.allowed_values or [])

    def clean_allowed_values(self):
        return parse_codes(self.cleaned_data.get("allowed_values", ""))

    def validate_unique(self):
        """Uniqueness is checked by the service with the same message the API gives."""

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MappingCreateForm(forms.Form):
    source_version = forms.ModelChoiceField(queryset=DatasetVersion.objects.none(), empty_label=None)
    copy_rules_from = forms.ModelChoiceField(
        queryset=Mapping.objects.none(),
        required=False,
        empty_label="Start empty",
        help_text="Start from the rules of an earlier mapping; rules that no longer fit are marked undetermined.",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, trial, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["copy_rules_from"].queryset = Mapping.objects.filter(trial=trial).order_by("-number")
        self.fields["copy_rules_from"].label_from_instance = lambda mapping: (
            f"Mapping {mapping.number} (version {mapping.source_version.number}, revision {mapping.revision})"
        )
        self.fields["source_version"].queryset = DatasetVersion.objects.filter(
            trial=trial, status=DatasetVersion.Status.PARSED
        ).order_by("-number")
        self.fields["source_version"].label_from_instance = lambda version: (
            f"Version {version.number}: {version.original_name} ({version.n_rows} rows)"
        )


class RuleForm(forms.Form):
    target = forms.ModelChoiceField(queryset=SchemaVariable.objects.none(), empty_label=None, label="Schema variable")
    category = forms.ChoiceField(choices=MappingRule.Category.choices, label="Rule")
    source_variables = forms.CharField(
        required=False, help_text="The trial's variables it reads, separated by commas (none for an expression)."
    )
    parameters = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        help_text=(
            'JSON. Recode: {"map": {"1": "M", "2": "F"}, "missing": [9]}; arms: {"arms": {"Drug": "intervention"}}; '
            'unit conversion: {"from": "mg/dL", "analyte": "glucose"}; linear scale: {"slope": 0.8, "intercept": 1, '
            '"source": "citation"}; expression: {"expression": "weight / (height / 100) ** 2"}.'
        ),
    )
    rationale = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    query_reference = forms.CharField(required=False, max_length=200, help_text="The query raised with the trial team.")
    status = forms.ChoiceField(
        choices=[("", "From the rule (complete; impossible; partial if undetermined)"), *MappingRule.Status.choices],
        required=False,
    )

    def __init__(self, *args, review, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = SchemaVariable.objects.filter(review=review).order_by("position", "name")

    def clean_source_variables(self):
        return [name.strip() for name in self.cleaned_data.get("source_variables", "").split(",") if name.strip()]

    def clean_parameters(self):
        text = (self.cleaned_data.get("parameters") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno}).")
        if not isinstance(value, dict):
            raise forms.ValidationError('Write the parameters as a JSON object: {"name": value, ...}.')
        return value

    @staticmethod
    def initial_for(rule: MappingRule | None, target: SchemaVariable | None) -> dict:
        if rule is None:
            return {"target": target} if target is not None else {}
        return {
            "target": rule.target,
            "category": rule.category,
            "source_variables": ", ".join(rule.source_variables),
            "parameters": json.dumps(rule.parameters) if rule.parameters else "",
            "rationale": rule.rationale,
            "query_reference": rule.query_reference,
            "status": rule.status,
        }
