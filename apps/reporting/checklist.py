"""The PRISMA-IPD checklist (Stewart et al., JAMA 2015): item numbers with short paraphrased titles (not the
journal's wording), the IPD-specific items A1 to A4, and the links into the app that evidence each item.

The item ids are stable: they key the stored entries, the API and the CSV.
"""

from dataclasses import dataclass

from django.urls import reverse

NOT_STARTED, DRAFTED, DONE, NOT_APPLICABLE = "not_started", "drafted", "done", "not_applicable"
STATUSES = (
    (NOT_STARTED, "Not started"),
    (DRAFTED, "Drafted"),
    (DONE, "Done"),
    (NOT_APPLICABLE, "Not applicable"),
)
STATUS_LABELS = dict(STATUSES)


@dataclass(frozen=True)
class Item:
    item: str
    section: str
    title: str


ITEMS = (
    Item("1", "Title", "Identify the report as a systematic review and meta-analysis of IPD"),
    Item("2", "Abstract", "Structured summary, including the IPD obtained and the registration"),
    Item("3", "Introduction", "Rationale"),
    Item("4", "Introduction", "Objectives (participants, interventions, comparisons, outcomes, designs)"),
    Item("5", "Methods", "Protocol and registration"),
    Item("6", "Methods", "Eligibility criteria"),
    Item("7", "Methods", "Information sources, including contact with the original research teams"),
    Item("8", "Methods", "Search strategy"),
    Item("9", "Methods", "Study selection process"),
    Item("10", "Methods", "Data collection: how IPD were requested, collected, managed and confirmed"),
    Item("11", "Methods", "Data items, and how variables were standardised across studies"),
    Item("A1", "Methods", "IPD integrity: which aspects of the IPD were checked, and how"),
    Item("12", "Methods", "Risk of bias assessment in individual studies"),
    Item("13", "Methods", "Outcomes and effect measures"),
    Item("14", "Methods", "Synthesis methods: one- or two-stage, clustering, fixed or random effects, missing data"),
    Item("A2", "Methods", "Exploration of variation in effects: treatment-covariate interactions"),
    Item("15", "Methods", "Risk of bias across studies, including from IPD not obtained"),
    Item("16", "Methods", "Additional analyses (sensitivity analyses)"),
    Item("17", "Results", "Study selection and IPD obtained, with the flow diagram"),
    Item("18", "Results", "Study characteristics"),
    Item("A3", "Results", "IPD integrity: important issues found, or a statement that there were none"),
    Item("19", "Results", "Risk of bias within studies"),
    Item("20", "Results", "Results of individual studies, with summary data per arm"),
    Item("21", "Results", "Results of syntheses: summary effects, heterogeneity, interactions"),
    Item("22", "Results", "Risk of bias across studies, including availability bias"),
    Item("23", "Results", "Additional analyses, including adding aggregate data of studies without IPD"),
    Item("24", "Discussion", "Summary of the evidence"),
    Item("25", "Discussion", "Strengths and limitations, including IPD not obtained"),
    Item("26", "Discussion", "Conclusions"),
    Item("A4", "Discussion", "Implications for practice and research"),
    Item("27", "Funding", "Funding, including who supplied the IPD"),
)
ITEM_IDS = tuple(entry.item for entry in ITEMS)
ITEM_BY_ID = {entry.item: entry for entry in ITEMS}


@dataclass(frozen=True)
class Facts:
    """What the evidence links say about the review, read once for the whole checklist."""

    registration: str
    identified_database: int
    identified_other: int
    contacted: int
    responded: int
    agreements_signed: int
    data_may_leave: int
    trials_checked: int
    issues: int
    issues_resolved: int
    analyses: list  # (id, name, has succeeded run, interaction covariate or "", has sensitivity run)


def _link(label: str, url: str, detail: str = "") -> dict:
    return {"label": label, "url": url, "detail": detail}


def evidence(review, facts: Facts) -> dict[str, list[dict]]:
    """Links into the app, by item id."""
    pk = review.pk
    report = reverse("reporting:report", args=[pk])
    prisma = reverse("reporting:prisma", args=[pk])
    rate = f"{facts.responded} of {facts.contacted} teams contacted replied" if facts.contacted else "none contacted"
    contact = [
        _link("Contact log", f"{report}#contacts", rate),
        _link("Response rate", reverse("dashboard:review-overview", args=[pk]), rate),
        _link(
            "Agreements",
            f"{report}#agreements",
            f"{facts.agreements_signed} signed; {facts.data_may_leave} let the data leave the platform",
        ),
    ]
    specs = [_link(f"Analysis: {name}", reverse("analyses:detail", args=[i])) for i, name, *_ in facts.analyses]
    forests = [
        _link(f"Forest plot: {name}", reverse("analyses:detail", args=[i]))
        for i, name, has_run, *_ in facts.analyses
        if has_run
    ]
    interactions = [
        _link(f"Interaction with {covariate}: {name}", reverse("analyses:detail", args=[i]) + "#interaction")
        for i, name, _, covariate, _ in facts.analyses
        if covariate
    ]
    sensitivity = [
        _link(
            f"Sensitivity analyses: {name}",
            reverse("analyses:sensitivity", args=[i]),
            "IPD only vs IPD plus aggregate data; trials with vs without IPD",
        )
        for i, name, _, _, has_family in facts.analyses
        if has_family
    ]
    integrity = reverse("checks:review-integrity", args=[pk])
    return {
        "5": [
            _link(
                "Registration",
                reverse("dashboard:review-overview", args=[pk]),
                facts.registration or "No registration is recorded for the review.",
            )
        ],
        "7": [
            _link(
                "Studies by source",
                prisma,
                f"{facts.identified_database} from database searching, {facts.identified_other} from other sources",
            ),
            *contact,
        ],
        "10": contact,
        "11": [
            _link("Data dictionaries", f"{report}#dictionaries"),
            _link("Common schema", reverse("harmonisation:schema", args=[pk])),
            _link("Harmonisation log", reverse("harmonisation:review-log", args=[pk])),
        ],
        "A1": [_link("Integrity checks configured and run", integrity, f"{facts.trials_checked} trials checked")],
        "A3": [
            _link(
                "Findings and their resolution",
                integrity,
                f"{facts.issues} issues raised, {facts.issues_resolved} resolved",
            )
        ],
        "13": specs,
        "14": specs,
        "A2": interactions,
        "15": sensitivity,
        "22": sensitivity,
        "23": sensitivity,
        "17": [_link("PRISMA-IPD flow diagram", prisma)],
        "20": forests,
        "21": forests,
    }


def completion(statuses: list[str]) -> dict:
    """Counts per status, and the share done or not applicable."""
    counts = {code: statuses.count(code) for code, _ in STATUSES}
    finished = counts[DONE] + counts[NOT_APPLICABLE]
    total = len(statuses)
    return {
        **counts,
        "total": total,
        "finished": finished,
        "percent": round(100 * finished / total) if total else 0,
    }
