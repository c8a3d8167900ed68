"""The integrity checks: pure functions over a harmonised table, the schema's roles and the trial's published facts.

Each check returns a CheckOutcome: pass, warning, fail (or not applicable when the table or the trial's facts
lack what it needs), one sentence a person can read, the figures behind it and the ids (`source_row`) of the
rows it concerns. Everything is vectorised: a million rows with twenty variables take seconds.
"""

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from apps.checks import engine

PASS, WARNING, FAIL, NOT_APPLICABLE = "pass", "warning", "fail", "not_applicable"
# The schema's roles (apps.harmonisation SchemaVariable.Role), spelled out so that this module needs no Django.
ROLE_ID, ROLE_TREATMENT, ROLE_OUTCOME, ROLE_EVENT, ROLE_TIME = "participant_id", "treatment", "outcome", "event", "time"
ROLE_COVARIATE, ROLE_RANDOMISATION_DATE = "covariate", "randomisation_date"
ROW_ID = "source_row"
Z_95 = 1.959963984540054

# Thresholds, each named where it is used in a sentence.
# Baseline imbalance: over the first a covariate is worth a look, over the second it is a failure to settle with
# the trial team (a description, not a test). Both can be set (CHECKS_SMD_WARNING, CHECKS_SMD_FAIL).
SMD_WARNING = 0.1
SMD_FAIL = 0.5
MISSINGNESS_GAP = 0.05  # 5 percentage points between arms
OUTCOME_MISSINGNESS_GAP_FAIL = 0.10
FOLLOW_UP_GAP = 0.10  # medians differing by more than 10% of the longer one
REPRODUCED_TOLERANCE = 0.10  # PRIME-IPD: within the CI and at most 10% apart
ARM_SIZE_TOLERANCE = 0.01  # 1% of the published arm size: a warning, beyond it a failure
ORDER_TOLERANCE = 0.01  # share of rows out of date order tolerated as a warning
ALLOCATION_WARNING_P, ALLOCATION_FAIL_P = 0.01, 0.001
RUN_WARNING_P, RUN_FAIL_P = 0.01, 0.001
MAX_LEVELS = 20

DAYS_PER_UNIT = {
    "d": 1.0,
    "day": 1.0,
    "days": 1.0,
    "wk": 7.0,
    "week": 7.0,
    "weeks": 7.0,
    "mo": 30.4375,
    "month": 30.4375,
    "months": 30.4375,
    "y": 365.25,
    "yr": 365.25,
    "year": 365.25,
    "years": 365.25,
}
INTERVENTION_WORDS = ("intervention", "treatment", "experimental", "active", "drug", "vaccine")
CONTROL_WORDS = ("control", "placebo", "usual", "standard", "sham", "comparator")


@dataclass(frozen=True)
class Variable:
    """A schema variable as the checks need it."""

    name: str
    role: str
    type: str
    unit: str = ""
    allowed_values: tuple = ()
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class TrialFacts:
    """What the trial's publication and its team say, against which the data are checked."""

    measure: str = ""
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n_intervention: int | None = None
    n_control: int | None = None
    allocation_ratio: float = 1.0  # intervention participants per control participant
    recruitment_start: datetime.date | None = None
    recruitment_end: datetime.date | None = None
    data_cutoff: datetime.date | None = None
    ids_sequential: bool = False
    intervention_code: str = ""
    control_code: str = ""
    primary_outcome: str = ""
    smd_warning: float = SMD_WARNING
    smd_fail: float = SMD_FAIL


@dataclass
class CheckOutcome:
    code: str
    title: str
    status: str
    sentence: str
    figures: dict = field(default_factory=dict)
    affected: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


class CheckInput:
    """The table and what is known about it, with the arm of each row worked out once."""

    def __init__(self, frame: pd.DataFrame, variables: list[Variable], facts: TrialFacts):
        self.frame = frame
        self.variables = [variable for variable in variables if variable.name in frame.columns]
        self.facts = facts
        if ROW_ID in frame.columns:
            self.row_ids = frame[ROW_ID].to_numpy(dtype=np.int64, na_value=0)
        else:
            self.row_ids = np.arange(1, len(frame) + 1, dtype=np.int64)
        self.treatment = self.first(ROLE_TREATMENT)
        self.codes = arm_codes(self.treatment, facts) if self.treatment else None
        self.arm = self._arms()
        self.id_numbers: np.ndarray | None = None  # worked out once, by the first check that orders by id

    def by_role(self, role: str) -> list[Variable]:
        return [variable for variable in self.variables if variable.role == role]

    def first(self, role: str) -> Variable | None:
        found = self.by_role(role)
        return found[0] if found else None

    def _arms(self) -> np.ndarray | None:
        """Per row: 1 intervention, 0 control, -1 missing, -2 any other code."""
        if self.codes is None:
            return None
        text = as_text(self.frame[self.treatment.name])
        arm = np.full(len(text), -2, dtype=np.int8)
        arm[text.isna().to_numpy()] = -1
        arm[(text == self.codes[0]).fillna(False).to_numpy()] = 1
        arm[(text == self.codes[1]).fillna(False).to_numpy()] = 0
        return arm

    def ids(self, rows: np.ndarray) -> np.ndarray:
        return self.row_ids[rows]


# --------------------------------------------------------------------------------------------------- helpers


def as_text(series: pd.Series) -> pd.Series:
    """Values as text for comparing with codes: 1, 1.0 and "1" all read "1"."""
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        finite = values[np.isfinite(values)]
        if np.all(finite == np.round(finite)):
            series = series.astype("Int64")
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("Int64")
    return series.astype("string")


def _code_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def arm_codes(treatment: Variable, facts: TrialFacts) -> tuple[str, str] | None:
    """(intervention code, control code): the trial's own setting, else read from the schema's two codes."""
    if facts.intervention_code and facts.control_code:
        return facts.intervention_code, facts.control_code
    codes = [_code_text(value) for value in treatment.allowed_values]
    if len(codes) != 2:
        return None
    if set(codes) == {"0", "1"}:
        return "1", "0"
    lowered = [code.lower() for code in codes]
    for index, code in enumerate(lowered):
        other = lowered[1 - index]
        if any(word in code for word in INTERVENTION_WORDS) and any(word in other for word in CONTROL_WORDS):
            return codes[index], codes[1 - index]
    return None


def _number(value, digits: int = 4):
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, digits)


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (plural or word + 's')}"


def _counted(count: int, word: str, singular: str, plural: str) -> str:
    """A count, its noun and the verb that agrees: `_counted(1, "row", "has", "have")` is "1 row has"."""
    return f"{_plural(count, word)} {_verb(count, singular, plural)}"


def _verb(count: int, singular: str, plural: str) -> str:
    """The verb that agrees with a count: `_verb(1, "has", "have")` is "has"."""
    return singular if count == 1 else plural


def _day(value) -> str:
    """7 Dec 2026, as the pages write a date (ipdreview/formats), without loading Django here."""
    return f"{value.day} {value:%b %Y}"


def _missing(series: pd.Series) -> np.ndarray:
    return np.array(series.isna(), dtype=bool)


def _numeric(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = series.to_numpy(dtype="datetime64[ns]")
        values = stamps.astype("int64").astype(float)
        values[np.isnat(stamps)] = np.nan
        return values
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _dates(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    return pd.to_datetime(series, errors="coerce")


def _not_applicable(code: str, title: str, why: str) -> CheckOutcome:
    return CheckOutcome(code, title, NOT_APPLICABLE, f"Not checked: {why}")


def _no_arms(data: CheckInput) -> str | None:
    if data.treatment is None:
        return "the schema has no treatment variable in this table."
    if data.codes is None:
        return (
            "the intervention and control codes are not known; set them in the trial's check settings "
            "or give the treatment variable two codes."
        )
    return None


# --------------------------------------------------------------------------------------------------- ids


def check_ids_missing(data: CheckInput) -> CheckOutcome:
    code, title = "ids_missing", "Participant ids present"
    variable = data.first(ROLE_ID)
    if variable is None:
        return _not_applicable(code, title, "the schema has no participant id variable in this table.")
    values = data.frame[variable.name]
    missing = _missing(values)
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        missing |= (values.astype("string").str.strip() == "").fillna(False).to_numpy()
    count = int(missing.sum())
    figures = {"rows": len(values), "missing": count}
    if count:
        sentence = (
            f"{_plural(count, 'row')} of {len(values):,} {_verb(count, 'has', 'have')}"
            f" no participant id ({_percent(count, len(values))})."
        )
        return CheckOutcome(code, title, FAIL, sentence, figures, data.ids(np.flatnonzero(missing)))
    return CheckOutcome(code, title, PASS, f"Every one of the {len(values):,} rows has a participant id.", figures)


def check_ids_duplicated(data: CheckInput) -> CheckOutcome:
    code, title = "ids_duplicated", "Participant ids unique"
    variable = data.first(ROLE_ID)
    if variable is None:
        return _not_applicable(code, title, "the schema has no participant id variable in this table.")
    values = data.frame[variable.name]
    present = ~_missing(values)
    duplicated = values.duplicated(keep=False).to_numpy() & present
    rows = int(duplicated.sum())
    distinct = int(values[duplicated].nunique()) if rows else 0
    figures = {"rows": len(values), "duplicated_rows": rows, "duplicated_ids": distinct}
    if rows:
        examples = ", ".join(map(str, values[duplicated].drop_duplicates().head(3).tolist()))
        sentence = (
            f"{_counted(distinct, 'participant id', 'occurs', 'occur')}"
            f" more than once, on {_plural(rows, 'row')} (e.g. {examples})."
        )
        return CheckOutcome(code, title, FAIL, sentence, figures, data.ids(np.flatnonzero(duplicated)))
    return CheckOutcome(code, title, PASS, "No participant id occurs more than once.", figures)


# --------------------------------------------------------------------------------------------------- randomisation


def check_treatment_codes(data: CheckInput) -> CheckOutcome:
    code, title = "treatment_codes", "Treatment codes"
    why = _no_arms(data)
    if why:
        return _not_applicable(code, title, why)
    other = data.arm == -2
    missing = data.arm == -1
    unexpected = sorted(map(str, as_text(data.frame[data.treatment.name])[other].unique().tolist()))[:10]
    figures = {
        "intervention_code": data.codes[0],
        "control_code": data.codes[1],
        "unexpected_rows": int(other.sum()),
        "unexpected_codes": unexpected,
        "missing_rows": int(missing.sum()),
    }
    bad = other | missing
    if bad.any():
        parts = []
        if other.any():
            parts.append(
                f"{_counted(int(other.sum()), 'row', 'carries', 'carry')}"
                f" codes other than the two arms ({', '.join(unexpected)})"
            )
        if missing.any():
            parts.append(f"{_counted(int(missing.sum()), 'row', 'has', 'have')} no treatment")
        sentence = " and ".join(parts) + f"; the arms are coded {data.codes[0]!r} and {data.codes[1]!r}."
        return CheckOutcome(code, title, FAIL, sentence, figures, data.ids(np.flatnonzero(bad)))
    empty = [name for name, value in (("intervention", 1), ("control", 0)) if not (data.arm == value).any()]
    if len(data.arm) and empty:
        sentence = (
            f"The {empty[0]} arm (coded {data.codes[0 if empty[0] == 'intervention' else 1]!r}) has no row: every "
            "row is in the other arm, so the table holds no comparison; check the treatment rule of the mapping."
        )
        return CheckOutcome(code, title, FAIL, sentence, figures)
    sentence = (
        f"Every row is in one of the two arms, coded {data.codes[0]!r} (intervention) and {data.codes[1]!r} (control)."
    )
    return CheckOutcome(code, title, PASS, sentence, figures)


def check_arm_sizes(data: CheckInput) -> CheckOutcome:
    code, title = "arm_sizes", "Arm sizes against the publication"
    why = _no_arms(data)
    if why:
        return _not_applicable(code, title, why)
    facts = data.facts
    if facts.n_intervention is None or facts.n_control is None:
        return _not_applicable(code, title, "the trial's published numbers per arm are not recorded.")
    observed = {"intervention": int((data.arm == 1).sum()), "control": int((data.arm == 0).sum())}
    published = {"intervention": int(facts.n_intervention), "control": int(facts.n_control)}
    differences = {arm: observed[arm] - published[arm] for arm in observed}
    figures = {"observed": observed, "published": published, "difference": differences}
    if not any(differences.values()):
        sentence = (
            f"The table has {observed['intervention']:,} intervention and {observed['control']:,} control "
            "participants, as published."
        )
        return CheckOutcome(code, title, PASS, sentence, figures)
    within = all(
        abs(differences[arm]) <= max(1, ARM_SIZE_TOLERANCE * published[arm]) for arm in ("intervention", "control")
    )
    sentence = (
        f"The table has {observed['intervention']:,} intervention and {observed['control']:,} control participants; "
        f"the publication reports {published['intervention']:,} and {published['control']:,} "
        f"({differences['intervention']:+,} and {differences['control']:+,})."
    )
    return CheckOutcome(code, title, WARNING if within else FAIL, sentence, figures)


def check_allocation_ratio(data: CheckInput) -> CheckOutcome:
    code, title = "allocation_ratio", "Allocation ratio"
    why = _no_arms(data)
    if why:
        return _not_applicable(code, title, why)
    n1, n0 = int((data.arm == 1).sum()), int((data.arm == 0).sum())
    n = n1 + n0
    if n == 0:
        return _not_applicable(code, title, "no row is in either arm.")
    ratio = data.facts.allocation_ratio or 1.0
    p = ratio / (1 + ratio)
    # Two-sided: twice the smaller tail (exact binomial tails; binomtest's own two-sided sum is slow at 1M).
    probability = min(1.0, 2 * min(float(stats.binom.cdf(n1, n, p)), float(stats.binom.sf(n1 - 1, n, p))))
    observed = n1 / n0 if n0 else None
    figures = {
        "intervention": n1,
        "control": n0,
        "observed_ratio": _number(observed),
        "planned_ratio": ratio,
        "probability": _number(probability, 6),
    }
    model = (
        f"if each participant had been allocated independently with probability {p:.3g} of intervention, a split "
        f"at least this uneven would have probability {probability:.2g}"
    )
    observed_text = f"{observed:.3f}" if observed is not None else "undefined (no control participants)"
    sentence = f"The observed ratio is {observed_text} ({n1:,}:{n0:,}) against a planned {ratio:g}:1; {model}."
    status = FAIL if probability < ALLOCATION_FAIL_P else WARNING if probability < ALLOCATION_WARNING_P else PASS
    return CheckOutcome(code, title, status, sentence, figures)


def _sequential_numbers(data: CheckInput) -> np.ndarray | None:
    """The participant ids as numbers (their trailing digits), where the trial says ids were given in order."""
    variable = data.first(ROLE_ID)
    if variable is None or not data.facts.ids_sequential:
        return None
    if data.id_numbers is None:
        values = data.frame[variable.name]
        if pd.api.types.is_numeric_dtype(values.dtype):
            data.id_numbers = _numeric(values)
        else:
            text = pa.array(values.astype("string"), from_pandas=True)
            digits = pc.struct_field(pc.extract_regex(text, r"(?P<digits>\d+)\s*$"), [0])
            data.id_numbers = pc.cast(digits, pa.float64()).to_numpy(zero_copy_only=False)
    return data.id_numbers


def check_randomisation_period(data: CheckInput) -> CheckOutcome:
    code, title = "randomisation_period", "Randomisation dates within recruitment"
    variable = data.first(ROLE_RANDOMISATION_DATE)
    if variable is None:
        return _not_applicable(code, title, "the schema has no randomisation date in this table.")
    dates = _dates(data.frame[variable.name])
    missing = dates.isna().to_numpy()
    facts = data.facts
    early = late = np.zeros(len(dates), dtype=bool)
    if facts.recruitment_start:
        early = (dates < pd.Timestamp(facts.recruitment_start)).fillna(False).to_numpy()
    if facts.recruitment_end:
        late = (dates > pd.Timestamp(facts.recruitment_end)).fillna(False).to_numpy()
    first, last = dates.min(), dates.max()
    figures = {
        "missing": int(missing.sum()),
        "before_start": int(early.sum()),
        "after_end": int(late.sum()),
        "first": None if pd.isna(first) else first.date().isoformat(),
        "last": None if pd.isna(last) else last.date().isoformat(),
        "recruitment_start": facts.recruitment_start.isoformat() if facts.recruitment_start else None,
        "recruitment_end": facts.recruitment_end.isoformat() if facts.recruitment_end else None,
    }
    outside = early | late
    if outside.any():
        period = f"{figures['recruitment_start'] or 'the start'} to {figures['recruitment_end'] or 'the end'}"
        sentence = (
            f"{_counted(int(outside.sum()), 'participant', 'was', 'were')}"
            f" randomised outside the recruitment period {period} "
            f"({int(early.sum()):,} before, {int(late.sum()):,} after)."
        )
        return CheckOutcome(code, title, FAIL, sentence, figures, data.ids(np.flatnonzero(outside | missing)))
    if missing.any():
        sentence = f"{_counted(int(missing.sum()), 'row', 'has', 'have')} no randomisation date."
        return CheckOutcome(code, title, WARNING, sentence, figures, data.ids(np.flatnonzero(missing)))
    if not (facts.recruitment_start or facts.recruitment_end):
        sentence = (
            f"Randomisation dates run from {figures['first']} to {figures['last']}; the recruitment period is not "
            "recorded, so they were not compared with it."
        )
        return CheckOutcome(code, title, WARNING, sentence, figures)
    sentence = f"Every randomisation date ({figures['first']} to {figures['last']}) is within the recruitment period."
    return CheckOutcome(code, title, PASS, sentence, figures)


def check_randomisation_order(data: CheckInput) -> CheckOutcome:
    code, title = "randomisation_order", "Randomisation dates in id order"
    variable = data.first(ROLE_RANDOMISATION_DATE)
    numbers = _sequential_numbers(data)
    if variable is None or numbers is None:
        return _not_applicable(
            code, title, "it needs a randomisation date and ids the trial says were given in sequence."
        )
    dates = _numeric(_dates(data.frame[variable.name]))
    usable = np.flatnonzero(np.isfinite(numbers) & np.isfinite(dates))
    order = usable[np.argsort(numbers[usable], kind="stable")]
    ordered = dates[order]
    # A row is out of order when an earlier id was randomised on a later date.
    previous_max = np.maximum.accumulate(np.r_[-np.inf, ordered[:-1]]) if len(ordered) else ordered
    out = ordered < previous_max
    rows = order[out]
    figures = {"rows_compared": int(len(order)), "out_of_order": int(out.sum())}
    if not out.any():
        sentence = f"Randomisation dates never go backwards when the {len(order):,} rows are sorted by id."
        return CheckOutcome(code, title, PASS, sentence, figures)
    share = out.sum() / len(order)
    sentence = (
        f"{_plural(int(out.sum()), 'participant')} ({_percent(out.sum(), len(order))}) "
        f"{_verb(int(out.sum()), 'was', 'were')} randomised on a date "
        "earlier than a participant with a lower id, although ids were given in sequence."
    )
    return CheckOutcome(code, title, WARNING if share <= ORDER_TOLERANCE else FAIL, sentence, figures, data.ids(rows))


def _run_lengths(arms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, length and arm of each run of consecutive allocations to one arm."""
    change = np.flatnonzero(np.diff(arms)) + 1
    starts = np.r_[0, change]
    lengths = np.diff(np.r_[starts, len(arms)])
    return starts, lengths, arms[starts]


def run_probability(n: int, p: float, length: int) -> float:
    """P(some run of one arm reaches `length` in `n` independent allocations, P(that arm) = p).

    Poisson approximation: a run of `length` starts at a given place with probability (1 - p) p^length (after
    an allocation to the other arm), or p^length at the first place; the count of such starts is about Poisson.
    """
    expected = (n - length) * (1 - p) * p**length + p**length
    return float(-np.expm1(-max(expected, 0.0)))


def check_allocation_runs(data: CheckInput) -> CheckOutcome:
    code, title = "allocation_runs", "Runs of one arm"
    why = _no_arms(data)
    if why:
        return _not_applicable(code, title, why)
    variable = data.first(ROLE_RANDOMISATION_DATE)
    numbers = _sequential_numbers(data)
    in_arm = np.flatnonzero(data.arm >= 0)
    if numbers is not None:
        order = in_arm[np.argsort(numbers[in_arm], kind="stable")]
        ordering = "participant id (given in sequence)"
    elif variable is not None:
        dates = _numeric(_dates(data.frame[variable.name]))
        dated = in_arm[np.isfinite(dates[in_arm])]
        # Within a day, participant ids break ties: the file's own row order may be sorted by arm.
        identifier = data.first(ROLE_ID)
        ties = (
            pd.factorize(data.frame[identifier.name].astype("string").to_numpy()[dated], sort=True)[0]
            if identifier
            else np.zeros(len(dated))
        )
        order = dated[np.lexsort([ties, dates[dated]])]
        ordering = "randomisation date, then participant id"
    else:
        return _not_applicable(
            code, title, "it needs randomisation dates or ids the trial says were given in sequence."
        )
    if len(order) < 2:
        return _not_applicable(code, title, "fewer than two participants are in the arms.")
    arms = data.arm[order]
    starts, lengths, run_arms = _run_lengths(arms)
    ratio = data.facts.allocation_ratio or 1.0
    p_intervention = ratio / (1 + ratio)
    figures = {"ordered_by": ordering, "allocations": int(len(arms)), "runs": int(len(lengths))}
    worst_probability, worst_rows = 1.0, np.empty(0, dtype=np.int64)
    for arm, label, p in ((1, "intervention", p_intervention), (0, "control", 1 - p_intervention)):
        mine = np.flatnonzero(run_arms == arm)
        if not len(mine):
            continue
        index = mine[np.argmax(lengths[mine])]
        longest = int(lengths[index])
        probability = run_probability(len(arms), p, longest)
        figures[f"longest_{label}_run"] = longest
        figures[f"longest_{label}_run_probability"] = _number(probability, 6)
        if probability < worst_probability:
            worst_probability = probability
            worst_rows = order[starts[index] : starts[index] + longest]
            worst = (label, longest, p)
    if worst_probability >= RUN_WARNING_P:
        sentence = (
            f"The longest runs of one arm ({figures.get('longest_intervention_run', 0)} intervention, "
            f"{figures.get('longest_control_run', 0)} control, in {len(arms):,} allocations ordered by {ordering}) "
            "are as long as independent allocation at the planned ratio would give."
        )
        return CheckOutcome(code, title, PASS, sentence, figures)
    label, longest, p = worst
    sentence = (
        f"{longest} consecutive participants (ordered by {ordering}) were allocated to {label}; if each allocation "
        f"were independent with probability {p:.3g} of {label}, a run this long in {len(arms):,} allocations would "
        f"have probability about {worst_probability:.2g} (Poisson approximation), and blocked randomisation makes it "
        "rarer still."
    )
    status = FAIL if worst_probability < RUN_FAIL_P else WARNING
    return CheckOutcome(code, title, status, sentence, figures, data.ids(worst_rows))


# --------------------------------------------------------------------------------------------------- baseline


def _standardised_difference(values: np.ndarray, arm: np.ndarray) -> float | None:
    treated, control = values[(arm == 1) & np.isfinite(values)], values[(arm == 0) & np.isfinite(values)]
    if len(treated) < 2 or len(control) < 2:
        return None
    pooled = math.sqrt((treated.var(ddof=1) + control.var(ddof=1)) / 2)
    gap = float(treated.mean() - control.mean())
    scale = max(abs(float(treated.mean())), abs(float(control.mean())), 1.0)
    if pooled <= 1e-9 * scale:  # no spread but rounding's (0.1 stored fifty times)
        # No spread within either arm: equal values are balanced, different ones completely separate the arms.
        return 0.0 if gap == 0 else math.copysign(math.inf, gap)
    return gap / pooled


def _category_difference(series: pd.Series, arm: np.ndarray) -> tuple[float | None, str | None]:
    """The largest standardised difference in the share of any level between the arms, and that level."""
    text = as_text(series)
    present = text.notna().to_numpy()
    treated, control = present & (arm == 1), present & (arm == 0)
    if treated.sum() < 2 or control.sum() < 2:
        return None, None  # one value in an arm says nothing of its spread
    codes, levels = pd.factorize(text, use_na_sentinel=True)
    counts1 = np.bincount(codes[treated], minlength=len(levels))
    counts0 = np.bincount(codes[control], minlength=len(levels))
    p1, p0 = counts1 / treated.sum(), counts0 / control.sum()
    spread = np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A level with no spread within the arms but different shares (all of one arm, none of the other)
        # separates the arms completely: an infinite difference.
        separated = np.copysign(np.inf, p1 - p0)
        differences = np.where(spread > 0, (p1 - p0) / spread, np.where(p1 == p0, 0.0, separated))
    top = np.argsort(-(counts1 + counts0))[:MAX_LEVELS]
    index = top[np.argmax(np.abs(differences[top]))]
    return float(differences[index]), str(levels[index])


def smd_grade(difference: float | None, warning: float, fail: float) -> str:
    """A standardised difference graded: pass up to `warning`, a warning up to `fail`, a failure beyond."""
    if difference is None or abs(difference) <= warning:
        return PASS
    return WARNING if abs(difference) <= fail else FAIL


def _listed(rows: list[dict]) -> str:
    return ", ".join(f"{row['variable']}{' = ' + row['level'] if row['level'] else ''} ({_size(row)})" for row in rows)


def _size(row: dict) -> str:
    if row.get("complete_separation"):
        return "complete separation: no overlap between the arms"
    return f"{row['standardised_difference']:+.2f}"


def check_baseline_balance(data: CheckInput) -> CheckOutcome:
    code, title = "baseline_balance", "Baseline balance"
    why = _no_arms(data)
    if why:
        return _not_applicable(code, title, why)
    covariates = data.by_role(ROLE_COVARIATE)
    if not covariates:
        return _not_applicable(code, title, "the schema has no baseline covariate in this table.")
    if min((data.arm == 1).sum(), (data.arm == 0).sum()) < 2:
        return _not_applicable(code, title, "an arm has fewer than two participants, so there is nothing to compare.")
    warning, fail = data.facts.smd_warning, data.facts.smd_fail
    rows = []
    for variable in covariates:
        series = data.frame[variable.name]
        level = None
        if variable.type in ("category", "text"):
            difference, level = _category_difference(series, data.arm)
        else:
            difference = _standardised_difference(_numeric(series), data.arm)
        grade = smd_grade(difference, warning, fail)
        row = {"variable": variable.name, "standardised_difference": _number(difference), "level": level}
        if difference is not None and math.isinf(difference):
            row["complete_separation"] = True
        rows.append({**row, "grade": grade})
    figures = {"thresholds": {"warning": warning, "fail": fail}, "covariates": rows}
    failures = [row for row in rows if row["grade"] == FAIL]
    warnings = [row for row in rows if row["grade"] == WARNING]
    if not failures and not warnings:
        sentence = (
            f"Every baseline covariate ({len(rows)}) has a standardised difference between the arms of at most "
            f"{warning} (a description, not a significance test)."
        )
        return CheckOutcome(code, title, PASS, sentence, figures)
    parts = []
    if failures:
        parts.append(
            f"{_plural(len(failures), 'covariate')} of {len(rows)} {_verb(len(failures), 'differs', 'differ')}"
            f" between the arms by a standardised "
            f"difference over {fail}, an imbalance to explain with the trial team: {_listed(failures)}"
        )
    if warnings:
        parts.append(
            f"{_plural(len(warnings), 'covariate')} by more than {warning} (at most {fail}), worth a look: "
            f"{_listed(warnings)}"
        )
    sentence = "; ".join(parts) + "; a description to review, not a significance test."
    return CheckOutcome(code, title, FAIL if failures else WARNING, sentence[0].upper() + sentence[1:], figures)


def _missingness_by_arm(data: CheckInput, variables: list[Variable]) -> list[dict]:
    intervention, control = data.arm == 1, data.arm == 0
    n1, n0 = int(intervention.sum()), int(control.sum())
    rows = []
    for variable in variables:
        missing = _missing(data.frame[variable.name])
        m1, m0 = int((missing & intervention).sum()), int((missing & control).sum())
        share1, share0 = (m1 / n1 if n1 else 0.0), (m0 / n0 if n0 else 0.0)
        rows.append(
            {
                "variable": variable.name,
                "missing_intervention": m1,
                "missing_control": m0,
                "share_intervention": _number(share1),
                "share_control": _number(share0),
                "gap": _number(abs(share1 - share0)),
            }
        )
    return rows


def _describe_missing(rows: list[dict]) -> str:
    return ", ".join(
        f"{row['variable']} {100 * row['share_intervention']:.1f}% vs {100 * row['share_control']:.1f}%" for row in rows
    )


def _rows_missing(data: CheckInput, names: list[str]) -> np.ndarray:
    if not names:
        return np.empty(0, dtype=np.int64)
    missing = data.frame[names].isna().any(axis=1).to_numpy()
    return data.ids(np.flatnonzero(missing))


def check_baseline_missingness(data: CheckInput) -> CheckOutcome:
    code, title = "baseline_missingness", "Baseline missingness by arm"
    why = _no_arms(data)
    if why:
        return _not_applicable(code, title, why)
    covariates = data.by_role(ROLE_COVARIATE)
    if not covariates:
        return _not_applicable(code, title, "the schema has no baseline covariate in this table.")
    rows = _missingness_by_arm(data, covariates)
    figures = {"gap_threshold": MISSINGNESS_GAP, "covariates": rows}
    uneven = [row for row in rows if row["gap"] > MISSINGNESS_GAP]
    if uneven:
        sentence = (
            f"Missingness differs between the arms (intervention vs control) by more than "
            f"{100 * MISSINGNESS_GAP:.0f} percentage points for {_describe_missing(uneven)}."
        )
        affected = _rows_missing(data, [row["variable"] for row in uneven])
        return CheckOutcome(code, title, WARNING, sentence, figures, affected)
    total = sum(row["missing_intervention"] + row["missing_control"] for row in rows)
    sentence = (
        f"{_plural(total, 'baseline value')} missing across {_plural(len(rows), 'covariate')}, "
        f"never differing between the arms by more than {100 * MISSINGNESS_GAP:.0f} percentage points."
    )
    return CheckOutcome(code, title, PASS, sentence, figures)


# --------------------------------------------------------------------------------------------------- ranges


def check_ranges(data: CheckInput) -> CheckOutcome:
    code, title = "ranges", "Values within the schema's ranges and codes"
    skip = {ROLE_ID, ROLE_TREATMENT}
    checked, by_variable = 0, []
    bad_any = np.zeros(len(data.frame), dtype=bool)
    for variable in data.variables:
        if variable.role in skip or variable.type == "date":
            continue
        has_range = variable.minimum is not None or variable.maximum is not None
        if not (variable.allowed_values or has_range):
            continue
        checked += 1
        series = data.frame[variable.name]
        bad = np.zeros(len(series), dtype=bool)
        if variable.allowed_values:
            allowed = {_code_text(value) for value in variable.allowed_values}
            text = as_text(series)
            bad |= (text.notna() & ~text.isin(allowed)).to_numpy()
        if has_range:
            values = _numeric(series)
            with np.errstate(invalid="ignore"):
                if variable.minimum is not None:
                    bad |= values < variable.minimum
                if variable.maximum is not None:
                    bad |= values > variable.maximum
        if bad.any():
            by_variable.append({"variable": variable.name, "rows": int(bad.sum()), **_limits(variable)})
            bad_any |= bad
    figures = {"variables_checked": checked, "out_of_range": by_variable}
    if not checked:
        return _not_applicable(code, title, "no variable in this table has a range or a set of codes in the schema.")
    if by_variable:
        listed = ", ".join(f"{row['variable']} ({row['rows']:,})" for row in by_variable)
        sentence = (
            f"{_counted(int(bad_any.sum()), 'row', 'holds', 'hold')}"
            f" values outside the schema's range or codes: {listed}."
        )
        return CheckOutcome(code, title, FAIL, sentence, figures, data.ids(np.flatnonzero(bad_any)))
    sentence = f"Every value of the {_plural(checked, 'variable')} with a range or codes is within them."
    return CheckOutcome(code, title, PASS, sentence, figures)


def _limits(variable: Variable) -> dict:
    return {
        "minimum": variable.minimum,
        "maximum": variable.maximum,
        "codes": [_code_text(value) for value in variable.allowed_values],
    }


def _other_dates(data: CheckInput) -> list[Variable]:
    return [
        variable for variable in data.variables if variable.type == "date" and variable.role != ROLE_RANDOMISATION_DATE
    ]


def check_dates_before_randomisation(data: CheckInput) -> CheckOutcome:
    code, title = "dates_before_randomisation", "Events after randomisation"
    randomised = data.first(ROLE_RANDOMISATION_DATE)
    others = _other_dates(data)
    if randomised is None or not others:
        return _not_applicable(code, title, "it needs a randomisation date and at least one other date in the table.")
    start = _dates(data.frame[randomised.name])
    bad_any = np.zeros(len(start), dtype=bool)
    by_variable = []
    for variable in others:
        bad = (_dates(data.frame[variable.name]) < start).fillna(False).to_numpy()
        if bad.any():
            by_variable.append({"variable": variable.name, "rows": int(bad.sum())})
            bad_any |= bad
    figures = {"dates_checked": [variable.name for variable in others], "before_randomisation": by_variable}
    if by_variable:
        listed = ", ".join(f"{row['variable']} ({row['rows']:,})" for row in by_variable)
        sentence = f"{_counted(int(bad_any.sum()), 'row', 'has', 'have')} a date before randomisation: {listed}."
        return CheckOutcome(code, title, FAIL, sentence, figures, data.ids(np.flatnonzero(bad_any)))
    names = ", ".join(variable.name for variable in others)
    return CheckOutcome(code, title, PASS, f"No date ({names}) falls before the participant's randomisation.", figures)


def _time_in_days(variable: Variable) -> float | None:
    return DAYS_PER_UNIT.get(variable.unit.strip().lower()) if variable.unit else None


def check_after_data_cutoff(data: CheckInput) -> CheckOutcome:
    code, title = "after_data_cutoff", "Follow-up within the data cut-off"
    cutoff = data.facts.data_cutoff
    if cutoff is None:
        return _not_applicable(code, title, "the trial's data cut-off date is not recorded.")
    limit = pd.Timestamp(cutoff)
    bad_any = np.zeros(len(data.frame), dtype=bool)
    by_variable, looked_at = [], []
    for variable in data.variables:
        if variable.type == "date":
            looked_at.append(variable.name)
            bad = (_dates(data.frame[variable.name]) > limit).fillna(False).to_numpy()
            if bad.any():
                by_variable.append({"variable": variable.name, "rows": int(bad.sum())})
                bad_any |= bad
    randomised, time = data.first(ROLE_RANDOMISATION_DATE), data.first(ROLE_TIME)
    days = _time_in_days(time) if time else None
    if randomised is not None and time is not None and days is not None:
        looked_at.append(f"{randomised.name} + {time.name}")
        start = _numeric(_dates(data.frame[randomised.name]))
        ends = start + _numeric(data.frame[time.name]) * days * 86400e9
        with np.errstate(invalid="ignore"):
            # A day's grace: times are often rounded up to whole units.
            bad = ends > limit.value + 86400e9
        if bad.any():
            by_variable.append({"variable": f"{randomised.name} + {time.name}", "rows": int(bad.sum())})
            bad_any |= bad
    if not looked_at:
        return _not_applicable(code, title, "the table has no dates, nor a randomisation date with a time in days.")
    figures = {"data_cutoff": cutoff.isoformat(), "looked_at": looked_at, "after_cutoff": by_variable}
    if by_variable:
        listed = ", ".join(f"{row['variable']} ({row['rows']:,})" for row in by_variable)
        sentence = (
            f"{_counted(int(bad_any.sum()), 'row', 'reaches', 'reach')}"
            f" past the data cut-off of {_day(cutoff)}: {listed}."
        )
        return CheckOutcome(code, title, FAIL, sentence, figures, data.ids(np.flatnonzero(bad_any)))
    sentence = f"No follow-up reaches past the data cut-off of {_day(cutoff)} ({', '.join(looked_at)})."
    return CheckOutcome(code, title, PASS, sentence, figures)


def check_event_times(data: CheckInput) -> CheckOutcome:
    code, title = "event_times", "Event times positive"
    variables = data.by_role(ROLE_TIME)
    if not variables:
        return _not_applicable(code, title, "the schema has no time-to-event variable in this table.")
    bad_any = np.zeros(len(data.frame), dtype=bool)
    by_variable = []
    for variable in variables:
        with np.errstate(invalid="ignore"):
            bad = _numeric(data.frame[variable.name]) <= 0
        if bad.any():
            by_variable.append({"variable": variable.name, "rows": int(bad.sum())})
            bad_any |= bad
    figures = {"non_positive": by_variable}
    if by_variable:
        listed = ", ".join(f"{row['variable']} ({row['rows']:,})" for row in by_variable)
        sentence = (
            f"{_counted(int(bad_any.sum()), 'row', 'has', 'have')}"
            f" an event or censoring time of zero or less: {listed}."
        )
        return CheckOutcome(code, title, FAIL, sentence, figures, data.ids(np.flatnonzero(bad_any)))
    names = ", ".join(variable.name for variable in variables)
    return CheckOutcome(code, title, PASS, f"Every event or censoring time ({names}) is above zero.", figures)


# --------------------------------------------------------------------------------------------------- follow-up


def reverse_km_median(time: np.ndarray, event: np.ndarray) -> float | None:
    """Median follow-up by reverse Kaplan-Meier: censoring is the 'event', events are censored."""
    if len(time) == 0:
        return None
    censored = (event == 0).astype(float)
    order = np.argsort(time, kind="stable")
    times, flags = time[order], censored[order]
    unique, first = np.unique(times, return_index=True)
    counts = np.add.reduceat(flags, first)
    at_risk = len(times) - first
    survival = np.cumprod(1.0 - counts / at_risk)
    below = np.flatnonzero(survival <= 0.5)
    return float(unique[below[0]]) if len(below) else None


def check_follow_up(data: CheckInput) -> CheckOutcome:
    code, title = "follow_up", "Follow-up by arm"
    why = _no_arms(data)
    if why:
        return _not_applicable(code, title, why)
    time, event = data.first(ROLE_TIME), data.first(ROLE_EVENT)
    if time is None or event is None:
        return _not_applicable(code, title, "it needs a time-to-event variable and its event indicator.")
    times, events = _numeric(data.frame[time.name]), _numeric(data.frame[event.name])
    usable = np.isfinite(times) & np.isfinite(events)
    medians = {}
    for arm, label in ((1, "intervention"), (0, "control")):
        rows = usable & (data.arm == arm)
        medians[label] = reverse_km_median(times[rows], events[rows])
    unit = time.unit + "s" if time.unit in ("day", "week", "month", "year") else (time.unit or "time units")
    figures = {
        "unit": unit,
        "median_intervention": _number(medians["intervention"]),
        "median_control": _number(medians["control"]),
    }
    if medians["intervention"] is None or medians["control"] is None:
        sentence = (
            "Median follow-up could not be estimated in both arms (fewer than half of an arm is censored by the end)."
        )
        return CheckOutcome(code, title, WARNING, sentence, figures)
    longer, shorter = max(medians.values()), min(medians.values())
    gap = (longer - shorter) / longer if longer else 0.0
    figures |= {"difference": _number(longer - shorter), "relative_difference": _number(gap)}
    described = (
        f"median follow-up by reverse Kaplan-Meier is {medians['intervention']:g} {unit} (intervention) and "
        f"{medians['control']:g} {unit} (control)"
    )
    if gap > FOLLOW_UP_GAP:
        sentence = (
            f"The arms differ materially: {described}, {longer - shorter:g} {unit} or {100 * gap:.0f}% of the longer "
            f"(more than {100 * FOLLOW_UP_GAP:.0f}%)."
        )
        return CheckOutcome(code, title, WARNING, sentence, figures)
    return CheckOutcome(
        code, title, PASS, described[0].upper() + described[1:] + f", within {100 * FOLLOW_UP_GAP:.0f}%.", figures
    )


def check_outcome_missingness(data: CheckInput) -> CheckOutcome:
    code, title = "outcome_missingness", "Outcome missingness by arm"
    why = _no_arms(data)
    if why:
        return _not_applicable(code, title, why)
    outcomes = [v for v in data.variables if v.role in (ROLE_OUTCOME, ROLE_EVENT, ROLE_TIME)]
    if not outcomes:
        return _not_applicable(code, title, "the schema has no outcome variable in this table.")
    rows = _missingness_by_arm(data, outcomes)
    figures = {"gap_fail_threshold": OUTCOME_MISSINGNESS_GAP_FAIL, "outcomes": rows}
    incomplete = [row for row in rows if row["missing_intervention"] or row["missing_control"]]
    if not incomplete:
        return CheckOutcome(
            code, title, PASS, f"No outcome value is missing ({_plural(len(rows), 'variable')}).", figures
        )
    affected = _rows_missing(data, [row["variable"] for row in incomplete])
    uneven = [row for row in incomplete if row["gap"] > OUTCOME_MISSINGNESS_GAP_FAIL]
    if uneven:
        sentence = (
            f"Outcome missingness differs between the arms by more than {100 * OUTCOME_MISSINGNESS_GAP_FAIL:.0f} "
            f"percentage points (intervention vs control): {_describe_missing(uneven)}."
        )
        return CheckOutcome(code, title, FAIL, sentence, figures, affected)
    sentence = f"Some outcome values are missing (intervention vs control): {_describe_missing(incomplete)}."
    return CheckOutcome(code, title, WARNING, sentence, figures, affected)


# --------------------------------------------------------------------------------------------------- re-derivation


def _binary(variable: Variable) -> bool:
    return {_code_text(value) for value in variable.allowed_values} <= {"0", "1"} and bool(variable.allowed_values)


def _primary_variables(data: CheckInput, measure: str) -> dict[str, Variable] | str:
    named = {variable.name: variable for variable in data.variables}
    chosen = named.get(data.facts.primary_outcome) if data.facts.primary_outcome else None
    if data.facts.primary_outcome and chosen is None:
        return f"the primary outcome variable {data.facts.primary_outcome!r} is not in the table."
    kind = engine.OUTCOME_KIND[measure]
    if kind == "survival":
        time = chosen if chosen is not None and chosen.role == ROLE_TIME else data.first(ROLE_TIME)
        event = data.first(ROLE_EVENT)
        if time is None or event is None:
            return "a hazard ratio needs a time-to-event variable and its event indicator."
        return {"time": time, "event": event}
    if chosen is not None:
        return {"outcome": chosen}
    candidates = data.by_role(ROLE_OUTCOME) + (data.by_role(ROLE_EVENT) if kind == "binary" else [])
    for variable in candidates:
        if (kind == "binary") == _binary(variable):
            return {"outcome": variable}
    return f"no {kind} outcome variable is in the table; name it in the trial's check settings."


def verdict(measure: str, published: float, low: float, high: float, recomputed: float) -> dict:
    """PRIME-IPD replication: within the published CI and at most 10% apart on the ratio or difference scale."""
    within_ci = low <= recomputed <= high
    if measure in engine.RATIO_MEASURES:
        relative = abs(recomputed / published - 1) if published > 0 else math.inf
    else:
        relative = abs(recomputed - published) / abs(published) if published else (0.0 if recomputed == 0 else math.inf)
    reproduced = within_ci and relative <= REPRODUCED_TOLERANCE
    return {"within_ci": within_ci, "relative_difference": relative, "reproduced": reproduced}


def check_primary_result(data: CheckInput) -> CheckOutcome:
    code, title = "primary_result", "Published primary result re-derived"
    facts = data.facts
    why = _no_arms(data)
    if why:
        return _not_applicable(code, title, why)
    if facts.measure not in engine.OUTCOME_KIND or None in (facts.estimate, facts.ci_low, facts.ci_high):
        return _not_applicable(
            code, title, "the trial's published measure (MD, OR, RR, RD or HR), estimate and CI are not all recorded."
        )
    variables = _primary_variables(data, facts.measure)
    if isinstance(variables, str):
        return _not_applicable(code, title, variables)
    rows = data.arm >= 0
    treat = data.arm[rows].astype(float)
    arrays = {role: _numeric(data.frame[variable.name])[rows] for role, variable in variables.items()}
    fitted = engine.stage_one(measure=facts.measure, treat=treat, **arrays)
    figures = {
        "measure": facts.measure,
        "variables": {role: variable.name for role, variable in variables.items()},
        "published": {"estimate": facts.estimate, "ci_low": facts.ci_low, "ci_high": facts.ci_high},
        "engine_version": fitted.engine_version,
        "n": fitted.n,
    }
    if fitted.estimate is None:
        sentence = f"The {facts.measure} could not be re-derived from the table: {fitted.reason}."
        return CheckOutcome(code, title, FAIL, sentence, figures | {"reason": fitted.reason})
    estimate, low, high = fitted.estimate, fitted.estimate - Z_95 * fitted.se, fitted.estimate + Z_95 * fitted.se
    if facts.measure in engine.RATIO_MEASURES:
        estimate, low, high = math.exp(estimate), math.exp(low), math.exp(high)
    judged = verdict(facts.measure, facts.estimate, facts.ci_low, facts.ci_high, estimate)
    figures |= {
        "recomputed": {"estimate": _number(estimate, 10), "ci_low": _number(low, 10), "ci_high": _number(high, 10)},
        "se": _number(fitted.se, 10),
        "difference": _number(estimate - facts.estimate, 10),
        "relative_difference": _number(judged["relative_difference"], 10),
        "within_ci": judged["within_ci"],
        "verdict": "reproduced" if judged["reproduced"] else "discrepant",
    }
    scale = "ratio" if facts.measure in engine.RATIO_MEASURES else "difference"
    beside = (
        f"recomputed {facts.measure} {estimate:.3g} (95% CI {low:.3g} to {high:.3g}) against the published "
        f"{facts.estimate:.3g} ({facts.ci_low:.3g} to {facts.ci_high:.3g})"
    )
    if judged["reproduced"]:
        sentence = (
            f"Reproduced: {beside}, within the published CI and {100 * judged['relative_difference']:.1f}% apart "
            f"on the {scale} scale."
        )
        return CheckOutcome(code, title, PASS, sentence, figures)
    reasons = []
    if not judged["within_ci"]:
        reasons.append("outside the published CI")
    if judged["relative_difference"] > REPRODUCED_TOLERANCE:
        reasons.append(
            f"{100 * judged['relative_difference']:.1f}% apart on the {scale} scale "
            f"(more than {100 * REPRODUCED_TOLERANCE:.0f}%)"
        )
    sentence = f"Discrepant: {beside}, a difference of {estimate - facts.estimate:+.3g}, {' and '.join(reasons)}."
    return CheckOutcome(code, title, FAIL, sentence, figures)


CATALOGUE: list[tuple[str, Callable[[CheckInput], CheckOutcome]]] = [
    ("ids_missing", check_ids_missing),
    ("ids_duplicated", check_ids_duplicated),
    ("treatment_codes", check_treatment_codes),
    ("arm_sizes", check_arm_sizes),
    ("allocation_ratio", check_allocation_ratio),
    ("randomisation_period", check_randomisation_period),
    ("randomisation_order", check_randomisation_order),
    ("allocation_runs", check_allocation_runs),
    ("baseline_balance", check_baseline_balance),
    ("baseline_missingness", check_baseline_missingness),
    ("ranges", check_ranges),
    ("dates_before_randomisation", check_dates_before_randomisation),
    ("after_data_cutoff", check_after_data_cutoff),
    ("event_times", check_event_times),
    ("follow_up", check_follow_up),
    ("outcome_missingness", check_outcome_missingness),
    ("primary_result", check_primary_result),
]
CODES = [code for code, _ in CATALOGUE]


def run_catalogue(data: CheckInput, progress: Callable[[int, str], None] | None = None) -> list[CheckOutcome]:
    """Every check in order; `progress(done, title)` after each one."""
    outcomes = []
    for done, (_, check) in enumerate(CATALOGUE, start=1):
        outcome = check(data)
        outcomes.append(outcome)
        if progress is not None:
            progress(done, outcome.title)
    return outcomes
