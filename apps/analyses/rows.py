"""The engine's input of a run: the harmonised tables it names, read and checked against their SHA-256, the
treatment coded 1 (intervention) / 0 (control) with each trial's own codes, concatenated with a trial column
holding the trial's id. Anyone can rebuild it from the run's `inputs` and get the same result."""

import hashlib
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from apps.checks.catalogue import as_text
from apps.datasets.storage import dataset_storage
from apps.harmonisation.models import HarmonisedTable
from apps.jobs.errors import JobInputError


@dataclass
class TrialRows:
    """One trial's rows as the engine reads them, and what the table held beyond them."""

    trial: int
    frame: pd.DataFrame
    other_codes: int  # rows whose treatment is neither the intervention nor the control code


def read_table_bytes(item: dict) -> bytes:
    """The stored table's bytes, refused when they are no longer those the run was planned on."""
    table = HarmonisedTable.objects.filter(pk=item["harmonised_table"]).first()
    if table is None:
        raise JobInputError(f"The harmonised table #{item['harmonised_table']} was deleted; run the analysis again.")
    with dataset_storage().open(table.storage_name, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != item["sha256"]:
        raise JobInputError(
            f"The stored file of harmonised table #{table.pk} no longer has its recorded SHA-256; the storage was "
            "altered. Apply the trial's mapping again, then run the analysis."
        )
    return data


def _numeric_or_text(series: pd.Series) -> pd.Series:
    """Numbers as float64 (missing as NaN), so that trials' pieces concatenate alike; text stays text."""
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("float64")
    return series.astype("string")


def code_treatment(values: pd.Series, codes: dict) -> tuple[np.ndarray, int]:
    """1.0 intervention, 0.0 control, NaN otherwise; and how many present values had another code."""
    text = as_text(values)
    coded = np.full(len(text), np.nan)
    coded[(text == codes["intervention"]).fillna(False).to_numpy()] = 1.0
    coded[(text == codes["control"]).fillna(False).to_numpy()] = 0.0
    other = int((text.notna().to_numpy() & np.isnan(coded)).sum())
    return coded, other


def trial_rows(item: dict, spec: dict, columns: list[str]) -> TrialRows:
    data = read_table_bytes(item)
    table = pq.read_table(io.BytesIO(data), columns=columns)
    frame = pd.DataFrame({name: _numeric_or_text(table.column(name).to_pandas()) for name in columns})
    treatment = spec["columns"]["treatment"]
    frame[treatment], other = code_treatment(frame[treatment], item["arm_codes"])
    frame.insert(0, spec["columns"]["trial"], str(item["trial"]))
    return TrialRows(item["trial"], frame, other)


def engine_columns(spec: dict) -> list[str]:
    """The harmonised columns the spec reads (the trial column is made, not read)."""
    roles = [value for role, value in spec["columns"].items() if role != "trial"]
    names = [*roles, *spec.get("adjust", []), *([spec["interaction"]] if spec.get("interaction") else [])]
    return list(dict.fromkeys(names))


def concatenated(pieces: list[TrialRows], spec: dict) -> pd.DataFrame:
    """Every trial's rows in one frame, the trial column as a category (its labels stored once)."""
    frame = pd.concat([piece.frame for piece in pieces], ignore_index=True)
    trial = spec["columns"]["trial"]
    frame[trial] = frame[trial].astype("category")
    return frame
