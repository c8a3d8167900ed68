"""Which kind of file this is, decided from its first bytes, never from its name."""

import io
import zipfile
from dataclasses import dataclass

from apps.datasets.models import DatasetVersion

Format = DatasetVersion.Format

SAS7BDAT_MAGIC = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")
XPORT_HEADER = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
XPORT_V8_HEADER = b"HEADER RECORD*******LIBV8   HEADER RECORD!!!!!!!"
# Old Stata files start with their format version (102-115), then the byte order (1 or 2) and the file type 1.
OLD_STATA_VERSIONS = set(range(102, 116))


@dataclass(frozen=True)
class Detection:
    format: str
    # Set when the file must be refused at upload: a format that can carry code, or an archive.
    refusal: str = ""


def _refuse(kind: str, advice: str) -> Detection:
    return Detection(Format.UNKNOWN, f"{kind} files are not accepted: {advice}")


EXPORT_ADVICE = "export the data as CSV, Excel (xlsx), SAS, Stata or SPSS and upload that file."


def _zip_detection(head: bytes, path: str | None) -> Detection:
    """An xlsx workbook is a ZIP holding [Content_Types].xml and an xl/ folder; any other ZIP is refused."""
    names: list[str] = []
    try:
        source = path if path is not None else io.BytesIO(head)
        with zipfile.ZipFile(source) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        # Only the head was given, or the archive is truncated: judge by the names in the local file headers
        # (a truncated workbook is then reported as damaged by its reader).
        if b"xl/" in head:
            return Detection(Format.XLSX)
        return _refuse("ZIP archive", "unpack it and upload the data file inside.")
    if "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names):
        return Detection(Format.XLSX)
    if "mimetype" in names and b"opendocument.spreadsheet" in head:
        return _refuse("OpenDocument spreadsheet (.ods)", "save the sheet as Excel (xlsx) or CSV and upload that.")
    if "word/document.xml" in names or b"opendocument.text" in head:
        return _refuse("Word-processor document", "participant data come as a table: " + EXPORT_ADVICE)
    return _refuse("ZIP archive", "unpack it and upload the data file inside.")


def _is_pickle(head: bytes) -> bool:
    # Protocol 2+ pickles start with PROTO (0x80) and the protocol number.
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _is_old_stata(head: bytes) -> bool:
    return len(head) >= 4 and head[0] in OLD_STATA_VERSIONS and head[1] in (1, 2) and head[2] == 1 and head[3] == 0


def looks_binary(head: bytes) -> bool:
    """NUL bytes or many control characters: not a text file in any encoding the app reads (or UTF-16)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    sample = head[:8192]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    return controls / len(sample) > 0.05


def detect_format(head: bytes, path: str | None = None) -> Detection:
    """Decide the format from the first bytes (at least 4 KB); `path` lets a ZIP be opened whole."""
    if head.startswith(b"PK\x03\x04"):
        return _zip_detection(head, path)
    if head[:32] == SAS7BDAT_MAGIC:
        return Detection(Format.SAS7BDAT)
    if head.startswith((XPORT_HEADER, XPORT_V8_HEADER)):
        return Detection(Format.XPORT)
    if head.startswith(b"<stata_dta>") or _is_old_stata(head):
        return Detection(Format.DTA)
    if head.startswith((b"$FL2", b"$FL3")):
        return Detection(Format.SAV)
    if head.startswith(b"PAR1"):
        return _refuse("Parquet", EXPORT_ADVICE)
    if _is_pickle(head):
        return _refuse("Python pickle", "they can run code when opened; " + EXPORT_ADVICE)
    if head.startswith(b"\x93NUMPY"):
        return _refuse("NumPy", EXPORT_ADVICE)
    if head.startswith((b"ARROW1", b"FEA1")):
        return _refuse("Arrow/Feather", EXPORT_ADVICE)
    if head.startswith(b"\x89HDF"):
        return _refuse("HDF5", EXPORT_ADVICE)
    if head.startswith((b"RDX2\n", b"RDX3\n", b"RDA2\n", b"RDA3\n", b"X\n")):
        return _refuse("R data", "they can hold code; " + EXPORT_ADVICE)
    if head.startswith(b"\x1f\x8b"):
        return _refuse("Compressed (gzip)", "decompress it and upload the data file.")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _refuse("Old Excel (.xls) and other OLE", "save the workbook as .xlsx and upload that.")
    if head.startswith(b"%PDF"):
        return _refuse("PDF", EXPORT_ADVICE)
    if looks_binary(head):
        return Detection(Format.BINARY)
    return _text_detection(head)


# Text that is a document, not a table of values: named by what it is, rather than read as one odd column.
MARKUP_KINDS = (
    (b"urn:schemas-microsoft-com:office:spreadsheet", "Excel 2003 XML spreadsheet", "save it as xlsx and upload that."),
    (b"<html", "HTML page", "save the table as Excel (xlsx) or CSV and upload that."),
    (b"<table", "HTML table", "save the table as Excel (xlsx) or CSV and upload that."),
)


def _text_detection(head: bytes) -> Detection:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for marker, kind, advice in MARKUP_KINDS:
        if marker.lower() in start[:4096] and start.startswith((b"<", b"<?xml")):
            return _refuse(kind, advice)
    if start.startswith((b"{", b"[{", b"[\n", b"[ ", b"[\r")):
        return _refuse("JSON", EXPORT_ADVICE)
    return Detection(Format.CSV)
