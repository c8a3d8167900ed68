"""The PRISMA-IPD flow diagram as SVG with real text, laid out like the published template: the main path down
the left column, the studies leaving it on the right, the analysed data side by side for each outcome. Each box
links to the trial list filtered to its trials. PNG and PDF are converted from the same SVG by cairosvg.
"""

import textwrap
from dataclasses import dataclass, field
from xml.sax.saxutils import escape as escape_markup
from xml.sax.saxutils import quoteattr as quote_markup

from apps.core.text import xml_safe


def escape(text: str) -> str:
    return escape_markup(xml_safe(text))


def quoteattr(text: str) -> str:
    return quote_markup(xml_safe(text))


WIDTH = 1000
SECTION_X, SECTION_W = 10, 34
MAIN_X, MAIN_W = 56, 500
SIDE_X, SIDE_W = 596, 394
HALF_W = (MAIN_W - 20) // 2
LINE = 16
PAD = 10
GAP = 34
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
CHAR_WIDTH = 6.6  # average advance of the 12 px font, to wrap lines without font metrics
MAX_REASONS = 8
MAX_INCOMPLETE = 12


@dataclass
class Rect:
    x: int
    y: int
    w: int
    h: int
    href: str
    title: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # (text, css class)

    @property
    def centre(self) -> float:
        return self.x + self.w / 2


def _number(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _wrap(text: str, width: int, css: str) -> list[tuple[str, str]]:
    chars = max(12, int((width - 2 * PAD) / CHAR_WIDTH))
    return [(line, css) for line in textwrap.wrap(text, chars) or [""]]


def _reason_lines(reasons: list[dict], width: int, unit: str = "") -> list[tuple[str, str]]:
    lines = []
    for reason in reasons[:MAX_REASONS]:
        lines += _wrap(f"{reason['reason']} ({_number(reason['n'])}{unit})", width, "reason")
    if len(reasons) > MAX_REASONS:
        others = sum(reason["n"] for reason in reasons[MAX_REASONS:])
        lines += _wrap(f"{len(reasons) - MAX_REASONS} other reasons ({_number(others)}{unit})", width, "reason")
    return lines


def _box_lines(box: dict, width: int) -> list[tuple[str, str]]:
    lines = _wrap(box["label"], width, "label")
    count = f"Studies: {_number(box['studies'])}"
    if box["id"] in ("ipd_provided", "ipd_not_provided", "aggregate_available", "ipd_pending"):
        count += f" · participants: {_number(box['participants'])}"
    lines += _wrap(count, width, "count")
    if box["id"] == "ipd_provided":
        no_data = box.get("participants_no_data") or 0
        lines += _wrap(f"Participants for whom no IPD were provided: {_number(no_data)}", width, "count")
        lines += _reason_lines(box["reasons"], width, " participants")
    else:
        lines += _reason_lines(box["reasons"], width)
    return lines


def _height(lines) -> int:
    return 2 * PAD + LINE * len(lines)


class Layout:
    def __init__(self):
        self.rects: list[Rect] = []
        self.arrows: list[tuple[float, float, float, float]] = []
        self.lines: list[tuple[float, float, float, float]] = []  # segments without a head
        self.sections: list[tuple[str, int, int]] = []
        self.texts: list[tuple[float, float, str, str]] = []

    def box(self, x, y, w, box: dict, href: str) -> Rect:
        lines = _box_lines(box, w)
        title = f"{box['label']}: {box['studies']} studies"
        rect = Rect(x, y, w, _height(lines), href, title, lines)
        self.rects.append(rect)
        return rect

    def section(self, label: str, top: int, y: int) -> int:
        """Close a section at `y` (the next free height): its band must be tall enough for its label."""
        bottom = max(y - GAP, top + int(len(label) * 7.4) + 16)
        self.sections.append((label, top, bottom))
        return bottom + GAP

    def down(self, upper: Rect, lower: Rect, x: float | None = None) -> None:
        """An arrow from the upper box down to the lower one: at the lower box' centre when the upper box spans
        it (one box feeding two), else at the upper box' centre (two boxes feeding one)."""
        if x is None:
            x = lower.centre if upper.x <= lower.centre <= upper.x + upper.w else upper.centre
        self.arrows.append((x, upper.y + upper.h, x, lower.y))

    def right(self, left: Rect, right: Rect) -> None:
        y = left.y + min(left.h, right.h) / 2
        self.arrows.append((left.x + left.w, y, right.x, y))


def _analysed_lines(side: dict, label: str, width: int) -> list[tuple[str, str]]:
    lines = _wrap(label, width, "label")
    lines += _wrap(f"Studies included: {_number(side['studies'])}", width, "count")
    lines += _wrap(f"Participants included: {_number(side['participants'])}", width, "count")
    excluded = side.get("participants_excluded") or []
    total = sum(item["n"] for item in excluded)
    lines += _wrap(f"Participants excluded: {_number(total)}", width, "count")
    lines += _reason_lines(excluded, width)
    studies_out = side.get("studies_excluded") or []
    if studies_out:
        lines += _wrap(f"Studies excluded: {len(studies_out)}", width, "count")
        reasons: dict[str, int] = {}
        for item in studies_out:
            reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
        lines += _reason_lines([{"reason": r, "n": n} for r, n in reasons.items()], width)
    if side.get("note"):
        lines += _wrap(side["note"], width, "reason")
    return lines


def layout(data: dict, href) -> tuple[Layout, int]:
    """Boxes, arrows and section bands; `href(filter_value)` gives each box's trial-list link."""
    boxes = {box["id"]: box for box in data["boxes"]}
    out = Layout()
    y = 20
    top = y
    database = out.box(MAIN_X, y, HALF_W, boxes["identified_database"], href("identified_database"))
    other = out.box(MAIN_X + MAIN_W - HALF_W, y, HALF_W, boxes["identified_other"], href("identified_other"))
    database.h = other.h = max(database.h, other.h)
    y += database.h + GAP
    after = out.box(MAIN_X, y, MAIN_W, boxes["after_duplicates"], href("after_duplicates"))
    out.down(database, after)
    out.down(other, after)
    y += after.h + GAP
    y = out.section("Identification", top, y)

    top = y
    screened = out.box(MAIN_X, y, MAIN_W, boxes["screened"], href("screened"))
    excluded = out.box(SIDE_X, y, SIDE_W, boxes["excluded"], href("excluded"))
    out.down(after, screened)
    out.right(screened, excluded)
    y += max(screened.h, excluded.h) + GAP
    y = out.section("Screening", top, y)

    top = y
    sought = out.box(MAIN_X, y, MAIN_W, boxes["ipd_sought"], href("ipd_sought"))
    not_sought = out.box(SIDE_X, y, SIDE_W, boxes["ipd_not_sought"], href("ipd_not_sought"))
    out.down(screened, sought)
    out.right(sought, not_sought)
    y += max(sought.h, not_sought.h) + GAP
    y = out.section("Obtaining data", top, y)

    top = y
    pending_box = boxes.get("ipd_pending")
    width = HALF_W if pending_box else MAIN_W
    provided = out.box(MAIN_X, y, width, boxes["ipd_provided"], href("ipd_provided"))
    not_provided = out.box(SIDE_X, y, SIDE_W, boxes["ipd_not_provided"], href("ipd_not_provided"))
    out.down(sought, provided)
    if pending_box:
        pending = out.box(MAIN_X + MAIN_W - HALF_W, y, HALF_W, pending_box, href("ipd_pending"))
        provided.h = pending.h = max(provided.h, pending.h)
        out.down(sought, pending)
    # Sought -> not provided: down the gutter between the columns, then across.
    gutter = (MAIN_X + MAIN_W + SIDE_X) / 2
    out.lines.append((gutter, sought.y + min(sought.h, not_sought.h) / 2, gutter, y + 24))
    out.arrows.append((gutter, y + 24, SIDE_X, y + 24))
    below = y + not_provided.h + GAP
    aggregate = out.box(SIDE_X, below, SIDE_W, boxes["aggregate_available"], href("aggregate_available"))
    out.down(not_provided, aggregate)
    y = max(provided.y + provided.h, aggregate.y + aggregate.h) + GAP
    last_main = provided
    y = out.section("Available data", top, y)

    top = y
    for entry in data["analysed"]:
        out.texts.append((MAIN_X, y + 12, f"{entry['outcome']}", "outcome"))
        y += 22
        if entry["ipd"] is None:
            note = Rect(MAIN_X, y, MAIN_W + SIDE_X - MAIN_X - MAIN_W + SIDE_W, 0, "", entry["note"])
            note.lines = _wrap(entry["note"], note.w, "reason")
            note.h = _height(note.lines)
            out.rects.append(note)
            y += note.h + GAP
            continue
        analysis = entry["analysis"]["name"]
        ipd = Rect(MAIN_X, y, MAIN_W, 0, href(f"analysed-{entry['outcome_id']}-ipd"), "")
        ipd.lines = _analysed_lines(entry["ipd"], f"IPD ({analysis})", MAIN_W)
        ipd.title = f"{entry['outcome']}, IPD analysed: {entry['ipd']['studies']} studies"
        aggregate_side = Rect(SIDE_X, y, SIDE_W, 0, href(f"analysed-{entry['outcome_id']}-aggregate"), "")
        aggregate_side.lines = _analysed_lines(entry["aggregate"], "Aggregate data", SIDE_W)
        aggregate_side.title = f"{entry['outcome']}, aggregate data analysed: {entry['aggregate']['studies']} studies"
        ipd.h = aggregate_side.h = max(_height(ipd.lines), _height(aggregate_side.lines))
        out.rects += [ipd, aggregate_side]
        if last_main is not None:
            out.down(last_main, ipd, x=MAIN_X + 40)
            last_main = None
        y += ipd.h + GAP
    if data["analysed"]:
        y = out.section("Analysed data", top, y)

    incomplete = data["incomplete"]
    if incomplete:
        note = Rect(MAIN_X, y, SIDE_X + SIDE_W - MAIN_X, 0, href("incomplete"), "Incomplete records")
        note.lines = _wrap(
            f"Incomplete records: {len(incomplete)} (each trial is counted in the boxes its record allows; "
            "complete the record to place it)",
            note.w,
            "label",
        )
        for item in incomplete[:MAX_INCOMPLETE]:
            note.lines += _wrap(f"{item['label']}: {item['problem']}", note.w, "reason")
        if len(incomplete) > MAX_INCOMPLETE:
            note.lines += _wrap(f"and {len(incomplete) - MAX_INCOMPLETE} more (see the list)", note.w, "reason")
        note.h = _height(note.lines)
        out.rects.append(note)
        y += note.h + GAP
    return out, y


def _text(rect: Rect) -> str:
    parts = []
    for i, (line, css) in enumerate(rect.lines):
        parts.append(f'<text x="{rect.x + PAD}" y="{rect.y + PAD + 12 + i * LINE}" class="{css}">{escape(line)}</text>')
    return "".join(parts)


STYLE = (
    f"text{{font-family:{FONT};font-size:12px;fill:#1f2933}}"
    ".label{font-weight:bold}.reason{fill:#3e4c59}.count{fill:#1f2933}"
    ".outcome{font-weight:bold;font-size:13px}.section{font-weight:bold;fill:#ffffff;font-size:12px}"
    ".box{fill:#ffffff;stroke:#52606d;stroke-width:1.2}.note{fill:#fff8e6;stroke:#b7791f;stroke-width:1.2}"
    ".band{fill:#2f6f8f}.arrow{stroke:#52606d;stroke-width:1.4;fill:none}"
    "a:hover .box,a:focus .box{fill:#eef6fb;stroke:#2f6f8f;stroke-width:2}"
)


def render_svg(data: dict, href, *, title: str, description: str, id_prefix: str = "prisma") -> str:
    """The diagram as a standalone SVG document."""
    out, height = layout(data, href)
    body = []
    for label, top, bottom in out.sections:
        middle = (top + bottom) / 2
        body.append(
            f'<rect class="band" x="{SECTION_X}" y="{top}" width="{SECTION_W}" height="{bottom - top}" rx="4"/>'
            f'<text class="section" text-anchor="middle" transform="translate({SECTION_X + SECTION_W / 2 + 4},'
            f'{middle}) rotate(-90)">{escape(label)}</text>'
        )
    for x1, y1, x2, y2 in out.arrows:
        if (x1, y1) != (x2, y2):
            body.append(
                f'<line class="arrow" x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2 - 2:g}" '
                f'marker-end="url(#{id_prefix}-head)"/>'
                if y2 > y1
                else f'<line class="arrow" x1="{x1:g}" y1="{y1:g}" x2="{x2 - 2:g}" y2="{y2:g}" '
                f'marker-end="url(#{id_prefix}-head)"/>'
            )
    for x1, y1, x2, y2 in out.lines:
        body.append(f'<line class="arrow" x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}"/>')
    for x, y, text, css in out.texts:
        body.append(f'<text x="{x}" y="{y}" class="{css}">{escape(text)}</text>')
    for rect in out.rects:
        css = "note" if rect.title == "Incomplete records" or not rect.href else "box"
        shape = f'<rect class="{css}" x="{rect.x}" y="{rect.y}" width="{rect.w}" height="{rect.h}" rx="3"/>'
        content = shape + _text(rect)
        if rect.href:
            content = f"<a href={quoteattr(rect.href)}><title>{escape(rect.title)}</title>{content}</a>"
        body.append(content)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="group" aria-labelledby="{id_prefix}-title {id_prefix}-desc">'
        f'<title id="{id_prefix}-title">{escape(title)}</title>'
        f'<desc id="{id_prefix}-desc">{escape(description)}</desc>'
        f"<style>{STYLE}</style>"
        f'<defs><marker id="{id_prefix}-head" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z" fill="#52606d"/></marker></defs>'
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>' + "".join(body) + "</svg>\n"
    )


def describe(data: dict) -> str:
    """A sentence per box for screen readers (the SVG's description)."""
    parts = []
    for box in data["boxes"]:
        reasons = "; ".join(f"{reason['reason']} ({reason['n']})" for reason in box["reasons"])
        parts.append(f"{box['label']}: {box['studies']}" + (f" ({reasons})" if reasons else "") + ".")
    for entry in data["analysed"]:
        if entry["ipd"]:
            parts.append(
                f"{entry['outcome']}: IPD from {entry['ipd']['studies']} studies and {entry['ipd']['participants']} "
                f"participants; aggregate data from {entry['aggregate']['studies']} studies."
            )
    if data["incomplete"]:
        parts.append(f"{len(data['incomplete'])} incomplete records.")
    return " ".join(parts)


def to_png(svg: str, *, scale: float = 2.0) -> bytes:
    import cairosvg  # loaded on demand: it needs the cairo library, which only downloads use

    return cairosvg.svg2png(bytestring=svg.encode(), scale=scale, unsafe=False)


def to_pdf(svg: str) -> bytes:
    import cairosvg

    return cairosvg.svg2pdf(bytestring=svg.encode(), unsafe=False)
