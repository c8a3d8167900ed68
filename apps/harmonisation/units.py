"""Unit conversions used by harmonisation rules: a stated table, so the log can say exactly what was done.

Every conversion is linear, value_to = value_from * factor + offset. Within a dimension each unit is defined by
its size in the dimension's base unit; between a mass and a molar concentration the analyte's factor (mg/dL per
mmol/L, from its molar mass) is needed. Conventions that are choices rather than definitions are stated with
the unit, and shown in the log.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from apps.core.errors import ApplicationError


class UnitError(ApplicationError):
    def __init__(self, message: str):
        super().__init__(message, code="invalid_unit", details={"units": [message]})


@dataclass(frozen=True)
class Unit:
    name: str
    dimension: str
    size: float  # in the dimension's base unit
    convention: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conversion:
    from_unit: str
    to_unit: str
    factor: float
    offset: float
    convention: str
    analyte: str = ""

    def apply(self, values):
        return values * self.factor + self.offset

    @property
    def description(self) -> str:
        formula = f"x * {self.factor:.10g}" + (f" + {self.offset:.10g}" if self.offset else "")
        analyte = f" ({self.analyte})" if self.analyte else ""
        return f"{self.from_unit} -> {self.to_unit}{analyte}: {formula}; {self.convention}"


DAYS_PER_YEAR = 365.25
UNITS: tuple[Unit, ...] = (
    Unit("minute", "time", 1 / 1440, "1 day = 1440 minutes", ("min", "minutes", "mins")),
    Unit("hour", "time", 1 / 24, "1 day = 24 hours", ("h", "hr", "hrs", "hours")),
    Unit("day", "time", 1.0, "base unit of time", ("d", "days")),
    Unit("week", "time", 7.0, "1 week = 7 days", ("wk", "wks", "weeks", "w")),
    Unit(
        "month",
        "time",
        DAYS_PER_YEAR / 12,
        "1 month = 365.25/12 = 30.4375 days (average Gregorian-Julian month)",
        ("mo", "mon", "months"),
    ),
    Unit("year", "time", DAYS_PER_YEAR, "1 year = 365.25 days (Julian year)", ("y", "yr", "yrs", "years")),
    Unit("g", "mass", 0.001, "1 g = 0.001 kg", ("gram", "grams")),
    Unit("kg", "mass", 1.0, "base unit of mass", ("kilogram", "kilograms", "kgs")),
    Unit(
        "lb", "mass", 0.45359237, "1 lb = 0.45359237 kg exactly (international pound, 1959)", ("lbs", "pound", "pounds")
    ),
    Unit("oz", "mass", 0.028349523125, "1 oz = 1/16 lb", ("ounce", "ounces")),
    Unit("st", "mass", 6.35029318, "1 stone = 14 lb", ("stone",)),
    Unit("mm", "length", 0.001, "1 mm = 0.001 m", ("millimetre", "millimeter")),
    Unit("cm", "length", 0.01, "1 cm = 0.01 m", ("centimetre", "centimeter", "centimetres", "centimeters")),
    Unit("m", "length", 1.0, "base unit of length", ("metre", "meter", "metres", "meters")),
    Unit("in", "length", 0.0254, "1 in = 2.54 cm exactly (international inch, 1959)", ("inch", "inches")),
    Unit("ft", "length", 0.3048, "1 ft = 12 in = 30.48 cm", ("foot", "feet")),
    Unit("mg/dL", "mass concentration", 0.01, "1 mg/dL = 0.01 g/L", ("mg/dl", "mg/100ml", "mg/100 ml")),
    Unit("g/dL", "mass concentration", 10.0, "1 g/dL = 10 g/L", ("g/dl",)),
    Unit("g/L", "mass concentration", 1.0, "base unit of mass concentration", ("g/l",)),
    Unit("mg/L", "mass concentration", 0.001, "1 mg/L = 0.001 g/L", ("mg/l",)),
    Unit("mmol/L", "molar concentration", 1.0, "base unit of molar concentration", ("mmol/l",)),
    Unit("umol/L", "molar concentration", 0.001, "1 umol/L = 0.001 mmol/L", ("µmol/l", "μmol/l", "umol/l")),
    Unit("mol/L", "molar concentration", 1000.0, "1 mol/L = 1000 mmol/L", ("mol/l",)),
    Unit("mmol/mol", "HbA1c (IFCC)", 1.0, "IFCC units", ("mmol/mol hba1c",)),
    Unit("kPa", "pressure", 1.0, "base unit of pressure", ("kpa",)),
    Unit("mmHg", "pressure", 0.133322387415, "1 mmHg = 133.322387415 Pa", ("mm hg", "mmhg")),
)

# mg/dL per mmol/L for analytes measured in either; one tenth of the molar mass in g/mol.
ANALYTES: dict[str, tuple[float, str]] = {
    "glucose": (18.016, "glucose, molar mass 180.16 g/mol: 1 mmol/L = 18.016 mg/dL"),
    "cholesterol": (38.67, "cholesterol (total, HDL or LDL), molar mass 386.65 g/mol: 1 mmol/L = 38.67 mg/dL"),
    "triglycerides": (88.57, "triglycerides as triolein, molar mass 885.7 g/mol: 1 mmol/L = 88.57 mg/dL"),
    "creatinine": (11.312, "creatinine, molar mass 113.12 g/mol: 1 mg/dL = 88.4 umol/L"),
    "urea nitrogen": (2.8014, "urea nitrogen (BUN), 28.014 g/mol of N per mol urea: 1 mmol/L urea = 2.8 mg/dL BUN"),
}

_BY_NAME: dict[str, Unit] = {}
for _unit in UNITS:
    for _name in (_unit.name, *_unit.aliases):
        _BY_NAME[_name.lower()] = _unit

# Affine conversions that no factor table can express.
_SPECIAL: dict[tuple[str, str], tuple[float, float, str]] = {
    ("degF", "degC"): (5 / 9, -32 * 5 / 9, "C = (F - 32) * 5/9"),
    ("degC", "degF"): (9 / 5, 32.0, "F = C * 9/5 + 32"),
    ("%", "mmol/mol"): (10.929, -10.929 * 2.15, "IFCC = 10.929 * (NGSP% - 2.15), Hoelzel et al., Clin Chem 2004"),
    ("mmol/mol", "%"): (1 / 10.929, 2.15, "NGSP% = IFCC / 10.929 + 2.15, Hoelzel et al., Clin Chem 2004"),
}
_SPECIAL_ALIASES = {
    "degf": "degF",
    "°f": "degF",
    "f": "degF",
    "fahrenheit": "degF",
    "degc": "degC",
    "°c": "degC",
    "c": "degC",
    "celsius": "degC",
    "%": "%",
    "% hba1c": "%",
    "ngsp %": "%",
}


def unit_lookup(name: str) -> Unit:
    unit = _BY_NAME.get((name or "").strip().lower())
    if unit is None:
        raise UnitError(f"Unknown unit {name!r}. Known units: {', '.join(known_units())}.")
    return unit


def known_units() -> list[str]:
    return [unit.name for unit in UNITS] + ["degC", "degF", "%"]


def _special_name(name: str) -> str | None:
    return _SPECIAL_ALIASES.get((name or "").strip().lower())


def conversion(from_unit: str, to_unit: str, *, analyte: str = "") -> Conversion:
    """The conversion from one unit to another, or a UnitError saying why there is none."""
    special = _special_conversion(from_unit, to_unit)
    if special is not None:
        return special
    source, target = unit_lookup(from_unit), unit_lookup(to_unit)
    if source.dimension == target.dimension:
        convention = "; ".join(dict.fromkeys(u.convention for u in (source, target) if "base unit" not in u.convention))
        return Conversion(source.name, target.name, source.size / target.size, 0.0, convention or "same unit")
    concentrations = {"mass concentration", "molar concentration"}
    if {source.dimension, target.dimension} == concentrations:
        return _concentration(source, target, analyte)
    raise UnitError(f"Cannot convert {source.dimension} ({source.name}) to {target.dimension} ({target.name}).")


def _canonical(name: str) -> str:
    unit = _BY_NAME.get((name or "").strip().lower())
    return _special_name(name) or (unit.name if unit else "")


def _special_conversion(from_unit: str, to_unit: str) -> Conversion | None:
    source, target = _canonical(from_unit), _canonical(to_unit)
    found = _SPECIAL.get((source, target))
    if found is None:
        return None
    factor, offset, convention = found
    return Conversion(source, target, factor, offset, convention)


def _concentration(source: Unit, target: Unit, analyte: str) -> Conversion:
    key = (analyte or "").strip().lower()
    if key not in ANALYTES:
        raise UnitError(
            f"Converting {source.name} to {target.name} needs the analyte; choose one of {', '.join(ANALYTES)}."
        )
    mg_dl_per_mmol_l, convention = ANALYTES[key]
    # g/L per mmol/L of this analyte: mg/dL per mmol/L times 0.01 g/L per mg/dL.
    g_l_per_mmol_l = mg_dl_per_mmol_l * 0.01
    if source.dimension == "mass concentration":
        factor = source.size / g_l_per_mmol_l / target.size
    else:
        factor = source.size * g_l_per_mmol_l / target.size
    return Conversion(source.name, target.name, factor, 0.0, convention, analyte=key)


def convert(values, from_unit: str, to_unit: str, *, analyte: str = ""):
    """Convert a number, an array or a Series; non-numeric values are refused by the caller."""
    rule = conversion(from_unit, to_unit, analyte=analyte)
    if isinstance(values, pd.Series):
        return rule.apply(values.astype("float64"))
    return rule.apply(np.asarray(values, dtype="float64")) if np.ndim(values) else rule.apply(float(values))


def unit_table() -> list[dict]:
    """The table as rows for the schema page and the API."""
    rows = [
        {"unit": unit.name, "dimension": unit.dimension, "aliases": list(unit.aliases), "convention": unit.convention}
        for unit in UNITS
    ]
    rows += [
        {"unit": f"{a} -> {b}", "dimension": "special", "aliases": [], "convention": text}
        for (a, b), (_, _, text) in _SPECIAL.items()
    ]
    rows += [
        {"unit": "mg/dL <-> mmol/L", "dimension": f"analyte: {name}", "aliases": [], "convention": text}
        for name, (_, text) in ANALYTES.items()
    ]
    return rows
