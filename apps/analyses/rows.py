"""The engine's input of a run: the harmonised tables it names, read and checked against their SHA-256, the
treatment coded 1 (intervention) / 0 (control) with each trial's own codes, concatenated with a trial column
holding the trial's id. Anyone can rebuild it from the run's `inputs` and get the same result.

The rows stay Arrow tables from the Parquet files to the engine, which reads them without a pandas copy.
"""

import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from apps.checks.catalogue import as_text
from apps.datasets.storage import dataset_storage
from apps.harmonisation.models import HarmonisedTable
from apps.jobs.errors import JobInputError


@dataclass
class TrialRows:
    """One trial's rows as the engine reads them, and what the table held beyond them."""

    trial: int
    table: pa.Table  # the columns the analysis uses: numbers as float64, codes and text as strings
    other_codes: int  # rows whose treatment is neither the intervention nor the control code


def storage_names(inputs: list[dict]) -> dict[int, str]:
    """Where each input's harmonised table is stored, by table id (one query for every trial)."""
    ids = [item["harmonised_table"] for item in inputs]
    return dict(HarmonisedTable.objects.filter(pk__in=ids).values_list("pk", "storage_name"))


def read_table_bytes(item: dict, stored: dict[int, str]) -> bytes:
    """The stored table's bytes, refused when they are no longer those the run was planned on."""
    table_id = item["harmonised_table"]
    if table_id not in stored:
        raise JobInputError(f"The harmonised table #{table_id} was deleted; run the analysis again.")
    with dataset_storage().open(stored[table_id], "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != item["sha256"]:
        raise JobInputError(
            f"The stored file of harmonised table #{table_id} no longer has its recorded SHA-256; the storage was "
            "altered. Apply the trial's mapping again, then run the analysis."
        )
    return data


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind)


def _uniform(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """Numbers (and 0/1 flags) as float64, missing as null; text as plain strings: alike in every trial."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or pa.types.is_null(kind):
        return column.cast(pa.float64())
    if _is_text(kind):
        return column.cast(pa.string())
    raise JobInputError(f"The column {name} holds {kind} values, which no analysis model takes.")


def code_treatment(values: pa.ChunkedArray, codes: dict) -> tuple[np.ndarray, int]:
    """1.0 intervention, 0.0 control, NaN otherwise; and how many present values had another code. Values are
    compared as the integrity checks compare them (1, 1.0 and "1" all read "1")."""
    if _is_text(values.type):
        values = values.cast(pa.string())
        is_intervention = pc.equal(values, codes["intervention"]).fill_null(False).to_numpy(zero_copy_only=False)
        is_control = pc.equal(values, codes["control"]).fill_null(False).to_numpy(zero_copy_only=False)
        present = values.is_valid().to_numpy(zero_copy_only=False)
    else:
        text = as_text(values.to_pandas())
        is_intervention = (text == codes["intervention"]).fillna(False).to_numpy()
        is_control = (text == codes["control"]).fillna(False).to_numpy()
        present = text.notna().to_numpy()
    coded = np.full(len(values), np.nan)
    coded[is_intervention] = 1.0
    coded[is_control] = 0.0
    return coded, int((present & np.isnan(coded)).sum())


def trial_rows(item: dict, spec: dict, columns: list[str], stored: dict[int, str]) -> TrialRows:
    table = pq.read_table(pa.BufferReader(read_table_bytes(item, stored)), columns=columns)
    treatment = spec["columns"]["treatment"]
    arrays = {}
    other = 0
    for name in columns:
        if name == treatment:
            coded, other = code_treatment(table.column(name), item["arm_codes"])
            arrays[name] = pa.array(coded, from_pandas=True)  # NaN: the row has no usable arm
        else:
            arrays[name] = _uniform(table.column(name), name)
    return TrialRows(item["trial"], pa.table(arrays), other)


def engine_columns(spec: dict) -> list[str]:
    """The harmonised columns the spec reads (the trial column is made, not read)."""
    roles = [value for role, value in spec["columns"].items() if role != "trial"]
    names = [*roles, *spec.get("adjust", []), *([spec["interaction"]] if spec.get("interaction") else [])]
    return list(dict.fromkeys(names))


def concatenated(pieces: list[TrialRows], spec: dict) -> pa.Table:
    """Every trial's rows in one table, with the trial column first as a dictionary (labels stored once)."""
    try:
        table = pa.concat_tables([piece.table for piece in pieces])
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise JobInputError(_mixed_types(pieces))
    lengths = [piece.table.num_rows for piece in pieces]
    indices = pa.array(np.repeat(np.arange(len(pieces), dtype=np.int32), lengths))
    labels = pa.array([str(piece.trial) for piece in pieces])
    return table.add_column(0, spec["columns"]["trial"], pa.DictionaryArray.from_arrays(indices, labels))


def _mixed_types(pieces: list[TrialRows]) -> str:
    kinds: dict[str, set[str]] = {}
    for piece in pieces:
        for field in piece.table.schema:
            kinds.setdefault(field.name, set()).add("numbers" if pa.types.is_floating(field.type) else "text")
    mixed = [name for name, found in kinds.items() if len(found) > 1]
    return (
        f"The column {', '.join(mixed)} holds numbers in some trials' harmonised tables and text in others'; give "
        "the schema variable one type and apply the mappings again."
    )


def without_trials(rows: pa.Table, spec: dict, trials: set[str]) -> pa.Table:
    """The rows of every trial but those named (by id, as text)."""
    labels = rows.column(spec["columns"]["trial"]).cast(pa.string())
    return rows.filter(pc.invert(pc.is_in(labels, value_set=pa.array(sorted(trials), pa.string()))))
