"""Write the SAS7BDAT fixtures of this folder; run it again only to change them, the tests read the committed files.

    apt-get install -y readstat          # the ReadStat library (libreadstat1) and its command-line tool
    .venv/bin/python tests/data/sas/make_fixtures.py

pyreadstat reads SAS7BDAT but cannot write it, and the `readstat` command converts a .dta or .sav to SAS7BDAT
without carrying the display formats over (the converted dates are bare day counts, the Stata datetimes bare
millisecond counts). So this script calls the writer of the same ReadStat library, which the command installs,
through ctypes: it sets the SAS formats (DATE9, YYMMDD10, DATETIME20, ...), the labels, the special missing value
.A and the row compression (COMPRESS=CHAR, SAS's run-length encoding; the library cannot write SAS's binary
compression). Every file is then checked: its magic number, the `readstat` command's description of it, and
pyreadstat reading back the values written.

trial.sas7bdat          UTF-8, uncompressed (two data pages: a cut through them leaves a damaged file)
trial_rle.sas7bdat      the same rows, row-compressed
trial_wlatin1.sas7bdat  the same rows in Windows-1252, the encoding SAS on Windows writes (the library writes
                        UTF-8 only: the text is passed as Windows-1252 bytes and the header's encoding byte set)
"""

import ctypes
import datetime
import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAS7BDAT_MAGIC = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")
SAS_EPOCH = datetime.datetime(1960, 1, 1)
# The header byte naming the text's encoding, and the codes SAS uses for UTF-8 and Windows-1252 ("wlatin1").
ENCODING_OFFSET = 70
ENCODING_CODES = {"utf-8": 20, "cp1252": 62}
# A fixed timestamp, so that running the script again writes the same bytes.
CREATED = datetime.datetime(2024, 3, 1, 9, 0, tzinfo=datetime.UTC)

TYPE_STRING, TYPE_DOUBLE = 0, 5
COMPRESS_NONE, COMPRESS_ROWS = 0, 1
MISSING = None


@dataclass(frozen=True)
class Special:
    """A SAS special missing value (.A to .Z): a reason the value is absent, read as missing."""

    letter: str


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    format: str
    values: list
    width: int = 0  # bytes, for text variables

    @property
    def is_text(self) -> bool:
        return self.width > 0


LONG_COMMENT = (
    "Participant moved from the Zürich centre to Köln after the second visit; "
    + "the follow-up visits were done by telephone and the diary was posted back each month. " * 7
).strip()

VARIABLES = [
    Variable("SUBJID", "Participant identifier", "$8.", ["007", "012", "103", "2040", "0500", "981"], width=8),
    Variable("ARM", "Randomised arm", "ARMF", [1, 2, 1, 2, 2, 1]),
    Variable("AGE", "Age at randomisation (years)", "8.2", [34.5, 51.0, MISSING, 67.25, Special("A"), 45.0]),
    Variable("VISITS", "Number of visits attended", "BEST12", [3, 0, 12, 5, 7, 1]),
    Variable(
        "RANDDT",
        "Date of randomisation",
        "DATE9",
        [
            datetime.date(2020, 1, 5),
            datetime.date(2020, 2, 1),
            datetime.date(2020, 3, 9),
            datetime.date(2019, 12, 31),
            datetime.date(2020, 6, 30),
            MISSING,
        ],
    ),
    Variable(
        "BRTHDT",
        "Date of birth",
        "YYMMDD10",
        [
            datetime.date(1985, 7, 14),
            datetime.date(1969, 2, 28),
            datetime.date(1958, 11, 30),
            datetime.date(1952, 1, 1),
            datetime.date(1975, 5, 5),
            datetime.date(1980, 10, 10),
        ],
    ),
    Variable(
        "VISITDTM",
        "Date and time of the first visit",
        "DATETIME20",
        [
            datetime.datetime(2020, 1, 5, 9, 30),
            datetime.datetime(2020, 2, 1, 14, 0, 15),
            MISSING,
            datetime.datetime(2020, 1, 2, 8, 0),
            datetime.datetime(2020, 7, 1, 23, 59, 59),
            datetime.datetime(2020, 3, 10, 7, 15),
        ],
    ),
    Variable("CENTRE", "Recruiting centre", "$20.", ["Zürich", "São Paulo", "Málaga", "", "Lyon", "Köln"], width=20),
    Variable("COMMENT", "Investigator's comment", "$1000.", ["", "Withdrew consent", LONG_COMMENT, "", "", ""], 1000),
]
N_ROWS = 6


def _library() -> ctypes.CDLL:
    try:
        library = ctypes.CDLL("libreadstat.so.1")
    except OSError:
        sys.exit("The ReadStat library is missing: apt-get install -y readstat")
    pointer = ctypes.c_void_p
    signatures = {
        "readstat_writer_init": ([], pointer),
        "readstat_writer_free": ([pointer], None),
        "readstat_set_data_writer": ([pointer, pointer], ctypes.c_int),
        "readstat_writer_set_file_label": ([pointer, ctypes.c_char_p], ctypes.c_int),
        "readstat_writer_set_table_name": ([pointer, ctypes.c_char_p], ctypes.c_int),
        "readstat_writer_set_file_timestamp": ([pointer, ctypes.c_long], ctypes.c_int),
        "readstat_writer_set_compression": ([pointer, ctypes.c_int], ctypes.c_int),
        "readstat_add_variable": ([pointer, ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t], pointer),
        "readstat_variable_set_label": ([pointer, ctypes.c_char_p], None),
        "readstat_variable_set_format": ([pointer, ctypes.c_char_p], None),
        "readstat_begin_writing_sas7bdat": ([pointer, pointer, ctypes.c_long], ctypes.c_int),
        "readstat_begin_row": ([pointer], ctypes.c_int),
        "readstat_insert_double_value": ([pointer, pointer, ctypes.c_double], ctypes.c_int),
        "readstat_insert_string_value": ([pointer, pointer, ctypes.c_char_p], ctypes.c_int),
        "readstat_insert_missing_value": ([pointer, pointer], ctypes.c_int),
        "readstat_insert_tagged_missing_value": ([pointer, pointer, ctypes.c_char], ctypes.c_int),
        "readstat_end_row": ([pointer], ctypes.c_int),
        "readstat_end_writing": ([pointer], ctypes.c_int),
        "readstat_error_message": ([ctypes.c_int], ctypes.c_char_p),
    }
    for name, (arguments, result) in signatures.items():
        function = getattr(library, name)
        function.argtypes, function.restype = arguments, result
    return library


DATA_WRITER = ctypes.CFUNCTYPE(ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)


def _sas_number(value) -> float:
    """Dates are days since 1 January 1960, datetimes seconds since then."""
    if isinstance(value, datetime.datetime):
        return (value - SAS_EPOCH).total_seconds()
    if isinstance(value, datetime.date):
        return float((value - SAS_EPOCH.date()).days)
    return float(value)


def write_sas7bdat(path: Path, *, compression: int, encoding: str) -> None:
    library = _library()
    output = bytearray()

    @DATA_WRITER
    def collect(data, length, _context):
        output.extend(ctypes.string_at(data, length))
        return length

    def check(error: int, step: str) -> None:
        if error:
            raise RuntimeError(f"{step}: {library.readstat_error_message(error).decode()}")

    def text(value: str) -> bytes:
        return value.encode(encoding)

    writer = library.readstat_writer_init()
    try:
        check(library.readstat_set_data_writer(writer, collect), "data writer")
        check(library.readstat_writer_set_file_label(writer, text("Exercise trial, baseline")), "file label")
        check(library.readstat_writer_set_table_name(writer, b"BASELINE"), "table name")
        check(library.readstat_writer_set_file_timestamp(writer, int(CREATED.timestamp())), "timestamp")
        check(library.readstat_writer_set_compression(writer, compression), "compression")
        handles = []
        for variable in VARIABLES:
            kind = TYPE_STRING if variable.is_text else TYPE_DOUBLE
            handle = library.readstat_add_variable(writer, variable.name.encode(), kind, variable.width)
            library.readstat_variable_set_label(handle, text(variable.label))
            library.readstat_variable_set_format(handle, variable.format.encode())
            handles.append(handle)
        check(library.readstat_begin_writing_sas7bdat(writer, None, N_ROWS), "begin")
        for row in range(N_ROWS):
            check(library.readstat_begin_row(writer), f"row {row}")
            for variable, handle in zip(VARIABLES, handles, strict=True):
                value = variable.values[row]
                if variable.is_text:
                    error = library.readstat_insert_string_value(writer, handle, text(value))
                elif value is MISSING:
                    error = library.readstat_insert_missing_value(writer, handle)
                elif isinstance(value, Special):
                    error = library.readstat_insert_tagged_missing_value(writer, handle, value.letter.encode())
                else:
                    error = library.readstat_insert_double_value(writer, handle, _sas_number(value))
                check(error, f"row {row}, {variable.name}")
            check(library.readstat_end_row(writer), f"row {row}")
        check(library.readstat_end_writing(writer), "end")
    finally:
        library.readstat_writer_free(writer)
    output[ENCODING_OFFSET] = ENCODING_CODES[encoding]
    path.write_bytes(bytes(output))


def _expected(variable: Variable, value):
    if variable.is_text or value is MISSING or isinstance(value, Special):
        return value
    return value if isinstance(value, datetime.date) else float(value)


def verify(path: Path, encoding_name: str) -> None:
    """The magic number, the command-line tool's description, and every value read back by pyreadstat."""
    import pandas as pd
    import pyreadstat

    content = path.read_bytes()
    assert content[:32] == SAS7BDAT_MAGIC, f"{path.name} does not start with the SAS7BDAT magic number"
    description = subprocess.run(["readstat", str(path)], check=True, capture_output=True, text=True).stdout
    assert "Format: SAS data file (SAS7BDAT)" in description, description
    assert f"Text encoding: {encoding_name}" in description, description
    frame, meta = pyreadstat.read_sas7bdat(str(path))
    assert meta.file_encoding == encoding_name
    assert list(frame.columns) == [variable.name for variable in VARIABLES]
    assert meta.column_labels == [variable.label for variable in VARIABLES]
    for variable in VARIABLES:
        read = frame[variable.name].tolist()
        for row, (got, written) in enumerate(zip(read, variable.values, strict=True)):
            expected = _expected(variable, written)
            if expected is MISSING or isinstance(expected, Special):
                assert pd.isna(got), (path.name, variable.name, row, got)
            elif isinstance(expected, datetime.datetime):
                assert pd.Timestamp(got) == pd.Timestamp(expected), (path.name, variable.name, row, got)
            else:
                assert got == expected, (path.name, variable.name, row, got, expected)
    print(f"{path.name}: {len(content):,} bytes, sha256 {hashlib.sha256(content).hexdigest()}")


def main() -> None:
    # The library turns the timestamp into the header's date through the local time zone.
    os.environ["TZ"] = "UTC"
    time.tzset()
    fixtures = [
        ("trial.sas7bdat", COMPRESS_NONE, "utf-8", "UTF-8"),
        ("trial_rle.sas7bdat", COMPRESS_ROWS, "utf-8", "UTF-8"),
        ("trial_wlatin1.sas7bdat", COMPRESS_NONE, "cp1252", "WINDOWS-1252"),
    ]
    for name, compression, encoding, encoding_name in fixtures:
        write_sas7bdat(HERE / name, compression=compression, encoding=encoding)
        verify(HERE / name, encoding_name)


if __name__ == "__main__":
    main()
