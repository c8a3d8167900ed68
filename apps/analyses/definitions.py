"""What an analysis may be: the choices that make sense for its outcome, checked once for every interface.

Each refusal is an ApplicationError (400) naming the field and saying why. Values a request does not give are
filled with the sensible default, or cleared when a change of approach or outcome leaves them meaningless; a
value the request gives that does not fit is refused, never silently dropped.
"""

from dataclasses import dataclass, field

from apps.analyses.models import Analysis, Approach, IntervalMethod, Tau2Method, TrialSet
from apps.core.errors import ApplicationError
from apps.harmonisation.models import SchemaVariable
from apps.reviews.models import Outcome, Review

ONE_STAGE_MEASURES = ("MD", "OR", "HR")
MAX_QUADRATURE = 25
NUMERIC_TYPES = (SchemaVariable.Type.INTEGER, SchemaVariable.Type.NUMBER)
# Covariates enter models as numbers or, for codes, as R codes a factor (an interaction needs two codes).
COVARIATE_TYPES = (*NUMERIC_TYPES, SchemaVariable.Type.CATEGORY)
# The variable fields, with the schema roles each accepts.
VARIABLE_ROLES = {
    "treatment": (SchemaVariable.Role.TREATMENT,),
    "outcome_variable": (SchemaVariable.Role.OUTCOME, SchemaVariable.Role.EVENT),
    "time_variable": (SchemaVariable.Role.TIME,),
    "event_variable": (SchemaVariable.Role.EVENT,),
    "interaction": (SchemaVariable.Role.COVARIATE,),
}
CHOICES = {
    "approach": Approach.values,
    "tau2": Tau2Method.values,
    "ci": IntervalMethod.values,
    "trials": TrialSet.values,
}
FIELDS = (
    "name",
    "outcome",
    "measure",
    "approach",
    "tau2",
    "ci",
    "quadrature",
    "treatment",
    "outcome_variable",
    "time_variable",
    "event_variable",
    "adjust",
    "interaction",
    "trials",
    "aggregate",
    "prespecified",
    "is_primary",
    "description",
)


def invalid(field_name: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field_name}: {message}", details={field_name: [message]})


@dataclass
class Definition:
    """The analysis' fields once checked: model values, with schema variables as instances."""

    values: dict
    adjust: list[SchemaVariable] = field(default_factory=list)


def current_values(analysis: Analysis) -> dict:
    """The stored analysis as a request would give it (variables by name)."""
    values = {name: getattr(analysis, name) for name in FIELDS if name not in ("adjust", "outcome")}
    values["outcome"] = analysis.outcome
    for name in VARIABLE_ROLES:
        variable = getattr(analysis, name)
        values[name] = variable.name if variable else None
    values["adjust"] = [variable.name for variable in analysis.adjust_variables]
    return values


def check_definition(*, review: Review, data: dict, stored: dict | None = None) -> Definition:
    """Check `data` (a create, or the changed fields of an update over `stored`) and resolve the defaults."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ApplicationError(
            f"These fields cannot be set here: {', '.join(unknown)}.",
            details={name: ["This field cannot be set here."] for name in unknown},
        )
    given = set(data)
    values = {**(stored or {}), **data}
    outcome = _outcome(review, values.get("outcome"))
    values["outcome"] = outcome
    _check_choices(values, given)
    values["name"] = _name(values.get("name"))
    values["measure"] = _measure(outcome, values.get("measure"), given="measure" in given)
    _approach_options(outcome, values, given)
    schema = {variable.name: variable for variable in SchemaVariable.objects.filter(review=review)}
    variables = _variables(outcome, values, given, schema)
    adjust = _adjust(values.get("adjust"), schema)
    _distinct_roles(variables, adjust)
    values |= variables
    values.pop("adjust", None)
    for flag in ("aggregate", "prespecified", "is_primary"):
        values[flag] = _flag(flag, values.get(flag, False))
    _refuse_unsupported_models(values, adjust)
    if values["aggregate"] and values["approach"] == Approach.ONE_STAGE:
        raise invalid("aggregate", "published results can only be pooled beside the IPD by a two-stage analysis.")
    values["description"] = str(values.get("description") or "")
    values["trials"] = values.get("trials") or TrialSet.INCLUDED
    return Definition(values=values, adjust=adjust)


def _refuse_unsupported_models(values: dict, adjust: list[SchemaVariable]) -> None:
    """Risk ratios and differences come from 2x2 tables: no covariate or interaction model estimates them."""
    if values["measure"] not in ("RR", "RD"):
        return
    if adjust:
        raise invalid(
            "adjust", f"an adjusted analysis of a binary outcome estimates the odds ratio, not the {values['measure']}."
        )
    if values.get("interaction") is not None:
        raise invalid(
            "interaction",
            f"a treatment-covariate interaction is estimated on the odds ratio, not the {values['measure']}.",
        )


def _outcome(review: Review, value) -> Outcome:
    if value in (None, ""):
        raise invalid("outcome", "Choose one of the review's outcomes.")
    outcome_id = value.pk if isinstance(value, Outcome) else value
    outcome = None
    if isinstance(outcome_id, int) or (isinstance(outcome_id, str) and outcome_id.isdigit()):
        outcome = Outcome.objects.filter(review=review, pk=int(outcome_id)).first()
    if outcome is None:
        raise invalid("outcome", f"{value!r} is not an outcome of this review.")
    return outcome


def _check_choices(values: dict, given: set) -> None:
    for name, allowed in CHOICES.items():
        value = values.get(name)
        if name in given and value not in (None, "") and value not in allowed:
            raise invalid(name, f"{value!r} is not one of {', '.join(allowed)}.")


def _name(value) -> str:
    name = str(value or "").strip()
    if not name:
        raise invalid("name", "Give the analysis a name.")
    if len(name) > 200:
        raise invalid("name", "Use at most 200 characters.")
    return name


def _measure(outcome: Outcome, value, *, given: bool) -> str:
    """The measure asked for, else the outcome's; a stored one that no longer fits (the outcome changed) follows
    the outcome."""
    allowed = sorted(Outcome.MEASURES_BY_TYPE[outcome.type])
    if value in (None, "") or (not given and value not in allowed):
        return outcome.measure
    if value not in allowed:
        raise invalid(
            "measure",
            f"{value} does not fit the outcome {outcome.name!r}, which is {outcome.get_type_display().lower()}; "
            f"use {' or '.join(allowed)}.",
        )
    return value


def _approach_options(outcome: Outcome, values: dict, given: set) -> None:
    """tau2 and ci for two-stage only; quadrature for one-stage binary only; one-stage measures MD, OR, HR."""
    approach = values.get("approach") or Approach.TWO_STAGE
    values["approach"] = approach
    binary = outcome.type == Outcome.Type.BINARY
    if approach == Approach.TWO_STAGE:
        values["tau2"] = values.get("tau2") or Tau2Method.REML
        values["ci"] = values.get("ci") or IntervalMethod.WALD
        _refuse_given(values, given, "quadrature", "only one-stage analyses of a binary outcome use quadrature.")
        values["quadrature"] = None
        return
    for name in ("tau2", "ci"):
        _refuse_given(
            values,
            given,
            name,
            "only two-stage analyses choose it; a one-stage model estimates tau2 within its likelihood, "
            "with a normal-based interval.",
        )
        values[name] = ""
    if values["measure"] not in ONE_STAGE_MEASURES:
        raise invalid(
            "measure", f"one-stage analyses estimate MD, OR or HR; {values['measure']} is available two-stage only."
        )
    if not binary:
        _refuse_given(values, given, "quadrature", "only one-stage analyses of a binary outcome use quadrature.")
        values["quadrature"] = None
        return
    quadrature = values.get("quadrature")
    if quadrature in (None, ""):
        values["quadrature"] = 1
        return
    if isinstance(quadrature, bool) or not isinstance(quadrature, int) or not 1 <= quadrature <= MAX_QUADRATURE:
        raise invalid("quadrature", f"give a whole number from 1 (Laplace) to {MAX_QUADRATURE} (Gauss-Hermite points).")


def _refuse_given(values: dict, given: set, name: str, why: str) -> None:
    if name in given and values.get(name) not in (None, ""):
        raise invalid(name, why)


def _variable(name: str, value, schema: dict) -> SchemaVariable | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise invalid(name, f"Give the name of a schema variable, not {value!r}.")
    variable = schema.get(value)
    if variable is None:
        raise invalid(name, f"{value!r} is not a variable of the review's schema.")
    roles = VARIABLE_ROLES[name]
    if variable.role not in roles:
        wanted = " or ".join(SchemaVariable.Role(role).label.lower() for role in roles)
        raise invalid(
            name, f"{variable.name} has the role {variable.get_role_display().lower()}; it must be a {wanted}."
        )
    return variable


def _default_variable(name: str, schema: dict, *, binary: bool = False) -> SchemaVariable | None:
    """The schema variable whose role and type fit `name`, when exactly one does best: a binary outcome prefers
    variables coded 0/1, a continuous one those that are not. Several equally fit: the analysis must name one,
    rather than silently analyse the first (a review with deaths and strokes both coded 0/1, say)."""
    candidates = sorted(schema.values(), key=lambda variable: (variable.position, variable.name))
    for role in VARIABLE_ROLES[name]:
        fitting = [
            variable for variable in candidates if variable.role == role and _fits(name, variable, binary=binary)
        ]
        if name == "outcome_variable" and fitting:
            preferred = [variable for variable in fitting if _is_binary(variable) == binary]
            fitting = preferred or fitting
        if len(fitting) > 1 and name != "treatment":
            names = ", ".join(variable.name for variable in fitting)
            raise invalid(name, f"several schema variables could play it ({names}); name the one to analyse.")
        if fitting:
            return fitting[0]
    return None


def _is_binary(variable: SchemaVariable) -> bool:
    codes = {
        str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        for value in variable.allowed_values or ()
    }
    return bool(codes) and codes <= {"0", "1"}


def _fits(name: str, variable: SchemaVariable, *, binary: bool) -> bool:
    if name == "treatment":
        return True
    if name == "interaction":
        return variable.type in COVARIATE_TYPES
    if name == "outcome_variable" and binary:
        return variable.type in NUMERIC_TYPES and (_is_binary(variable) or not variable.allowed_values)
    return variable.type in NUMERIC_TYPES


def _variables(outcome: Outcome, values: dict, given: set, schema: dict) -> dict:
    """treatment and outcome (or time and event): named, or defaulting from the schema's roles."""
    survival = outcome.type == Outcome.Type.SURVIVAL
    binary = outcome.type == Outcome.Type.BINARY
    needed = ("treatment", "time_variable", "event_variable") if survival else ("treatment", "outcome_variable")
    resolved = {}
    for name in VARIABLE_ROLES:
        variable = _variable(name, values.get(name), schema)
        if name not in needed and name != "interaction":
            if variable is not None and name in given:
                raise invalid(name, f"a {outcome.get_type_display().lower()} outcome does not use it.")
            resolved[name] = None
            continue
        if variable is None and name in needed:
            variable = _default_variable(name, schema, binary=binary)
            if variable is None:
                role = SchemaVariable.Role(VARIABLE_ROLES[name][0]).label.lower()
                raise invalid(name, f"the review's schema has no {role} variable to use; add one, or name one.")
        if variable is not None and not _fits(name, variable, binary=binary):
            raise invalid(name, _misfit(name, variable, binary=binary))
        resolved[name] = variable
    return resolved


def _misfit(name: str, variable: SchemaVariable, *, binary: bool) -> str:
    if name == "interaction":
        return _covariate_misfit(variable)
    if name == "outcome_variable" and binary and variable.type in NUMERIC_TYPES:
        return (
            f"{variable.name} must be coded 0/1 for a binary outcome; its allowed values are {variable.allowed_values}."
        )
    return f"{variable.name} is {variable.get_type_display().lower()}; it must be a number or an integer."


def _covariate_misfit(variable: SchemaVariable) -> str:
    return (
        f"{variable.name} is {variable.get_type_display().lower()}; a model takes numbers, integers or categories "
        "(codes)."
    )


def _adjust(value, schema: dict) -> list[SchemaVariable]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise invalid("adjust", "Give a list of covariate names.")
    variables = []
    for name in value:
        if not isinstance(name, str) or name not in schema:
            raise invalid("adjust", f"{name!r} is not a variable of the review's schema.")
        variable = schema[name]
        if variable.role != SchemaVariable.Role.COVARIATE:
            raise invalid(
                "adjust", f"{variable.name} has the role {variable.get_role_display().lower()}; only covariates adjust."
            )
        if variable.type not in COVARIATE_TYPES:
            raise invalid("adjust", _covariate_misfit(variable))
        if variable in variables:
            raise invalid("adjust", f"{variable.name} is listed twice.")
        variables.append(variable)
    return variables


def _distinct_roles(variables: dict, adjust: list[SchemaVariable]) -> None:
    seen = {}
    for name, variable in variables.items():
        if variable is None or name == "interaction":
            continue
        if variable.pk in seen:
            raise invalid(name, f"{variable.name} already plays {seen[variable.pk].replace('_', ' ')}.")
        seen[variable.pk] = name


def _flag(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise invalid(name, "Give true or false.")
    return value


def stored_definition_problem(analysis) -> ApplicationError | None:
    """Why a stored analysis can no longer be run as it stands (its outcome's type, or a variable's role or type,
    changed since it was defined), or None. Nothing is filled in or switched silently: the analysis is edited."""
    outcome = analysis.outcome
    binary = outcome.type == Outcome.Type.BINARY
    if analysis.measure not in Outcome.MEASURES_BY_TYPE[outcome.type]:
        return _no_longer(
            "measure", f"{analysis.measure} does not fit {outcome.name!r}, now {outcome.get_type_display().lower()}."
        )
    if analysis.approach == Approach.ONE_STAGE and analysis.measure not in ONE_STAGE_MEASURES:
        return _no_longer("measure", f"one-stage analyses estimate MD, OR or HR, not {analysis.measure}.")
    survival = outcome.type == Outcome.Type.SURVIVAL
    needed = ("treatment", "time_variable", "event_variable") if survival else ("treatment", "outcome_variable")
    for name in needed:
        variable = getattr(analysis, name)
        if variable is None:
            return _no_longer(name, f"{outcome.name!r} is now {outcome.get_type_display().lower()} and needs it.")
        if variable.role not in VARIABLE_ROLES[name] or not _fits(name, variable, binary=binary):
            return _no_longer(
                name,
                f"{variable.name} no longer fits it (role {variable.get_role_display().lower()}, "
                f"type {variable.get_type_display().lower()}).",
            )
    return None


def _no_longer(field_name: str, message: str) -> ApplicationError:
    text = f"{field_name}: {message} Edit the analysis, then run it."
    return ApplicationError(text, code="invalid_definition", details={field_name: [text]})
