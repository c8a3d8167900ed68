"""The analysis form: the choices of the API, each with one line of plain help; the service checks them."""

from django import forms

from apps.analyses.definitions import current_values
from apps.analyses.models import Analysis, Approach, IntervalMethod, Tau2Method, TrialSet
from apps.harmonisation.models import SchemaVariable
from apps.reviews.models import Outcome, Review

FROM_ROLES = "(from the schema's roles)"


def _variable_choices(variables, roles) -> list[tuple[str, str]]:
    chosen = [variable for variable in variables if variable.role in roles]
    return [("", FROM_ROLES)] + [(variable.name, _describe(variable)) for variable in chosen]


def _describe(variable: SchemaVariable) -> str:
    return f"{variable.name} · {variable.label}" if variable.label else variable.name


class AnalysisForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="How the analysis is named in lists, plots and the report.")
    outcome = forms.TypedChoiceField(coerce=int, help_text="The review outcome this analysis pools.")
    measure = forms.ChoiceField(
        required=False,
        choices=[("", "The outcome's measure")] + [(value, label) for value, label in Outcome.Measure.choices],
        help_text="Must fit the outcome: MD for continuous; OR, RR or RD for binary; HR for time to event.",
    )
    approach = forms.ChoiceField(
        choices=Approach.choices,
        initial=Approach.TWO_STAGE,
        widget=forms.RadioSelect,
        help_text="Two-stage: each trial analysed on its own, then pooled (the usual default). One-stage: one "
        "model of every participant, preferred for sparse binary outcomes and for interactions.",
    )
    tau2 = forms.ChoiceField(
        label="Between-trial variance (two-stage)",
        choices=Tau2Method.choices,
        initial=Tau2Method.REML,
        help_text="REML: recommended for random effects. Fixed effect assumes one common effect in every trial.",
    )
    ci = forms.ChoiceField(
        label="Confidence interval (two-stage)",
        choices=IntervalMethod.choices,
        initial=IntervalMethod.WALD,
        help_text="HKSJ gives wider, safer intervals when trials are few; often reported as a sensitivity analysis.",
    )
    quadrature = forms.IntegerField(
        label="Quadrature points (one-stage, binary)",
        required=False,
        min_value=1,
        max_value=25,
        initial=1,
        help_text="1 = Laplace approximation (fast); 7 to 9 points are more accurate when events are rare.",
    )
    treatment = forms.ChoiceField(required=False, help_text="The randomised arm (intervention and control codes).")
    outcome_variable = forms.ChoiceField(
        label="Outcome variable", required=False, help_text="Continuous or binary outcomes: the value analysed."
    )
    time_variable = forms.ChoiceField(label="Time variable", required=False, help_text="Time to event outcomes.")
    event_variable = forms.ChoiceField(
        label="Event variable", required=False, help_text="Time to event outcomes: 1 = event, 0 = censored."
    )
    adjust = forms.MultipleChoiceField(
        label="Adjust for",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Prognostic covariates: adjusting gains precision; keep continuous ones continuous.",
    )
    interaction = forms.ChoiceField(
        required=False,
        help_text="A covariate whose interaction with treatment is estimated from within-trial information only.",
    )
    trials = forms.ChoiceField(
        choices=TrialSet.choices,
        initial=TrialSet.INCLUDED,
        widget=forms.RadioSelect,
        help_text="Each entering trial needs a current harmonised table; trials that cannot enter are listed.",
    )
    aggregate = forms.BooleanField(
        label="Pool published results of trials without IPD (two-stage)",
        required=False,
        help_text="Adds the published primary results of eligible trials that did not share their data.",
    )
    prespecified = forms.BooleanField(label="Pre-specified in the protocol", required=False)
    is_primary = forms.BooleanField(
        label="The outcome's primary analysis", required=False, help_text="Its newest run feeds the flow diagram."
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)

    def __init__(self, *args, review: Review, **kwargs):
        super().__init__(*args, **kwargs)
        self.review = review
        outcomes = list(review.outcomes.order_by("-is_primary", "name"))
        self.fields["outcome"].choices = [
            (outcome.pk, f"{outcome.name} ({outcome.get_type_display().lower()}, {outcome.measure})")
            for outcome in outcomes
        ]
        variables = list(SchemaVariable.objects.filter(review=review).order_by("position", "name"))
        role = SchemaVariable.Role
        self.fields["treatment"].choices = _variable_choices(variables, (role.TREATMENT,))
        self.fields["outcome_variable"].choices = _variable_choices(variables, (role.OUTCOME, role.EVENT))
        self.fields["time_variable"].choices = _variable_choices(variables, (role.TIME,))
        self.fields["event_variable"].choices = _variable_choices(variables, (role.EVENT,))
        covariates = [(variable.name, _describe(variable)) for variable in variables if variable.role == role.COVARIATE]
        self.fields["adjust"].choices = covariates
        self.fields["interaction"].choices = [("", "None")] + covariates

    @classmethod
    def for_analysis(cls, analysis: Analysis, data=None) -> "AnalysisForm":
        values = current_values(analysis)
        values["outcome"] = analysis.outcome_id
        initial = {name: ("" if value is None else value) for name, value in values.items()}
        return cls(data, review=analysis.review, initial=initial)

    def service_data(self) -> dict:
        """The fields that apply to the chosen approach and outcome; blanks mean "the default"."""
        data = dict(self.cleaned_data)
        outcome = Outcome.objects.filter(pk=data.get("outcome"), review=self.review).first()
        binary = outcome is not None and outcome.type == Outcome.Type.BINARY
        survival = outcome is not None and outcome.type == Outcome.Type.SURVIVAL
        if data.get("approach") == Approach.ONE_STAGE:
            data.pop("tau2", None)
            data.pop("ci", None)
        if data.get("approach") != Approach.ONE_STAGE or not binary:
            data.pop("quadrature", None)
        for name in ("time_variable", "event_variable") if not survival else ("outcome_variable",):
            data.pop(name, None)
        for name in ("measure", "treatment", "outcome_variable", "time_variable", "event_variable", "interaction"):
            if name in data and data[name] == "":
                data[name] = None
        return data
