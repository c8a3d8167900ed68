"""What an agreement document is, decided from its content: a PDF, a Word document (doc, docx) or an
OpenDocument text (odt), whose content must agree with its name. Anything else, such as an HTML page named
.pdf or a macro-enabled Word file named .docx, is refused."""

import zipfile

OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
# The stream every Word 97-2003 document holds, as its name is written in the compound file's directory.
WORD_STREAM = "WordDocument".encode("utf-16-le")
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
HEAD_BYTES = 1024


def _read_all(handle) -> bytes:
    handle.seek(0)
    data = handle.read()
    handle.seek(0)
    return data


def _zip_kind(handle) -> str | None:
    try:
        handle.seek(0)
        with zipfile.ZipFile(handle) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                # A macro-enabled document (docm) renamed .docx carries a VBA project.
                return None if any(name.endswith("vbaProject.bin") for name in names) else "docx"
            if "mimetype" in names and archive.read("mimetype").strip() == ODT_MIMETYPE:
                return "odt"
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return None
    finally:
        handle.seek(0)
    return None


def document_kind(handle) -> str | None:
    """pdf, doc, docx or odt, from the content of a seekable binary file; None for anything else."""
    handle.seek(0)
    head = handle.read(HEAD_BYTES)
    handle.seek(0)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n\x00").startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(OLE2_MAGIC):
        return "doc" if WORD_STREAM in _read_all(handle) else None
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(handle)
    return None
