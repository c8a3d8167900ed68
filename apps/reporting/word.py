"""The report draft as a Word document (python-docx), because reviews are written in Word. Every text passes
through `xml_safe`: a Word file is XML, and a title may hold characters XML cannot."""

import io

from docx import Document
from docx.shared import Cm, Pt

from apps.core.text import xml_safe
from apps.reporting.report import Report, Table


def _table(document, table: Table) -> None:
    document.add_paragraph(xml_safe(table.caption), style="Caption")
    grid = document.add_table(rows=1, cols=len(table.columns))
    grid.style = "Table Grid"
    for cell, text in zip(grid.rows[0].cells, table.columns, strict=True):
        cell.text = xml_safe(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in table.rows:
        cells = grid.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = xml_safe(str(text))
    if not table.rows:
        document.add_paragraph("No rows.")


def report_docx(report: Report) -> bytes:
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    for section in document.sections:
        section.left_margin = section.right_margin = Cm(2.2)
    document.add_heading(xml_safe(report.title), level=0)
    document.add_paragraph(f"{xml_safe(report.subtitle)} Generated {report.generated_at:%Y-%m-%d %H:%M %Z}.")
    for note in report.notes:
        document.add_paragraph(xml_safe(note), style="Intense Quote")
    for section in report.sections:
        document.add_heading(xml_safe(section.heading), level=1)
        for paragraph in section.paragraphs:
            document.add_paragraph(xml_safe(paragraph))
        for figure in section.figures:
            if figure.png:
                document.add_picture(io.BytesIO(figure.png), width=Cm(16))
                document.add_paragraph(xml_safe(figure.caption), style="Caption")
            else:
                document.add_paragraph(f"{xml_safe(figure.caption)}: no image (see the note above).", style="Caption")
        for table in section.tables:
            _table(document, table)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
