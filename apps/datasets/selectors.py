"""Reads of participant data for the API, the pages and the later stages (harmonisation)."""

import pandas as pd
import pyarrow as pa

from apps.core.errors import ApplicationError
from apps.datasets import storage, tables
from apps.datasets.access import version_get_for_user, versions_for_user  # noqa: F401  (re-exported)
from apps.datasets.models import DatasetVersion
from apps.jobs.models import Job
from apps.jobs.selectors import job_latest_for_target


def trial_versions(trial):
    return DatasetVersion.objects.filter(trial=trial).select_related("uploaded_by").order_by("-number")


READ_OPTION_LABELS = {
    "encoding": "Encoding",
    "delimiter": "Delimiter",
    "decimal_found": "Decimal mark, as the file shows it",
    "sheet": "Sheet read",
    "header_row": "Header row",
    "chosen_by": "Sheet and header chosen by",
    "first_column": "Table starts in column",
    "rows_left_out": "Rows below the table not read (notes)",
    "blank_rows_skipped": "Rows of blank values skipped",
    "other_sheets": "Other sheets (not read)",
    "other_tables": "Other sheets holding a table (not read: declare the sheet to read one)",
    "hidden_sheets": "Hidden sheets",
}


def read_details(version: DatasetVersion) -> list[tuple[str, str]]:
    """How the file was read, in words for the version page: where the table was found and how it was decoded."""
    details = []
    for key, label in READ_OPTION_LABELS.items():
        value = version.read_options.get(key)
        if value in (None, ""):
            continue
        if isinstance(value, list):
            value = ", ".join(f"'{item}'" for item in value) or "none"
        details.append((label, str(value)))
    return details


def version_parse_job(version: DatasetVersion) -> Job | None:
    from apps.datasets.services import PARSE_JOB_KIND

    return job_latest_for_target(version, kind=PARSE_JOB_KIND)


def _require_parsed(version: DatasetVersion) -> None:
    if version.status != DatasetVersion.Status.PARSED or not version.parquet_name:
        raise ApplicationError(
            f"Version {version.number} of this trial's data is not parsed ({version.get_status_display()}).",
            code="not_parsed",
            status=409,
        )


def version_table(version: DatasetVersion, columns: list[str] | None = None) -> pa.Table:
    """The parsed table, or only `columns` of it (only those are read)."""
    _require_parsed(version)
    with storage.local_path(version.parquet_name) as path:
        return tables.read_typed(path, columns)


def version_column_names(version: DatasetVersion) -> list[str]:
    """The parsed table's column names, from the file's schema (no data is read)."""
    _require_parsed(version)
    with storage.local_path(version.parquet_name) as path:
        return tables.typed_column_names(path)


def version_head_table(version: DatasetVersion, rows: int) -> pa.Table:
    """The parsed table's first rows, without reading the rest."""
    _require_parsed(version)
    with storage.local_path(version.parquet_name) as path:
        return tables.typed_head(path, rows)


def version_unread(version: DatasetVersion, columns: list[str], rows: int | None = None) -> dict[str, pd.Series]:
    """For each of `columns` with values the parse could not read, that text (missing elsewhere), with the
    reason in the series' name: "a date (%d/%m/%Y)". Only the first `rows` rows when given."""
    _require_parsed(version)
    with storage.local_path(version.parquet_name) as path:
        unread = tables.read_unread(path, columns)
    if not unread:
        return {}
    entries = {entry.name: entry for entry in version.dictionary.filter(name__in=list(unread))}
    found = {}
    for name, values in unread.items():
        values = values.slice(0, rows) if rows is not None else values
        series = pd.Series(values.to_pandas(types_mapper=tables.PANDAS_TYPES.get))
        entry = entries.get(name)
        if entry is not None and entry.personal_data:
            # Flags travel with the harmonised table and the log: they name no one's date of birth.
            series = series.where(series.isna(), "(withheld: personal data)")
        series.name = _unread_reason(entry)
        found[name] = series
    return found


def _unread_reason(entry) -> str:
    if entry is None:
        return "its type"
    kind = {"integer": "a whole number", "number": "a number", "date": "a date", "datetime": "a date and time"}
    described = kind.get(entry.type, f"a {entry.type}")
    return f"{described} ({entry.source_format})" if entry.source_format else described


def version_frame(version: DatasetVersion, columns: list[str] | None = None) -> pd.DataFrame:
    """The parsed table: integers as Int64, text as string, booleans as boolean, dates as datetime64."""
    return tables.to_frame(version_table(version, columns))
