"""Reads for reporting: the PRISMA-IPD flow diagram's data, SVG and CSV; the trial-list filter of its boxes."""

from collections import Counter

from django.urls import reverse

from apps.analyses.models import AnalysisRun
from apps.harmonisation.csv_export import to_csv
from apps.reporting import access, analysed, checklist, diagram, prisma
from apps.reporting.models import ChecklistEntry
from apps.reviews.models import Review
from apps.trials.list_filters import ListFilter

ANALYSED_PREFIX = "analysed-"


def prisma_ipd(review: Review) -> dict:
    """Every box with its studies, participants, reasons and trials; the analysed data per outcome; the template's
    arithmetic; and the incomplete records. The pending box is left out when it is empty."""
    flow = prisma.flow(review)
    boxes = [box.as_data() for box in flow.boxes.values() if box.id != "ipd_pending" or box.studies]
    return {
        "boxes": boxes,
        "analysed": analysed.analysed(review),
        "arithmetic": prisma.arithmetic(flow),
        "incomplete": flow.incomplete,
        "lists": {name: len(ids) for name, ids in prisma.extra_filters(flow).items()},
    }


def trial_list_url(review: Review, value: str) -> str:
    return f"{reverse('dashboard:trial-list', args=[review.pk])}?prisma={value}"


def diagram_title(review: Review) -> str:
    return f"PRISMA-IPD flow diagram: {review.title}"


def prisma_svg(review: Review, data: dict | None = None, *, id_prefix: str = "prisma") -> str:
    data = data if data is not None else prisma_ipd(review)
    return diagram.render_svg(
        data,
        lambda value: trial_list_url(review, value),
        title=diagram_title(review),
        description=diagram.describe(data),
        id_prefix=id_prefix,
    )


CSV_COLUMNS = ["section", "box", "label", "studies", "participants", "participants_no_data", "reasons"]


def _reasons_text(reasons: list[dict]) -> str:
    return "; ".join(f"{reason['reason']} ({reason['n']})" for reason in reasons)


def prisma_csv(review: Review, data: dict | None = None) -> str:
    """The counts of every box, the analysed data, and the incomplete records, one row each."""
    data = data if data is not None else prisma_ipd(review)
    rows = [
        {
            "section": box["section"],
            "box": box["id"],
            "label": box["label"],
            "studies": box["studies"],
            "participants": box["participants"],
            "participants_no_data": box.get("participants_no_data"),
            "reasons": _reasons_text(box["reasons"]),
        }
        for box in data["boxes"]
    ]
    for entry in data["analysed"]:
        for side in ("ipd", "aggregate"):
            block = entry[side]
            if block is None:
                continue
            studies_out = [{"reason": f"study: {item['reason']}", "n": 1} for item in block["studies_excluded"]]
            rows.append(
                {
                    "section": prisma.ANALYSED,
                    "box": f"analysed-{entry['outcome_id']}-{side}",
                    "label": f"{entry['outcome']}: {'IPD' if side == 'ipd' else 'aggregate data'}",
                    "studies": block["studies"],
                    "participants": block["participants"],
                    "participants_no_data": sum(item["n"] for item in block["participants_excluded"]),
                    "reasons": _reasons_text(block["participants_excluded"] + studies_out),
                }
            )
    if data["incomplete"]:
        rows.append(
            {
                "section": "Incomplete records",
                "box": "incomplete",
                "label": "Trials whose record lacks what a box needs",
                "studies": len({item["trial"] for item in data["incomplete"]}),
                "reasons": "; ".join(f"{item['label']}: {item['problem']}" for item in data["incomplete"]),
            }
        )
    return to_csv(rows, CSV_COLUMNS)


def _analysed_filter(review: Review, value: str) -> tuple[str, list[int]] | None:
    """'analysed-<outcome id>-ipd' or '-aggregate': the trials of that analysed box."""
    parts = value[len(ANALYSED_PREFIX) :].split("-")
    if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in ("ipd", "aggregate"):
        return None
    for entry in analysed.analysed(review):
        if entry["outcome_id"] == int(parts[0]) and entry[parts[1]] is not None:
            side = "IPD" if parts[1] == "ipd" else "aggregate data"
            return f"{entry['outcome']}: {side} analysed", entry[parts[1]]["trials"]
    return None


EXTRA_LABELS = {
    "identified": "studies identified",
    "duplicates": "duplicates removed",
    "incomplete": "incomplete records",
    "not_screened": "studies not screened yet",
}


def trial_filter(review: Review, value: str, user) -> ListFilter | None:
    """The trial list's ?prisma= filter: the trials of one box (or of the diagram's other lists). Only for those
    who may read the diagram: its counts are over the whole review, and its analysed boxes over the analyses."""
    if not access.can_read_reporting(user, review):
        return None
    back = reverse("reporting:prisma", args=[review.pk])
    if value.startswith(ANALYSED_PREFIX):
        found = _analysed_filter(review, value)
        if found is None:
            return None
        label, ids = found
        return ListFilter(f"PRISMA-IPD: {label} ({len(ids)})", frozenset(ids), back)
    flow = prisma.flow(review)
    if value in prisma.BOX_IDS:
        box = flow.boxes[value]
        return ListFilter(f"PRISMA-IPD: {box.label} ({box.studies})", frozenset(box.trials), back)
    extra = prisma.extra_filters(flow)
    if value in extra:
        return ListFilter(f"PRISMA-IPD: {EXTRA_LABELS[value]} ({len(extra[value])})", frozenset(extra[value]), back)
    return None


# --------------------------------------------------------------------------------------------------- checklist


def checklist_facts(review: Review) -> checklist.Facts:
    from apps.analyses.models import Analysis, RunKind, RunState
    from apps.checks.models import CheckRun, Finding
    from apps.trials.models import Agreement, Trial
    from apps.trials.selectors import review_response_rate

    sources = Counter(Trial.objects.filter(review=review).values_list("identified_via", flat=True))
    rate = review_response_rate(review)
    signed = Agreement.objects.filter(trial__review=review, status=Agreement.Status.SIGNED)
    findings = Finding.objects.filter(trial__review=review)
    succeeded = {
        (analysis_id, kind)
        for analysis_id, kind in AnalysisRun.objects.filter(review=review, state=RunState.SUCCEEDED).values_list(
            "analysis_id", "kind"
        )
    }
    analyses = [
        (
            analysis.pk,
            analysis.name,
            (analysis.pk, RunKind.ANALYSIS) in succeeded,
            analysis.interaction.name if analysis.interaction_id else "",
            (analysis.pk, RunKind.SENSITIVITY) in succeeded,
        )
        for analysis in Analysis.objects.filter(review=review).select_related("interaction").order_by("name", "id")
    ]
    return checklist.Facts(
        registration=review.registration,
        identified_database=sources.get(Trial.IdentifiedVia.DATABASE, 0),
        identified_other=sources.get(Trial.IdentifiedVia.OTHER, 0),
        contacted=rate["contacted"],
        responded=rate["responded"],
        agreements_signed=signed.count(),
        data_may_leave=signed.filter(data_may_leave_platform=True).count(),
        trials_checked=CheckRun.objects.filter(review=review, state=CheckRun.State.SUCCEEDED)
        .values("trial_id")
        .distinct()
        .count(),
        issues=findings.count(),
        issues_resolved=findings.filter(status=Finding.Status.RESOLVED).count(),
        analyses=analyses,
    )


def checklist_items(review: Review) -> list[dict]:
    """Every item in the checklist's order, with its stored status, location and note and its evidence links."""
    entries = {entry.item: entry for entry in ChecklistEntry.objects.filter(review=review).select_related("updated_by")}
    links = checklist.evidence(review, checklist_facts(review))
    items = []
    for item in checklist.ITEMS:
        entry = entries.get(item.item)
        items.append(
            {
                "item": item.item,
                "section": item.section,
                "title": item.title,
                "status": entry.status if entry else checklist.NOT_STARTED,
                "status_label": checklist.STATUS_LABELS[entry.status if entry else checklist.NOT_STARTED],
                "location": entry.location if entry else "",
                "note": entry.note if entry else "",
                "evidence": links.get(item.item, []),
                "updated_by": entry.updated_by.get_username() if entry and entry.updated_by else None,
                "updated_at": entry.updated_at if entry else None,
            }
        )
    return items


def checklist_completion(review: Review) -> dict:
    stored = dict(ChecklistEntry.objects.filter(review=review).values_list("item", "status"))
    return checklist.completion([stored.get(item, checklist.NOT_STARTED) for item in checklist.ITEM_IDS])


CHECKLIST_COLUMNS = ["item", "section", "title", "status", "location", "note", "evidence", "updated_by", "updated_at"]


def checklist_csv(review: Review, items: list[dict] | None = None) -> str:
    items = items if items is not None else checklist_items(review)
    rows = [
        {
            **item,
            "status": item["status_label"],
            "evidence": "; ".join(
                f"{link['label']}: {link['url']}" + (f" ({link['detail']})" if link["detail"] else "")
                for link in item["evidence"]
            ),
            "updated_at": item["updated_at"].isoformat() if item["updated_at"] else "",
        }
        for item in items
    ]
    return to_csv(rows, CHECKLIST_COLUMNS)
