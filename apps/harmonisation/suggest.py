"""Mapping suggestions from a dataset's variable names, labels and codes to the review's schema.

A suggestion is only a proposal shown in the editor: a person accepts, edits or ignores it. Scores:
the same name (ignoring case, spaces and underscores) 1.0; a known synonym, including the CDISC ADaM names
common in industry files (USUBJID, RANDDT, TRT01P/TRT01A, ITTFL, AGE, SEX, AVAL, CNSR), 0.9; otherwise the
closer of name-to-name and label-to-description similarity, scaled down, above a threshold.

A name is not enough: the values must fit the target. A time comes only from a numeric variable with more than
two values (a 0/1 relapse flag is no time to relapse); an event only from a 0/1 or labelled two-valued one;
a date only from dates or text; a number never from dates. Arms are suggested only when their labels tell
the comparator from the intervention: a mapping that puts every code in one arm is never proposed. A variable
that looks like personal data is never suggested.
"""

import difflib
import re
from dataclasses import dataclass, field

from apps.harmonisation import rules, units

PARTICIPANT_ID = "participant_id"
TREATMENT = "treatment"
OUTCOME = "outcome"
EVENT = "event"
TIME = "time"
COVARIATE = "covariate"
RANDOMISATION_DATE = "randomisation_date"
OTHER = "other"

# Source names that usually hold a schema role, CDISC ADaM names first.
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    PARTICIPANT_ID: ("USUBJID", "SUBJID", "PATID", "PATIENTID", "PTID", "SUBJECTID", "PATNO", "ID"),
    RANDOMISATION_DATE: ("RANDDT", "RANDDATE", "DATERAND", "RANDOMISATIONDATE", "RANDOMIZATIONDATE", "RANDDTC"),
    TREATMENT: ("TRT01P", "TRT01A", "TRTP", "TRTA", "ARM", "ARMCD", "ACTARM", "TREATMENT", "TRT", "GROUP", "ALLOC"),
    TIME: ("AVAL", "TIME", "FUTIME", "SURVTIME", "TTE", "DAYS"),
    EVENT: ("CNSR", "EVENT", "STATUS", "DEATH", "DIED", "FAIL"),
}
NAME_SYNONYMS: dict[str, tuple[str, ...]] = {
    "USUBJID": ROLE_SYNONYMS[PARTICIPANT_ID],
    "RANDDT": ROLE_SYNONYMS[RANDOMISATION_DATE],
    "TRT01P": ("TRT01P", "TRTP", "ARM", "ARMCD", "TREATMENT", "TRT", "GROUP", "ALLOC"),
    "TRT01A": ("TRT01A", "TRTA", "ACTARM", "TREATMENT", "TRT"),
    "ITTFL": ("ITTFL", "ITT", "FASFL", "ITTPOP"),
    "AGE": ("AGE", "AGEY", "AGEYRS", "AGEYEARS", "AGEBL", "BASEAGE"),
    "SEX": ("SEX", "GENDER", "SEXN"),
    "AVAL": ROLE_SYNONYMS[TIME],
    "CNSR": ("CNSR", "CENSOR", "CENSORED"),
    "EVENT": ("EVENT", "CNSR", "STATUS", "DEATH", "DIED"),
}
# Words in a code's label that mean the comparator arm, and words that mean the intervention.
CONTROL_WORDS = ("placebo", "control", "usual care", "standard", "sham", "no treatment", "comparator", "vehicle")
INTERVENTION_WORDS = ("intervention", "experimental", "active", "treatment", "treated", "verum")
NUMERIC_TYPES = ("integer", "number")
DATE_TYPES = ("date", "datetime")
THRESHOLD = 0.6


@dataclass(frozen=True)
class SourceVariable:
    name: str
    label: str = ""
    value_labels: dict = field(default_factory=dict)
    values: tuple = ()  # the most frequent values, for recodes when there are no value labels
    type: str = ""  # the dictionary's type (integer, number, text, date, datetime, boolean); "" when unknown
    n_distinct: int | None = None
    personal_data: str | None = None


@dataclass(frozen=True)
class SchemaTarget:
    name: str
    role: str = OTHER
    type: str = rules.NUMBER
    unit: str = ""
    allowed_values: tuple = ()
    description: str = ""


@dataclass
class Suggestion:
    target: str
    source: str
    score: float
    reason: str
    category: str
    source_variables: list
    parameters: dict

    def as_dict(self) -> dict:
        return {
            "target": self.target,
            "source": self.source,
            "score": round(self.score, 3),
            "reason": self.reason,
            "category": self.category,
            "source_variables": self.source_variables,
            "parameters": self.parameters,
        }


def normalise(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", (name or "")).upper()


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z0-9]+", (text or "").lower()) if len(word) > 1}


def _similarity(a: str, b: str) -> float:
    """The better of character similarity and shared words, ignoring a unit in brackets at the end."""
    a, b = _UNIT_PATTERN.sub("", a or "").lower().strip(), _UNIT_PATTERN.sub("", b or "").lower().strip()
    if not a or not b:
        return 0.0
    shared = _words(a) & _words(b)
    overlap = len(shared) / min(len(_words(a)), len(_words(b))) if shared else 0.0
    return max(difflib.SequenceMatcher(None, a, b).ratio(), overlap * 0.95)


def score(target: SchemaTarget, source: SourceVariable) -> tuple[float, str]:
    """How well `source` fits `target`, with the reason in words."""
    source_name, target_name = normalise(source.name), normalise(target.name)
    if source_name == target_name:
        return 1.0, "same name"
    synonyms = set(NAME_SYNONYMS.get(target_name, ())) | set(ROLE_SYNONYMS.get(target.role, ()))
    if source_name in synonyms:
        return 0.9, f"{source.name} is a usual name for {target.name if target_name in NAME_SYNONYMS else target.role}"
    by_name = _similarity(source_name, target_name) * 0.8
    if min(len(source_name), len(target_name)) >= 3 and (
        source_name.startswith(target_name) or target_name.startswith(source_name)
    ):
        by_name = max(by_name, 0.75)
    by_label = max(_similarity(source.label, target.description), _similarity(source.label, target.name)) * 0.75
    if by_label > by_name:
        return by_label, f"label {source.label!r} resembles {target.description or target.name!r}"
    return by_name, f"name resembles {target.name}"


# Words that say an event happened, or did not, as a two-valued variable's codes or labels.
EVENT_YES = {
    "y", "yes", "true", "t", "ja", "j", "oui", "si", "sí", "sim", "dead", "died", "deceased", "event", "death",
    "deaths", "relapse", "relapsed", "recurrence", "progression", "progressed", "failure", "failed", "occurred",
    "décès", "deces", "décédé", "decede", "tod", "verstorben", "gestorben", "fallecido", "fallecida", "muerte",
    "muerto", "morto", "morta", "deceduto", "deceduta", "overleden", "dood", "óbito", "obito",
}  # fmt: skip
EVENT_NO = {
    "n", "no", "false", "f", "nein", "non", "nee", "não", "nao", "alive", "censored", "censor", "none", "living",
    "survived", "surviving", "vivant", "vivante", "vivo", "viva", "lebend", "levend", "vivi", "vivos",
}  # fmt: skip
# Phrases that deny the event, looked for before its words: "no event", "event-free", "alive at last contact".
EVENT_DENIED = ("no event", "event free", "event-free", "without event", "not dead", "did not", "no death", "censor")


def _yes_or_no(text: str) -> bool | None:
    """Whether a code or label says the event happened (True), did not (False), or neither (None)."""
    phrase = str(text).strip().lower()
    if phrase in EVENT_YES or phrase in EVENT_NO:
        return phrase in EVENT_YES
    if any(denial in phrase for denial in EVENT_DENIED) or re.search(r"[^\W\d_]+[- ]free\b|\b(not|never) ", phrase):
        return False  # "relapse-free", "progression free", "not relapsed"
    found = set(re.findall(r"[^\W\d_]+", phrase))
    said_yes, said_no = bool(found & EVENT_YES), bool(found & EVENT_NO)
    return None if said_yes == said_no else said_yes


def _is_binary(source: SourceVariable) -> bool:
    """0/1 values, two codes with labels, or two values that read yes and no."""
    if source.type == "boolean":
        return True
    if source.value_labels and len(source.value_labels) == 2:
        return True
    if source.n_distinct is None or source.n_distinct > 2 or not source.values:
        return False
    if source.type in NUMERIC_TYPES:
        return {rules.code_key(value) for value in source.values} <= {"0", "1"}
    return source.type == "text" and all(_yes_or_no(value) is not None for value in source.values)


def fits(target: SchemaTarget, source: SourceVariable) -> bool:
    """Whether the source's values can stand for the target at all (unknown types are not judged)."""
    if source.personal_data:
        return False
    if not source.type:
        return True
    if target.role == TIME:
        return source.type in NUMERIC_TYPES and (source.n_distinct or 0) > 2
    if target.role == EVENT:
        return _is_binary(source)
    if target.type == rules.DATE:
        return source.type in (*DATE_TYPES, "text")
    if target.type in (rules.NUMBER, rules.INTEGER):
        return source.type not in DATE_TYPES
    return True


def suggest(sources: list[SourceVariable], targets: list[SchemaTarget], *, per_target: int = 3) -> list[Suggestion]:
    """Up to `per_target` candidate rules for each target, best first; targets with no candidate are left out."""
    suggestions = []
    for target in targets:
        fitting = [source for source in sources if fits(target, source)]
        scored = sorted(((*score(target, source), source) for source in fitting), key=lambda item: -item[0])
        kept = 0
        for value, reason, source in scored:
            if value < THRESHOLD or kept == per_target:
                break
            rule = _rule_for(target, source)
            if rule is None:
                continue
            kept += 1
            category, parameters, note = rule
            suggestions.append(
                Suggestion(
                    target=target.name,
                    source=source.name,
                    score=value,
                    reason=reason + (f"; {note}" if note else ""),
                    category=category,
                    source_variables=[] if category == rules.EXPRESSION else [source.name],
                    parameters=parameters,
                )
            )
    return suggestions


def _rule_for(target: SchemaTarget, source: SourceVariable) -> tuple[str, dict, str] | None:
    """The rule category and parameters that would carry `source` into `target`; None when no rule can be
    proposed (arms whose labels do not tell the comparator from the intervention)."""
    if normalise(source.name) in ("CNSR", "CENSOR", "CENSORED") and target.role == EVENT:
        name = source.name if source.name.isidentifier() else f'col("{source.name}")'
        return rules.EXPRESSION, {"expression": f"1 - {name}"}, "CNSR is 1 when censored, so event = 1 - CNSR"
    codes = _source_codes(source)
    if target.role == EVENT and codes:
        mapping = _event_recode(codes, target.allowed_values)
        if mapping and any(rules.code_key(k) != rules.code_key(v) for k, v in mapping.items()):
            return rules.RECODE, {"map": mapping}, "yes and no read from the codes"
        if source.value_labels and not mapping:
            # Labels that do not read as yes and no ("Death" / "Censored" the other way round, say) leave the
            # direction to a person: copying the codes could swap events and censorings.
            return None
    if target.role == TREATMENT and codes:
        arms = _arms(codes, target.allowed_values)
        if arms is None:
            return None
        return rules.TREATMENT_ARMS, {"arms": arms}, "arms told apart by their labels"
    if target.allowed_values and codes:
        recoded = _recode(codes, target.allowed_values)
        if recoded is None:
            return None  # some codes match no allowed value: a partial recode would flag their rows
        mapping, missing = recoded
        if missing or any(rules.code_key(k) != rules.code_key(v) for k, v in mapping.items()):
            return rules.RECODE, {"map": mapping} | ({"missing": missing} if missing else {}), "codes matched by label"
    unit = detect_unit(source.label) or detect_unit(source.name)
    if target.unit and unit and unit.lower() != target.unit.lower():
        analyte = _analyte(" ".join((target.name, target.description, source.name, source.label)))
        try:
            units.conversion(unit, target.unit, analyte=analyte)
        except units.UnitError:
            return rules.DIRECT, {}, f"source unit {unit} differs from {target.unit}: choose a conversion"
        parameters = {"from": unit, "to": target.unit} | ({"analyte": analyte} if analyte else {})
        return rules.UNIT_CONVERSION, parameters, f"unit {unit} in the label"
    return rules.DIRECT, {}, ""


def _analyte(text: str) -> str:
    """The analyte named in a variable's name or label, for mass <-> molar concentration conversions."""
    lowered = text.lower()
    found = [name for name in units.ANALYTES if name.rstrip("s") in lowered]
    return found[0] if len(found) == 1 else ""


def _source_codes(source: SourceVariable) -> dict[str, str]:
    """Source code -> its label (or the code itself when there are no value labels)."""
    if source.value_labels:
        return {rules.code_key(code): str(label) for code, label in source.value_labels.items()}
    if 0 < len(source.values) <= 20:
        return {rules.code_key(v): str(v) for v in source.values if rules.code_key(v) is not None}
    return {}


YES_WORDS = ("y", "yes", "true")
NO_WORDS = ("n", "no", "false")


# Labels of codes that mean the value is missing, not a category: they go to a recode's "missing" codes.
MISSING_WORDS = (
    "unknown", "missing", "not known", "not recorded", "not available", "not stated", "not applicable", "n/a",
    "refused", "don't know", "dont know", "no answer", "inconnu", "manquant", "unbekannt", "fehlend", "desconocido",
    "sconosciuto", "onbekend", "ignorado",
)  # fmt: skip
MISSING_CODES = {"", "na", "nk", "nr", "unk", "u", ".", "?", "-", "99", "999", "-9", "-99", "-999"}
# How sex is coded in the languages of trial files: the pair of codes decides ("M" is male beside "F" or "W",
# but "mujer", female, beside the Spanish "H", hombre).
SEX_PAIRS = {
    frozenset({"m", "f"}): {"m": "male", "f": "female"},
    frozenset({"h", "f"}): {"h": "male", "f": "female"},
    frozenset({"h", "m"}): {"h": "male", "m": "female"},
    frozenset({"m", "w"}): {"m": "male", "w": "female"},
    frozenset({"m", "v"}): {"m": "male", "v": "female"},
    frozenset({"m", "k"}): {"m": "male", "k": "female"},
}
SEX_WORDS = {
    "male": {"male", "man", "men", "homme", "hombre", "masculin", "masculino", "masculine", "mannlich", "männlich",
             "maschio", "maschile", "mannelijk", "boy"},
    "female": {"female", "woman", "women", "femme", "mujer", "feminin", "féminin", "femenino", "feminine",
               "weiblich", "femmina", "femminile", "vrouw", "vrouwelijk", "girl"},
}  # fmt: skip


def _recode(codes: dict[str, str], allowed: tuple) -> tuple[dict, list] | None:
    """Each source code matched to an allowed value by its label, its code, or a shared first letter (a 0/1 flag
    without labels goes to the schema's yes and no codes; sex codes by the language their pair is in), and the
    codes whose labels mean missing. None when some other code matches nothing."""
    sexes = _sex_codes(codes, allowed)
    mapping, missing = {}, []
    for code, label in codes.items():
        match = sexes.get(code) if sexes else _best_allowed(code, label, allowed)
        if match is None and code == label and code in ("0", "1"):
            match = _yes_no(allowed, yes=code == "1")
        if match is not None:
            mapping[code] = match
        elif _means_missing(code, label):
            missing.append(code)
        else:
            return None
    return mapping, missing


def _means_missing(code: str, label: str) -> bool:
    if code == label and code.strip().lower() in MISSING_CODES:
        return True
    return _names_any(label, MISSING_WORDS)


def _names_any(label: str, phrases: tuple[str, ...]) -> bool:
    """Whether the label holds one of the phrases as whole words ("Other", not "Mother")."""
    text = label.strip().lower()
    return any(re.search(rf"(?<![^\W_]){re.escape(phrase)}(?![^\W_])", text) for phrase in phrases)


def _sex_codes(codes: dict[str, str], allowed: tuple) -> dict:
    """Source code -> the allowed male or female code, when the schema's codes are those two and the source's
    codes or labels say which is which; else empty."""
    targets = {}
    for value in allowed:
        word = str(value).strip().lower()
        sex = next((name for name, words in SEX_WORDS.items() if word in words or word == name[0]), None)
        if sex is None or sex in targets:
            return {}
        targets[sex] = value
    if set(targets) != {"male", "female"}:
        return {}
    letters = {
        code: label.strip().lower()
        for code, label in codes.items()
        if len(label.strip()) == 1 and not _means_missing(code, label)
    }
    pair = SEX_PAIRS.get(frozenset(letters.values()))
    found = {}
    for code, label in codes.items():
        text = label.strip().lower()
        sex = pair.get(text) if pair and code in letters else None
        sex = sex or next((name for name, words in SEX_WORDS.items() if text in words), None)
        if sex is not None:
            found[code] = targets[sex]
    return found


def _yes_no(allowed: tuple, *, yes: bool):
    words = YES_WORDS if yes else NO_WORDS
    return next((value for value in allowed if str(value).strip().lower() in words), None)


def _best_allowed(code: str, label: str, allowed: tuple):
    for value in allowed:
        key = str(value).strip().lower()
        if key in (code.lower(), label.strip().lower()):
            return value
    for value in allowed:
        key = str(value).strip().lower()
        words = label.strip().lower()
        if key and words and (words.startswith(key) or key.startswith(words)) and key[0].isalpha():
            return value
    return None


def _event_recode(codes: dict[str, str], allowed: tuple) -> dict:
    """Each code to the schema's event code, when every code or label reads yes or no (and both occur)."""
    said = {code: _yes_or_no(label) for code, label in codes.items()}
    if None in said.values() or len(set(said.values())) != 2:
        return {}
    keys = {rules.code_key(value) for value in allowed}
    if not allowed or {"0", "1"} <= keys:
        yes, no = 1, 0
    else:
        yes, no = _yes_no(allowed, yes=True), _yes_no(allowed, yes=False)
    if yes is None or no is None:
        return {}
    return {code: yes if happened else no for code, happened in said.items()}


# Labels of codes that are no arm: left out of a suggested arm mapping, so their rows are flagged as unmapped.
NOT_AN_ARM = (
    "unknown", "missing", "not randomised", "not randomized", "not allocated", "unallocated", "not assigned",
    "screen fail", "screening fail", "withdrawn", "excluded", "registry", "not treated", "other", "n/a",
    "not applicable",
)  # fmt: skip


def _arms(codes: dict[str, str], allowed: tuple) -> dict | None:
    """Each code's arm, by its label: a comparator's words make it the control arm. When no label (or every
    label) reads as a comparator, an intervention's words may settle it; otherwise None: codes such as 1 and 2,
    or A and B, say nothing of which arm is which, and a guess could put both in one arm. Codes whose labels say
    they are no arm ("Unknown", "Not randomised") are left out."""
    codes = {code: label for code, label in codes.items() if not _names_any(label, NOT_AN_ARM)}
    if len(codes) < 2:
        return None
    control, intervention = _arm_codes(allowed)
    is_control = {code: _says(label, CONTROL_WORDS) for code, label in codes.items()}
    if len(set(is_control.values())) < 2:
        is_intervention = {code: _says(label, INTERVENTION_WORDS) for code, label in codes.items()}
        if len(set(is_intervention.values())) < 2:
            return None
        is_control = {code: not value for code, value in is_intervention.items()}
    arms = {code: control if is_control[code] else intervention for code in codes}
    return arms if rules.code_key(control) != rules.code_key(intervention) else None


def _says(label: str, words: tuple[str, ...]) -> bool:
    return any(word in label.lower() for word in words)


def _arm_codes(allowed: tuple) -> tuple:
    """The schema's control and intervention codes: a code named like a comparator, or 0, is the control."""
    if not allowed:
        return "control", "intervention"
    named = [v for v in allowed if any(word in str(v).lower() for word in CONTROL_WORDS)]
    control = named[0] if named else next((v for v in allowed if rules.code_key(v) == "0"), None)
    others = [v for v in allowed if v != control]
    return (control if control is not None else "control"), (others[0] if others else "intervention")


_UNIT_PATTERN = re.compile(
    r"[\(\[]\s*([^()\[\]]{1,20}?)\s*[\)\]]\s*$|\b(mg/dl|mmol/l|umol/l|kg|lbs?|cm|in|years|months|weeks|days)\s*$",
    re.IGNORECASE,
)


def detect_unit(text: str) -> str:
    """A unit named at the end of a label, e.g. "Glucose (mg/dL)" or "Weight, lb"; empty if none is known."""
    match = _UNIT_PATTERN.search(text or "")
    if not match:
        return ""
    candidate = (match.group(1) or match.group(2) or "").strip()
    try:
        return units.unit_lookup(candidate).name
    except units.UnitError:
        special = candidate.lower()
        return "degF" if special in ("°f", "degf") else "degC" if special in ("°c", "degc") else ""
