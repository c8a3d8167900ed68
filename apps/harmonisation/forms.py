"""Forms of the harmonisation pages: they parse what a person typed; the services decide."""

import json

from django import forms

from apps.datasets.models import DatasetVersion
from apps.harmonisation import rules
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


# Rule categories whose parameters are a table of source code -> target value, and the parameter holding it.
CODE_TABLE_KEYS = {MappingRule.Category.RECODE: "map", MappingRule.Category.TREATMENT_ARMS: "arms"}
# Blank rows the code table offers beyond those filled in (the page's script adds more).
BLANK_CODE_ROWS = 3


class RuleForm(forms.Form):
    """A rule in plain fields: a recode's or arms' codes in a table of code -> value rows, a conversion's units,
    a scale's numbers, an expression; the JSON field is left for what they do not cover."""

    target = forms.ModelChoiceField(queryset=SchemaVariable.objects.none(), empty_label=None, label="Schema variable")
    category = forms.ChoiceField(choices=MappingRule.Category.choices, label="Rule")
    source_variables = forms.CharField(
        required=False, help_text="The trial's variables it reads, separated by commas (none for an expression)."
    )
    missing_codes = forms.CharField(
        required=False,
        label="Codes that mean missing",
        help_text="Recode and arms: the trial's codes for a missing value, separated by commas (e.g. 9, 99).",
    )
    expression = forms.CharField(
        required=False, help_text="Expression rule: e.g. weight / (height / 100) ** 2.", widget=forms.TextInput()
    )
    from_unit = forms.CharField(
        required=False, label="Unit in the trial's data", help_text="Unit conversion: e.g. mg/dL."
    )
    analyte = forms.CharField(
        required=False, help_text="Unit conversion between mass and amount: what is measured (e.g. glucose)."
    )
    slope = forms.FloatField(required=False, help_text="Linear scale: the value is multiplied by this number.")
    intercept = forms.FloatField(required=False, help_text="Linear scale: then this number is added (0 if empty).")
    scale_source = forms.CharField(
        required=False, label="Source of the scale", help_text="Linear scale: the citation of the published equating."
    )
    parameters = forms.CharField(
        required=False,
        label="Other parameters (JSON)",
        widget=forms.Textarea(attrs={"rows": 2, "class": "mono"}),
        help_text="Rarely needed: parameters the fields above do not cover, as a JSON object.",
    )
    rationale = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    query_reference = forms.CharField(required=False, max_length=200, help_text="The query raised with the trial team.")
    status = forms.ChoiceField(
        choices=[("", "From the rule (complete; impossible; partial if undetermined)"), *MappingRule.Status.choices],
        required=False,
    )
    # Shown in the code table rather than one by one.
    TABLE_FIELDS = ("missing_codes",)
    SERVICE_FIELDS = ("target", "category", "source_variables", "parameters", "rationale", "query_reference", "status")

    def __init__(self, *args, review, code_rows: list[tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = SchemaVariable.objects.filter(review=review).order_by("position", "name")
        if self.is_bound:
            self.code_rows = list(zip(self.data.getlist("code_from"), self.data.getlist("code_to"), strict=False))
        else:
            self.code_rows = list(code_rows or [])
        self.code_row_errors: list[str] = []

    def table_rows(self) -> list[dict]:
        """The code table as shown: the rows entered, then blank ones to fill."""
        rows = [{"code": code, "value": value} for code, value in self.code_rows if code.strip() or value.strip()]
        rows += [{"code": "", "value": ""}] * BLANK_CODE_ROWS
        return [row | {"number": number} for number, row in enumerate(rows, start=1)]

    def plain_fields(self):
        """The fields shown one by one, in order (the code table has its own place)."""
        return [self[name] for name in self.fields if name not in self.TABLE_FIELDS]

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

    def _code_table(self) -> dict:
        """The code -> value rows as the rule's mapping; a half-filled row is an error naming its row."""
        mapping = {}
        for number, (code, value) in enumerate(self.code_rows, start=1):
            code, value = code.strip(), value.strip()
            if not code and not value:
                continue
            if not code or not value:
                self.code_row_errors.append(f"Row {number}: give both the trial's code and the value it becomes.")
            elif code in mapping:
                self.code_row_errors.append(f"Row {number}: the code '{code}' is already in a row above.")
            else:
                mapping[code] = value
        return mapping

    def clean(self):
        cleaned = super().clean()
        parameters = dict(cleaned.get("parameters") or {})
        category = cleaned.get("category")
        if category in rules.PARAMETERS:
            # What another category reads ("to" of a unit conversion now made direct) is left behind, not kept.
            for name in set().union(*rules.PARAMETERS.values()) - rules.PARAMETERS[category]:
                parameters.pop(name, None)
        if category in CODE_TABLE_KEYS:
            mapping = self._code_table()
            if self.code_row_errors:
                raise forms.ValidationError(self.code_row_errors)
            if mapping:
                parameters[CODE_TABLE_KEYS[category]] = mapping
            if cleaned.get("missing_codes", "").strip():
                parameters["missing"] = parse_codes(cleaned["missing_codes"])
        elif category == MappingRule.Category.EXPRESSION and cleaned.get("expression", "").strip():
            parameters["expression"] = cleaned["expression"].strip()
        elif category == MappingRule.Category.UNIT_CONVERSION:
            parameters.update({name: cleaned[name].strip() for name in ("analyte",) if cleaned.get(name, "").strip()})
            if cleaned.get("from_unit", "").strip():
                parameters["from"] = cleaned["from_unit"].strip()
        elif category == MappingRule.Category.LINEAR_SCALE:
            for name in ("slope", "intercept"):
                if cleaned.get(name) is not None:
                    parameters[name] = cleaned[name]
            if cleaned.get("scale_source", "").strip():
                parameters["source"] = cleaned["scale_source"].strip()
        cleaned["parameters"] = parameters
        return cleaned

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.SERVICE_FIELDS}

    @staticmethod
    def initial_for(rule: MappingRule | None, target: SchemaVariable | None) -> dict:
        if rule is None:
            return {"target": target} if target is not None else {}
        parameters = dict(rule.parameters or {})
        initial = {
            "target": rule.target,
            "category": rule.category,
            "source_variables": ", ".join(rule.source_variables),
            "rationale": rule.rationale,
            "query_reference": rule.query_reference,
            "status": rule.status,
        }
        # Each parameter the plain fields show is taken out; what is left stays in the JSON field.
        if rule.category in CODE_TABLE_KEYS:
            parameters.pop(CODE_TABLE_KEYS[rule.category], None)
            initial["missing_codes"] = ", ".join(str(code) for code in parameters.pop("missing", []) or [])
        elif rule.category == MappingRule.Category.EXPRESSION:
            initial["expression"] = parameters.pop("expression", "")
        elif rule.category == MappingRule.Category.UNIT_CONVERSION:
            initial["from_unit"] = parameters.pop("from", "")
            initial["analyte"] = parameters.pop("analyte", "")
        elif rule.category == MappingRule.Category.LINEAR_SCALE:
            initial["slope"] = parameters.pop("slope", None)
            initial["intercept"] = parameters.pop("intercept", None)
            initial["scale_source"] = parameters.pop("source", "")
        initial["parameters"] = json.dumps(parameters) if parameters else ""
        return initial

    @staticmethod
    def code_rows_for(rule: MappingRule | None) -> list[tuple[str, str]]:
        if rule is None or rule.category not in CODE_TABLE_KEYS:
            return []
        mapping = (rule.parameters or {}).get(CODE_TABLE_KEYS[rule.category]) or {}
        return [(str(code), "" if value is None else str(value)) for code, value in mapping.items()]
