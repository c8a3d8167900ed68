import numpy as np
import pandas as pd
import pytest

from apps.harmonisation.units import UnitError, conversion, convert, unit_table


@pytest.mark.parametrize(
    "value, from_unit, to_unit, analyte, expected",
    [
        (180.16, "mg/dL", "mmol/L", "glucose", 10.0),
        (5.5, "mmol/L", "mg/dL", "glucose", 99.088),
        (193.35, "mg/dL", "mmol/L", "cholesterol", 5.0),
        (5.0, "mmol/L", "mg/dL", "cholesterol", 193.35),
        (177.14, "mg/dL", "mmol/L", "triglycerides", 2.0),
        (1.0, "mg/dL", "umol/L", "creatinine", 88.4017),
        (88.4, "µmol/L", "mg/dL", "creatinine", 0.99998),
        (1.0, "g/dL", "g/L", "", 10.0),
        (154.0, "lb", "kg", "", 69.8532),
        (70.0, "kg", "lbs", "", 154.3236),
        (180.0, "cm", "m", "", 1.8),
        (70.0, "in", "cm", "", 177.8),
        (6.0, "ft", "m", "", 1.8288),
        (14.0, "days", "weeks", "", 2.0),
        (12.0, "months", "years", "", 1.0),
        (1.0, "year", "days", "", 365.25),
        (1.0, "month", "day", "", 30.4375),
        (98.6, "degF", "degC", "", 37.0),
        (37.0, "°C", "°F", "", 98.6),
        (7.0, "%", "mmol/mol", "", 53.006),
        (120.0, "mmHg", "kPa", "", 15.9987),
    ],
)
def test_conversions(value, from_unit, to_unit, analyte, expected):
    assert convert(value, from_unit, to_unit, analyte=analyte) == pytest.approx(expected, rel=1e-4)


def test_round_trip_is_exact_to_rounding():
    there = conversion("mg/dL", "mmol/L", analyte="glucose")
    back = conversion("mmol/L", "mg/dL", analyte="glucose")
    assert back.apply(there.apply(123.4)) == pytest.approx(123.4, rel=1e-12)


def test_series_and_missing_values():
    converted = convert(pd.Series([18.016, None]), "mg/dL", "mmol/L", analyte="Glucose")
    assert converted[0] == pytest.approx(1.0)
    assert np.isnan(converted[1])


def test_the_convention_is_stated():
    rule = conversion("months", "years")
    assert "30.4375" in rule.convention and "365.25" in rule.convention
    assert "18.016" in conversion("mg/dL", "mmol/L", analyte="glucose").description


@pytest.mark.parametrize(
    "from_unit, to_unit, analyte, message",
    [
        ("mg/dL", "mmol/L", "", "needs the analyte"),
        ("mg/dL", "mmol/L", "unobtainium", "needs the analyte"),
        ("kg", "cm", "", "Cannot convert mass (kg) to length (cm)"),
        ("furlong", "m", "", "Unknown unit 'furlong'"),
    ],
)
def test_refused_conversions(from_unit, to_unit, analyte, message):
    with pytest.raises(UnitError) as caught:
        conversion(from_unit, to_unit, analyte=analyte)
    assert message in caught.value.message


def test_unit_table_lists_every_convention():
    rows = unit_table()
    assert any(row["unit"] == "month" and "30.4375" in row["convention"] for row in rows)
    assert any("cholesterol" in row["dimension"] and "38.67" in row["convention"] for row in rows)
