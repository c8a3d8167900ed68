"""Affected rows as CSV that a spreadsheet opens safely (text cells starting =, +, -, @ are escaped)."""

import csv
import io

import pandas as pd

from apps.checks.selectors import frame_records
from apps.harmonisation.csv_export import escape_cell


def rows_csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = list(frame.columns)
    writer.writerow([escape_cell(column) for column in columns])
    for record in frame_records(frame):
        writer.writerow([escape_cell(record[column]) for column in columns])
    return buffer.getvalue()
