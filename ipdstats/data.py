"""Participant rows: read, checked and turned into the arrays every model works on."""

import csv
import functools
import gzip
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import AnalysisError
from .spec import Spec


@dataclass(frozen=True)
class Prepared:
    trials: list[str]  # trial labels, sorted as strings
    trial_index: np.ndarray  # int64, per row: index into `trials`
    treat: np.ndarray  # float64 0.0 / 1.0 per row (1 = intervention)
    outcome: np.ndarray | None  # float64 per row (continuous y, or binary 0/1); None for survival
    time: np.ndarray | None  # float64 per row (survival only)
    event: np.ndarray | None  # float64 0/1 per row (survival only)
    covariates: dict[str, np.ndarray]  # float64 per row, every `adjust` column and the `interaction` column
    rows_dropped: int  # rows left out for a missing value in a used column
    # Text columns, as R codes a factor: their levels (sorted, the first the reference) and, for an `adjust`
    # column, the 0/1 indicator column of each other level (named as R names it, e.g. sexM) in `covariates`.
    factor_levels: dict[str, list[str]] = field(default_factory=dict)
    indicators: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # indicator name -> "sex = M", for warnings

    @property
    def n_rows(self) -> int:
        return len(self.treat)

    def rows_per_trial(self) -> np.ndarray:
        return np.bincount(self.trial_index, minlength=len(self.trials))

    def model_columns(self, adjust, interaction: str | None = None) -> list[str]:
        """The `covariates` keys of the `adjust` columns, a text column replaced by its level indicators; the
        interaction column keeps its own (0/1 coded) name."""
        names = []
        for name in adjust:
            names += [name] if name == interaction else self.indicators.get(name, [name])
        return names

    def label(self, name: str) -> str:
        """How a warning names a model column: the original column, or 'column = level' for an indicator."""
        return self.labels.get(name, name)


def used_columns(spec: Spec) -> list[str]:
    """The data columns an analysis reads, trial first, each once."""
    names = [*spec.columns.values(), *spec.adjust, *([spec.interaction] if spec.interaction else [])]
    return list(dict.fromkeys(names))


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise AnalysisError(f"The data file {path.name} cannot be read as CSV: {error}.")


def _check_columns_exist(wanted: list[str], available: list[str], source: str) -> None:
    for name in wanted:
        if name not in available:
            raise AnalysisError(
                f"The column '{name}' is not in {source}; its columns are: {', '.join(map(str, available))}."
            )


def read_table(path: Path, columns: list[str], trial_column: str) -> pa.Table:
    """Reads only the named columns of a CSV, CSV.gz or Parquet file; the trial column as text."""
    import pyarrow.csv as pa_csv  # here, not at the top: a command-line run imports only what it reads
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        if path.name.lower().endswith((".parquet", ".pq")):
            available = pq.read_schema(path).names
            _check_columns_exist(columns, available, path.name)
            return pq.read_table(path, columns=columns, read_dictionary=[trial_column])
        _check_columns_exist(columns, _csv_header(path), path.name)
        # The trial column is read as a dictionary (R's factor): labels are stored once, rows hold codes.
        options = pa_csv.ConvertOptions(
            include_columns=columns,
            column_types={trial_column: pa.dictionary(pa.int32(), pa.string())},
            strings_can_be_null=True,
        )
        return pa_csv.read_csv(path, convert_options=options)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as error:
        raise AnalysisError(f"The data file {path.name} cannot be read: {error}.")


def _dictionary_codes(column: pa.ChunkedArray) -> tuple[list, np.ndarray]:
    """Labels and per-row codes (-1 for a missing label) of a column, through one shared dictionary."""
    if not pa.types.is_dictionary(column.type):
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            column = pc.cast(column, pa.string())
        column = pa.chunked_array([pc.dictionary_encode(column.combine_chunks())])
    column = column.unify_dictionaries()
    if column.num_chunks == 0:
        return [], np.empty(0, dtype=np.int64)
    dictionary = column.chunk(0).dictionary
    if not pa.types.is_string(dictionary.type):
        dictionary = pc.cast(dictionary, pa.string())
    codes = [chunk.indices.fill_null(-1).to_numpy().astype(np.int64) for chunk in column.chunks]
    return dictionary.to_pylist(), np.concatenate(codes)


def _trial_codes(column: pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    """Trial labels sorted as strings and each row's index into them (rows with no label get -1)."""
    labels, codes = _dictionary_codes(column)
    order = sorted(range(len(labels)), key=lambda i: labels[i])
    if order != list(range(len(labels))):  # labels not met in sorted order: renumber them
        remap = np.empty(len(labels) + 1, dtype=np.int64)
        remap[np.array(order, dtype=np.int64)] = np.arange(len(labels))
        remap[-1] = -1
        codes = remap[codes]
    return [labels[i] for i in order], codes


def _numeric(column: pa.ChunkedArray, name: str) -> np.ndarray:
    """Float64 values with NaN for missing; an error for text that is not a number."""
    kind = column.type
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    if pa.types.is_null(kind):
        return np.full(len(column), np.nan)
    import pandas as pd  # only text columns need it; importing it costs a command-line run a quarter second

    values = column.to_pandas()
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        raise AnalysisError(f"The column '{name}' holds a value that is not a number: {values[bad].iloc[0]!r}.")
    return numbers.to_numpy(dtype=np.float64)


def _first_bad(bad: np.ndarray, values: np.ndarray, trials: list[str], codes: np.ndarray) -> tuple[str, str]:
    row = int(np.flatnonzero(bad)[0])
    return f"{values[row]:g}", trials[codes[row]]


def _check_coding(values, name, what, trials, codes) -> None:
    bad = (values != 0.0) & (values != 1.0)
    if bad.any():
        value, trial = _first_bad(bad, values, trials, codes)
        raise AnalysisError(f"The {what} column '{name}' must be coded 0/1; trial {trial} has the value {value}.")


def _check_finite(values, name, trials, codes) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        value, trial = _first_bad(bad, values, trials, codes)
        raise AnalysisError(f"The column '{name}' has a non-finite value ({value}) in trial {trial}.")


def _is_integer(column: pa.ChunkedArray) -> bool:
    return pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)


def _coded_0_1_by_type(column: pa.ChunkedArray) -> bool:
    """True when an integer column's range already shows 0/1 coding (no pass over the rows needed)."""
    if not _is_integer(column):
        return False
    extremes = pc.min_max(column.cast(pa.int64()) if pa.types.is_boolean(column.type) else column).as_py()
    return extremes["min"] is None or (extremes["min"] >= 0 and extremes["max"] <= 1)


def _is_text(column: pa.ChunkedArray) -> bool:
    """A column of text in which no value is a number (R would read it as characters, a factor in a model). A
    column that mixes numbers and text is taken as numbers with a typing error, and refused by `_numeric`."""
    kind = column.type
    if not (pa.types.is_dictionary(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return False
    distinct = pc.unique(column.cast(pa.string()) if pa.types.is_dictionary(kind) else column).drop_null()
    import pandas as pd

    values = pd.Series(distinct.to_pylist(), dtype=object)
    return len(values) > 0 and bool(pd.to_numeric(values, errors="coerce").isna().all())


@dataclass(frozen=True)
class _Factor:
    """A text column's levels (sorted as R's factor() sorts them in the C locale) and each row's level."""

    levels: list[str]
    position: np.ndarray  # int64 per row: index into `levels`


def _factor(labels: list, codes: np.ndarray) -> _Factor:
    used = np.bincount(codes, minlength=len(labels)) > 0
    levels = sorted({labels[i] for i in np.flatnonzero(used)})
    where = {level: position for position, level in enumerate(levels)}
    remap = np.array([where.get(label, -1) for label in labels], dtype=np.int64)
    return _Factor(levels, remap[codes])


def _interaction_coding(name: str, factor: _Factor) -> np.ndarray:
    if len(factor.levels) != 2:
        raise AnalysisError(
            f"The interaction column '{name}' holds text with {len(factor.levels)} levels "
            f"({', '.join(map(repr, factor.levels))}); a text interaction column needs exactly two levels "
            "(or code it as numbers)."
        )
    return (factor.position == 1).astype(np.float64)


def _indicator_columns(name: str, factor: _Factor, taken: set[str]) -> dict[str, np.ndarray]:
    """R's treatment contrasts: one 0/1 column per level after the first (the reference), named column + level."""
    if len(factor.levels) < 2:
        raise AnalysisError(
            f"The adjustment column '{name}' holds text with a single value ({factor.levels[0]!r}) in the rows "
            "analysed: it cannot be used as a covariate (R would stop: contrasts need 2 or more levels)."
        )
    columns = {}
    for position, level in enumerate(factor.levels[1:], start=1):
        indicator = f"{name}{level}"
        if indicator in taken or indicator in columns:
            raise AnalysisError(
                f"The indicator of level {level!r} of the text column '{name}' would be named '{indicator}', "
                "which is already a column of the analysis; rename one of them."
            )
        columns[indicator] = (factor.position == position).astype(np.float64)
    return columns


def prepare(table, spec: Spec) -> Prepared:
    """Checks the participant rows against the spec and returns the arrays the models use."""
    if not isinstance(table, pa.Table):  # a pandas DataFrame
        _check_columns_exist(used_columns(spec), list(table.columns), "the data")
        table = pa.Table.from_pandas(table[used_columns(spec)], preserve_index=False)
    else:
        _check_columns_exist(used_columns(spec), table.column_names, "the data")
    columns = spec.columns
    trial_column = table.column(columns["trial"])
    trials, codes = _trial_codes(trial_column)
    covariate_names = [*spec.adjust, *([spec.interaction] if spec.interaction else [])]
    text = {
        name: _dictionary_codes(table.column(name))
        for name in dict.fromkeys(covariate_names)
        if name not in columns.values() and _is_text(table.column(name))
    }
    names = [name for name in used_columns(spec) if name != columns["trial"] and name not in text]
    numeric = {name: _numeric(table.column(name), name) for name in names}
    # Integer columns without nulls can hold neither missing nor non-finite values: they need no pass.
    exact = {name for name in names if _is_integer(table.column(name)) and table.column(name).null_count == 0}
    missing = codes < 0 if trial_column.null_count else np.zeros(len(codes), dtype=bool)
    for name, values in numeric.items():
        if name not in exact:
            missing |= np.isnan(values)
    for _, text_codes in text.values():
        missing |= text_codes < 0
    rows_dropped = int(missing.sum())
    if rows_dropped:
        keep = ~missing
        codes = codes[keep]
        numeric = {name: values[keep] for name, values in numeric.items()}
        text = {name: (labels, text_codes[keep]) for name, (labels, text_codes) in text.items()}
    if len(codes) == 0:
        raise AnalysisError("No participant rows are left once rows with a missing value are left out.")
    # Trials whose rows were all dropped are not trials of this analysis.
    present = np.bincount(codes, minlength=len(trials)) > 0
    if not present.all():
        remap = np.cumsum(present) - 1
        codes = remap[codes]
        trials = [label for label, keep in zip(trials, present, strict=True) if keep]
    for name, values in numeric.items():
        if name not in exact:
            _check_finite(values, name, trials, codes)

    def check_coding(role: str, what: str) -> None:
        name = columns[role]
        if not _coded_0_1_by_type(table.column(name)):
            _check_coding(numeric[name], name, what, trials, codes)

    check_coding("treatment", "treatment")
    outcome = time = event = None
    if spec.outcome == "survival":
        time, event = numeric[columns["time"]], numeric[columns["event"]]
        check_coding("event", "event")
        # A time of 0 is a valid observation (as in R's coxph); only negative times are impossible.
        bad = time < 0
        if bad.any():
            value, trial = _first_bad(bad, time, trials, codes)
            raise AnalysisError(
                f"The time column '{columns['time']}' must hold times >= 0; trial {trial} has the time {value}."
            )
    else:
        outcome = numeric[columns["outcome"]]
        if spec.outcome == "binary":
            check_coding("outcome", "binary outcome")
    factors = {name: _factor(labels, text_codes) for name, (labels, text_codes) in text.items()}
    covariates, indicators, labels = {}, {}, {}
    for name in covariate_names:
        if name not in factors:
            covariates[name] = numeric[name]
        elif name == spec.interaction:
            covariates[name] = _interaction_coding(name, factors[name])
        else:
            made = _indicator_columns(name, factors[name], set(used_columns(spec)) | set(covariates))
            covariates |= made
            indicators[name] = list(made)
            levels = factors[name].levels[1:]
            labels |= {indicator: f"{name} = {level}" for indicator, level in zip(made, levels, strict=True)}
    return Prepared(
        trials=trials,
        trial_index=codes.astype(np.int64, copy=False),
        treat=numeric[columns["treatment"]],
        outcome=outcome,
        time=time,
        event=event,
        covariates=covariates,
        rows_dropped=rows_dropped,
        factor_levels={name: factor.levels for name, factor in factors.items()},
        indicators=indicators,
        labels=labels,
    )


@functools.lru_cache(maxsize=4)
def _cached_table(path: Path, modified_ns: int, size: int, columns: tuple[str, ...], trial_column: str) -> pa.Table:
    # Keyed by modification time and size too, so a file rewritten in place is read again.
    return read_table(path, list(columns), trial_column)


def load(spec: Spec) -> Prepared:
    """Reads the spec's data file (a few recent reads are kept: several analyses of one file read it once) and
    prepares it. Arrow tables are immutable, so sharing them between analyses is safe."""
    status = Path(spec.data).stat()
    table = _cached_table(
        Path(spec.data), status.st_mtime_ns, status.st_size, tuple(used_columns(spec)), spec.columns["trial"]
    )
    return prepare(table, spec)
