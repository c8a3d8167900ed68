"""The PRISMA-IPD flow diagram's numbers, computed from the trial records and the analysis runs.

Every trial of the review falls in exactly one place of the flow (a leaf): a duplicate, not screened yet,
excluded, IPD not sought, eligible with no decision on seeking IPD, IPD provided, not provided, pending, or
sought but left the path with no record of the outcome. The boxes are unions of leaves, so the template's
arithmetic holds by construction, and a trial whose record lacks what its box needs is listed as an incomplete
record (with the reason) instead of being dropped. One query reads the fields of every trial; the trial list's
`?prisma=` filter uses the same classification, so a box's count always equals the rows of its list.
"""

from collections import Counter
from dataclasses import dataclass, field

from apps.trials import lifecycle
from apps.trials.models import Trial

IDENTIFICATION, SCREENING, OBTAINING, AVAILABLE, ANALYSED = (
    "Identification",
    "Screening",
    "Obtaining data",
    "Available data",
    "Analysed data",
)


@dataclass(frozen=True)
class BoxDefinition:
    id: str
    label: str
    section: str
    leaves: frozenset[str] = frozenset()


# Wording paraphrased from the published template; the ids are stable (API, CSV, trial-list filter).
BOXES = (
    BoxDefinition("identified_database", "Studies identified through database searching", IDENTIFICATION),
    BoxDefinition(
        "identified_other", "Studies identified through other sources, including contact with researchers",
        IDENTIFICATION,
    ),
    BoxDefinition("after_duplicates", "Studies after duplicates removed", IDENTIFICATION),
    BoxDefinition("screened", "Studies screened", SCREENING),
    BoxDefinition("excluded", "Studies excluded, with reasons", SCREENING, frozenset({"excluded"})),
    BoxDefinition(
        "ipd_sought", "Studies for which IPD were sought", OBTAINING,
        frozenset({"provided", "not_provided", "pending", "sought_exit"}),
    ),
    BoxDefinition(
        "ipd_not_sought", "Eligible studies for which IPD were not sought, with reasons", OBTAINING,
        frozenset({"not_sought"}),
    ),
    BoxDefinition("ipd_provided", "Studies for which IPD were provided", AVAILABLE, frozenset({"provided"})),
    BoxDefinition(
        "ipd_not_provided", "Studies for which IPD were not provided, with reasons", AVAILABLE,
        frozenset({"not_provided"}),
    ),
    BoxDefinition(
        "aggregate_available", "Studies without IPD for which aggregate data were available", AVAILABLE,
        frozenset({"not_provided"}),
    ),
    BoxDefinition("ipd_pending", "Studies whose IPD are still pending", AVAILABLE, frozenset({"pending"})),
)  # fmt: skip
BOX_IDS = tuple(box.id for box in BOXES)
SCREENED_LEAVES = frozenset(
    {"excluded", "not_sought", "eligible_undecided", "provided", "not_provided", "pending", "sought_exit"}
)

FIELDS = (
    "id",
    "registry_id",
    "title",
    "status",
    "identified_via",
    "is_duplicate",
    "screening_decision",
    "exclusion_reason",
    "ipd_sought",
    "ipd_not_sought_reason",
    "ipd_provided",
    "ipd_not_provided_reason",
    "n_randomised",
    "n_provided",
    "n_not_provided",
    "n_not_provided_reason",
    "aggregate_available",
)
NOT_RECORDED = "Reason not recorded"
NOT_PROVIDED_LABELS = dict(Trial.IpdNotProvidedReason.choices)


def leaf(row: dict) -> str:
    """Where the trial stands in the flow, from its record alone."""
    if row["is_duplicate"]:
        return "duplicate"
    if row["screening_decision"] == Trial.ScreeningDecision.EXCLUDED:
        return "excluded"
    if row["screening_decision"] != Trial.ScreeningDecision.INCLUDED:
        return "not_screened"
    if row["ipd_sought"] is False:
        return "not_sought"
    if row["ipd_sought"] is None:
        return "eligible_undecided"
    if row["ipd_provided"] is True:
        return "provided"
    if row["ipd_provided"] is False:
        return "not_provided"
    return "sought_exit" if lifecycle.is_exit(row["status"]) else "pending"


def in_box(box_id: str, row: dict, where: str) -> bool:
    """Whether the trial (its record `row`, at leaf `where`) is counted in the box."""
    if box_id == "identified_database":
        return row["identified_via"] == Trial.IdentifiedVia.DATABASE
    if box_id == "identified_other":
        return row["identified_via"] == Trial.IdentifiedVia.OTHER
    if box_id == "after_duplicates":
        return where != "duplicate"
    if box_id == "screened":
        return where in SCREENED_LEAVES
    if box_id == "aggregate_available":
        return where == "not_provided" and bool(row["aggregate_available"])
    return where in BOX_BY_ID[box_id].leaves


BOX_BY_ID = {box.id: box for box in BOXES}

# A leaf that no box of the template holds: the record lacks the decision the next box needs.
UNPLACED = {
    "not_screened": "not screened yet: no screening decision is recorded",
    "eligible_undecided": "eligible, but whether its IPD were sought is not recorded",
    "sought_exit": "IPD sought, then left the path ({status}) with no record of whether IPD were provided",
}


def problems(row: dict, where: str) -> list[str]:
    """What the trial's record lacks for the boxes it is in."""
    found = []
    if where in UNPLACED:
        found.append(UNPLACED[where].format(status=lifecycle.label(row["status"]).lower()))
    if where == "excluded" and not row["exclusion_reason"].strip():
        found.append("excluded, with no reason recorded")
    if where == "not_sought" and not row["ipd_not_sought_reason"].strip():
        found.append("IPD not sought, with no reason recorded")
    if where == "not_provided" and not row["ipd_not_provided_reason"]:
        found.append("IPD not provided, with no reason recorded")
    if where == "provided" and row["n_provided"] is None:
        found.append("IPD provided, but the number of participants provided is not recorded")
    if where == "provided" and (row["n_not_provided"] or 0) > 0 and not row["n_not_provided_reason"].strip():
        found.append("participants without data, with no reason recorded")
    if where in ("not_provided", "pending") and row["n_randomised"] is None:
        found.append("the number of participants randomised is not recorded")
    return found


def trial_label(row: dict) -> str:
    return f"{row['registry_id']} {row['title']}".strip() if row["registry_id"] else row["title"]


@dataclass
class Box:
    id: str
    label: str
    section: str
    studies: int = 0
    participants: int = 0
    reasons: list[dict] = field(default_factory=list)
    trials: list[int] = field(default_factory=list)
    participants_no_data: int | None = None  # ipd_provided only: participants for whom no data were provided

    def as_data(self) -> dict:
        data = {
            "id": self.id,
            "label": self.label,
            "section": self.section,
            "studies": self.studies,
            "participants": self.participants,
            "reasons": self.reasons,
            "trials": self.trials,
        }
        if self.participants_no_data is not None:
            data["participants_no_data"] = self.participants_no_data
        return data


def _reasons(counter: Counter) -> list[dict]:
    """ "reason (n)" entries, the most frequent first, then alphabetical."""
    return [{"reason": reason, "n": n} for reason, n in sorted(counter.items(), key=lambda item: (-item[1], item[0]))]


def _reason_of(box_id: str, row: dict) -> str | None:
    if box_id == "excluded":
        return row["exclusion_reason"].strip() or NOT_RECORDED
    if box_id == "ipd_not_sought":
        return row["ipd_not_sought_reason"].strip() or NOT_RECORDED
    if box_id == "ipd_not_provided":
        return NOT_PROVIDED_LABELS.get(row["ipd_not_provided_reason"]) or NOT_RECORDED
    return None


def _participants(box_id: str, row: dict) -> int:
    if box_id == "ipd_provided":
        return row["n_provided"] or 0
    return row["n_randomised"] or 0


@dataclass
class Flow:
    boxes: dict[str, Box]
    leaves: dict[int, str]
    incomplete: list[dict]
    duplicates: list[int]
    identified: list[int]


def review_rows(review) -> list[dict]:
    return list(Trial.objects.filter(review=review).order_by("registry_id", "id").values(*FIELDS))


def flow(review) -> Flow:
    """The boxes of the diagram (without the analysed data), and the incomplete records."""
    rows = review_rows(review)
    boxes = {box.id: Box(box.id, box.label, box.section) for box in BOXES}
    reasons = {box_id: Counter() for box_id in BOX_IDS}
    no_data_reasons: Counter = Counter()
    leaves, incomplete = {}, []
    for row in rows:
        where = leaves[row["id"]] = leaf(row)
        for box in BOXES:
            if not in_box(box.id, row, where):
                continue
            counted = boxes[box.id]
            counted.studies += 1
            counted.participants += _participants(box.id, row)
            counted.trials.append(row["id"])
            reason = _reason_of(box.id, row)
            if reason:
                reasons[box.id][reason] += 1
        if where == "provided" and row["n_not_provided"]:
            no_data_reasons[row["n_not_provided_reason"].strip() or NOT_RECORDED] += row["n_not_provided"]
        for problem in problems(row, where):
            incomplete.append({"trial": row["id"], "label": trial_label(row), "problem": problem, "leaf": where})
    for box_id, counter in reasons.items():
        boxes[box_id].reasons = _reasons(counter)
    provided = boxes["ipd_provided"]
    provided.participants_no_data = sum(no_data_reasons.values())
    provided.reasons = _reasons(no_data_reasons)
    return Flow(
        boxes=boxes,
        leaves=leaves,
        incomplete=incomplete,
        duplicates=[row["id"] for row in rows if leaves[row["id"]] == "duplicate"],
        identified=[row["id"] for row in rows],
    )


def arithmetic(result: Flow) -> list[dict]:
    """The template's sums, each with the incomplete records that stand between its two sides."""
    boxes = result.boxes
    count = Counter(result.leaves.values())

    def rule(text: str, left: int, right: dict, unplaced: str | None = None) -> dict:
        undecided = count[unplaced] if unplaced else 0
        return {
            "rule": text,
            "left": left,
            "right": right,
            "incomplete": undecided,
            "holds": left == sum(right.values()) + undecided,
        }

    return [
        rule(
            "identified = database + other sources",
            len(result.identified),
            {"identified_database": boxes["identified_database"].studies,
             "identified_other": boxes["identified_other"].studies},
        ),
        rule(
            "after duplicates = identified - duplicates",
            boxes["after_duplicates"].studies,
            {"identified": len(result.identified), "duplicates": -len(result.duplicates)},
        ),
        rule(
            "screened - excluded = IPD sought + IPD not sought",
            boxes["screened"].studies - boxes["excluded"].studies,
            {"ipd_sought": boxes["ipd_sought"].studies, "ipd_not_sought": boxes["ipd_not_sought"].studies},
            "eligible_undecided",
        ),
        rule(
            "IPD sought = provided + not provided + pending",
            boxes["ipd_sought"].studies,
            {"ipd_provided": boxes["ipd_provided"].studies, "ipd_not_provided": boxes["ipd_not_provided"].studies,
             "ipd_pending": boxes["ipd_pending"].studies},
            "sought_exit",
        ),
    ]  # fmt: skip


def extra_filters(result: Flow) -> dict[str, list[int]]:
    """Trial lists the diagram links to beside its boxes."""
    return {
        "identified": result.identified,
        "duplicates": result.duplicates,
        "incomplete": sorted({item["trial"] for item in result.incomplete}),
        "not_screened": [trial for trial, where in result.leaves.items() if where == "not_screened"],
    }
