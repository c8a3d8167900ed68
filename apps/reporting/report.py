"""The report draft: methods and results paragraphs written from the record with its numbers, two tables
(characteristics of the trials with IPD; IPD availability) and the figures (the flow diagram; the forest plots of
the analyses' newest runs). The HTML page and the Word document render the same content."""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from apps.analyses import selectors as analysis_selectors
from apps.analyses.models import Analysis, AnalysisRun, RunKind, RunState
from apps.analyses.presentation import heterogeneity_sentence, interval, number, on_scale, p_value
from apps.checks.models import CheckResult, CheckRun, Finding
from apps.harmonisation.models import HarmonisedTable, Mapping, MappingRule, SchemaVariable
from apps.reporting import images, prisma
from apps.reporting import selectors as reporting_selectors
from apps.reviews.models import Review
from apps.trials import lifecycle
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, ContactAttempt, StatusTransition, Trial

RESPONSE_STATUSES = (Status.RESPONDED, Status.DECLINED, Status.DATA_NOT_AVAILABLE)


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Figure:
    id: str
    caption: str
    alt: str
    png: bytes | None = None
    svg: str = ""  # the flow diagram, drawn inline on the page


@dataclass
class Section:
    id: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: str
    generated_at: datetime.datetime
    sections: list[Section]
    notes: list[str]


def _n(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{_n(count)} {word if count == 1 else plural or word + 's'}"


def _reasons(reasons: list[dict]) -> str:
    return "; ".join(f"{item['reason'].rstrip('.')} ({_n(item['n'])})" for item in reasons)


def _with_reasons(text: str, reasons: list[dict]) -> str:
    return f"{text} ({_reasons(reasons)})" if reasons else text


# --------------------------------------------------------------------------------------------------- the flow


def flow_paragraphs(data: dict) -> list[str]:
    boxes = {box["id"]: box for box in data["boxes"]}
    identified = data["lists"]["identified"]
    duplicates = data["lists"]["duplicates"]
    first = (
        f"The searches identified {_plural(identified, 'study', 'studies')}: "
        f"{_n(boxes['identified_database']['studies'])} through database searching and "
        f"{_n(boxes['identified_other']['studies'])} through other sources, including contact with researchers. "
        f"After removing {_plural(duplicates, 'duplicate')}, {_n(boxes['after_duplicates']['studies'])} remained; "
        f"{_n(boxes['screened']['studies'])} were screened and "
        + _with_reasons(f"{_n(boxes['excluded']['studies'])} excluded", boxes["excluded"]["reasons"])
        + "."
    )
    second = (
        f"IPD were sought for {_plural(boxes['ipd_sought']['studies'], 'eligible study', 'eligible studies')}"
        + _with_reasons(
            f" and not sought for {_n(boxes['ipd_not_sought']['studies'])}", boxes["ipd_not_sought"]["reasons"]
        )
        + "."
    )
    provided = boxes["ipd_provided"]
    third = (
        f"IPD were provided for {_plural(provided['studies'], 'study', 'studies')} "
        f"({_plural(provided['participants'], 'participant')}); "
        + _with_reasons(
            f"no data were provided for {_plural(provided.get('participants_no_data') or 0, 'participant')} of these "
            "studies",
            provided["reasons"],
        )
        + ". "
        + _with_reasons(
            f"IPD were not provided for {_plural(boxes['ipd_not_provided']['studies'], 'study', 'studies')} "
            f"({_plural(boxes['ipd_not_provided']['participants'], 'participant')})",
            boxes["ipd_not_provided"]["reasons"],
        )
        + f"; aggregate data were available for {_n(boxes['aggregate_available']['studies'])} of them "
        f"({_plural(boxes['aggregate_available']['participants'], 'participant')})."
    )
    if "ipd_pending" in boxes:
        third += (
            f" The IPD of {_plural(boxes['ipd_pending']['studies'], 'study', 'studies')} "
            f"({_plural(boxes['ipd_pending']['participants'], 'participant')}) are still pending."
        )
    paragraphs = [first, second, third]
    if data["incomplete"]:
        trials = len({item["trial"] for item in data["incomplete"]})
        paragraphs.append(
            f"The records of {_plural(trials, 'study', 'studies')} are incomplete and are counted only in the boxes "
            "their records allow: "
            + "; ".join(f"{item['label']} ({item['problem']})" for item in data["incomplete"])
            + "."
        )
    return paragraphs


# --------------------------------------------------------------------------------------------------- contacts


def _age_group(year: int | None, today: datetime.date) -> str:
    if not year:
        return "year not recorded"
    age = today.year - year
    if age < 5:
        return "under 5 years old"
    if age < 10:
        return "5 to 9 years old"
    return "10 or more years old"


def _rate_rows(groups: dict[str, tuple[int, int]]) -> list[list[str]]:
    rows = []
    for name, (contacted, responded) in sorted(groups.items()):
        share = f"{100 * responded / contacted:.0f}%" if contacted else "–"
        rows.append([name, _n(contacted), _n(responded), share])
    return rows


def contact_section(review: Review, data: dict) -> Section:
    trials = {trial.pk: trial for trial in Trial.objects.filter(review=review)}
    contacted = set(
        StatusTransition.objects.filter(trial__review=review, to_status=Status.CONTACTED).values_list(
            "trial_id", flat=True
        )
    )
    responded = set(
        StatusTransition.objects.filter(trial_id__in=contacted, to_status__in=RESPONSE_STATUSES).values_list(
            "trial_id", flat=True
        )
    )
    today = timezone.localdate()
    by_sponsor: dict[str, list[int]] = {}
    by_age: dict[str, list[int]] = {}
    for trial_id in contacted:
        trial = trials[trial_id]
        for groups, key in (
            (by_sponsor, trial.get_sponsor_type_display()),
            (by_age, _age_group(trial.year, today)),
        ):
            counts = groups.setdefault(key, [0, 0])
            counts[0] += 1
            counts[1] += trial_id in responded
    boxes = {box["id"]: box for box in data["boxes"]}
    randomised = sum(trial.n_randomised or 0 for trial in trials.values() if trial.pk in boxes["ipd_sought"]["trials"])
    rate = f"{100 * len(responded) / len(contacted):.0f}%" if contacted else "not applicable"
    attempts = ContactAttempt.objects.filter(trial__review=review).count()
    paragraph = (
        f"The studies for which IPD were sought had randomised {_plural(randomised, 'participant')}. "
        f"The teams of {_plural(len(contacted), 'study', 'studies')} were contacted "
        f"({_plural(attempts, 'contact attempt')} logged); "
        f"{_n(len(responded))} replied, agreeing or not (response rate {rate})."
    )
    columns = ["Group", "Contacted", "Replied", "Response rate"]
    return Section(
        "contacts",
        "Participants and response rate",
        [paragraph],
        [
            Table("Response rate by sponsor type", columns, _rate_rows({k: tuple(v) for k, v in by_sponsor.items()})),
            Table(
                "Response rate by the age of the trial (years since its publication year)",
                columns,
                _rate_rows({k: tuple(v) for k, v in by_age.items()}),
            ),
        ],
    )


def agreements_section(review: Review) -> Section:
    agreements = list(Agreement.objects.filter(trial__review=review).select_related("trial"))
    signed = [agreement for agreement in agreements if agreement.status == Agreement.Status.SIGNED]
    platforms = Counter(agreement.get_platform_display() for agreement in signed)
    leave = sum(agreement.data_may_leave_platform for agreement in signed)
    statuses = Counter(agreement.get_status_display().lower() for agreement in agreements)
    paragraph = (
        f"{_plural(len(agreements), 'data-sharing agreement')} were recorded "
        f"({', '.join(f'{n} {status}' for status, n in sorted(statuses.items())) or 'none'}). "
        f"Of the {_n(len(signed))} signed, "
        + (", ".join(f"{n} through {platform}" for platform, n in sorted(platforms.items())) or "none")
        + f"; {_n(leave)} let the participant data leave the platform, and under the other "
        f"{_n(len(signed) - leave)} the analyses stay on the provider's side (only their results are shared)."
    )
    rows = [
        [
            agreement.trial.registry_id or agreement.trial.title,
            agreement.get_platform_display(),
            agreement.get_status_display(),
            agreement.signed_on.isoformat() if agreement.signed_on else "–",
            agreement.expires_on.isoformat() if agreement.expires_on else "–",
            "yes" if agreement.data_may_leave_platform else "no",
        ]
        for agreement in sorted(signed, key=lambda a: (a.trial.registry_id, a.pk))
    ]
    table = Table(
        "Signed data-sharing agreements",
        ["Trial", "Platform", "Status", "Signed", "Expires", "Data may leave the platform"],
        rows,
    )
    return Section("agreements", "Data-sharing agreements", [paragraph], [table] if rows else [])


def checks_section(review: Review) -> Section:
    runs = CheckRun.objects.filter(review=review, state=CheckRun.State.SUCCEEDED)
    trials_checked = runs.values("trial_id").distinct().count()
    findings = list(Finding.objects.filter(trial__review=review).select_related("result", "trial"))
    by_check = Counter(finding.result.title for finding in findings)
    resolved = sum(finding.status == Finding.Status.RESOLVED for finding in findings)
    failed = sum(finding.result.status == CheckResult.Status.FAIL for finding in findings)
    checks = CheckResult.objects.filter(run__in=runs).values("code").distinct().count()
    paragraph = (
        f"The harmonised data of {_plural(trials_checked, 'trial')} were checked ({_n(runs.count())} check runs, "
        f"{_plural(checks, 'check')} each: identifiers, randomisation, baseline balance, ranges and dates, follow-up, "
        "missingness, and the re-derivation of each trial's published primary result). "
    )
    if findings:
        paragraph += (
            f"{_plural(len(findings), 'issue')} were raised with the trial teams ({_n(failed)} failed checks, "
            f"{_n(len(findings) - failed)} warnings; "
            + "; ".join(f"{title} {n}" for title, n in sorted(by_check.items()))
            + f"); {_n(resolved)} were resolved and {_n(len(findings) - resolved)} remain open."
        )
    else:
        paragraph += "No important issue was found."
    return Section("checks", "Data checks", [paragraph])


def harmonisation_section(review: Review) -> Section:
    variables = SchemaVariable.objects.filter(review=review).count()
    mappings = Mapping.objects.filter(trial__review=review)
    trials_mapped = mappings.values("trial_id").distinct().count()
    trials_harmonised = (
        HarmonisedTable.objects.filter(mapping__trial__review=review).values("mapping__trial_id").distinct().count()
    )
    rules = MappingRule.objects.filter(mapping__in=mappings, superseded_at=None)
    categories = dict(rules.values_list("category").annotate(n=Count("id")))
    statuses = dict(rules.values_list("status").annotate(n=Count("id")))
    labels = dict(MappingRule.Category.choices)
    paragraph = (
        f"The review's common schema has {_plural(variables, 'variable')}. The data of "
        f"{_plural(trials_mapped, 'trial')} were mapped to it and {_n(trials_harmonised)} harmonised, by "
        f"{_plural(sum(categories.values()), 'current rule')} ("
        + (", ".join(f"{labels.get(c, c).lower()} {n}" for c, n in sorted(categories.items())) or "none")
        + "; "
        + (", ".join(f"{status} {n}" for status, n in sorted(statuses.items())) or "no status")
        + "). The harmonisation log records, per trial and variable, the input file and its SHA-256, the rule, the "
        "units and the rationale."
    )
    return Section("harmonisation", "Harmonisation", [paragraph])


def dictionaries_section(review: Review) -> Section:
    from apps.datasets.models import DatasetVersion

    versions = DatasetVersion.objects.filter(trial__review=review, status=DatasetVersion.Status.PARSED).select_related(
        "trial"
    )
    rows = [
        [version.trial.registry_id or version.trial.title, str(version.number), version.original_name,
         _n(version.n_rows or 0), _n(version.n_columns or 0), version.sha256[:12]]
        for version in versions.order_by("trial__registry_id", "number")
    ]  # fmt: skip
    paragraph = (
        f"{_plural(len(rows), 'data file')} were received and described in data dictionaries "
        "(type, missing values and codes, range and frequent values of every variable)."
    )
    table = Table("Data files received", ["Trial", "Version", "File", "Rows", "Variables", "SHA-256 (start)"], rows)
    return Section("dictionaries", "Data received", [paragraph], [table] if rows else [])


# --------------------------------------------------------------------------------------------------- analyses


def _result_sentence(run: AnalysisRun) -> str:
    result = run.result or {}
    measure = run.spec["measure"]
    pooled = result.get("pooled") or {}
    text = (
        f"Pooled {measure} {interval(on_scale(pooled.get('estimate'), measure), on_scale(pooled.get('ci_low'), measure), on_scale(pooled.get('ci_high'), measure))}"  # noqa: E501
        f" (95% CI), p = {p_value(pooled.get('p'))}, from {_plural(pooled.get('k') or 0, 'trial')} and "
        f"{_plural((result.get('settings') or {}).get('participants') or 0, 'participant')}."
    )
    heterogeneity = heterogeneity_sentence(result.get("heterogeneity"), run.spec["approach"])
    if heterogeneity:
        text += f" {heterogeneity}."
    prediction = result.get("prediction_interval")
    if prediction:
        text += (
            f" 95% prediction interval {number(on_scale(prediction[0], measure))} to "
            f"{number(on_scale(prediction[1], measure))}."
        )
    return text


def _interaction_sentence(run: AnalysisRun) -> str:
    block = (run.result or {}).get("interaction") or {}
    covariate = run.spec.get("interaction")
    if not covariate or not block:
        return ""
    scale = "log " + run.spec["measure"] if run.spec["measure"] in ("OR", "RR", "HR") else run.spec["measure"]
    if "within" in block:
        within, across = block["within"], block["across"]
        return (
            f"Interaction of treatment with {covariate} (one-stage, {scale} per unit): within trials "
            f"{interval(within['estimate'], within['ci_low'], within['ci_high'])}, p = {p_value(within['p'])}; "
            f"across trials {interval(across['estimate'], across['ci_low'], across['ci_high'])}."
        )
    pooled = block.get("pooled") or {}
    return (
        f"Interaction of treatment with {covariate} (two-stage, within-trial, {scale} per unit): "
        f"{interval(pooled.get('estimate'), pooled.get('ci_low'), pooled.get('ci_high'))}, "
        f"p = {p_value(pooled.get('p'))}, from {_plural(pooled.get('k') or 0, 'trial')}."
    )


def _family_table(run: AnalysisRun, measure: str) -> Table:
    rows = []
    for entry in (run.result or {}).get("analyses", []):
        pooled = entry.get("pooled") or {}
        estimate = interval(
            on_scale(pooled.get("estimate"), measure),
            on_scale(pooled.get("ci_low"), measure),
            on_scale(pooled.get("ci_high"), measure),
        )
        tau2 = (entry.get("heterogeneity") or {}).get("tau2")
        rows.append(
            [entry["label"], entry.get("changed") or "", _n(entry["k"]) if entry.get("k") else "–",
             estimate if not entry.get("error") else entry["error"], number(tau2, 3) if tau2 is not None else "–"]
        )  # fmt: skip
    return Table(
        f"Sensitivity analyses of {run.analysis.name}", ["Analysis", "What changed", "Trials", measure, "τ²"], rows
    )


def _comparison_sentence(run: AnalysisRun, measure: str) -> str:
    comparison = (run.result or {}).get("comparison") or {}
    if not comparison:
        return ""
    parts = []
    for key, name in (("with_ipd", "with IPD"), ("without_ipd", "without IPD")):
        group = comparison.get(key) or {}
        year = group.get("year") or {}
        size = group.get("size") or {}
        pooled = (group.get("published") or {}).get("pooled")
        text = (
            f"{_plural(group.get('trials', 0), 'trial')} {name} ("
            + ", ".join(f"{sponsor} {n}" for sponsor, n in (group.get("sponsor") or {}).items())
            + (f"; median year {year['median']:g}" if year else "")
            + (f"; median size {size['median']:g}" if size else "")
            + ")"
        )
        if pooled:
            text += (
                f", published {measure} "
                f"{interval(on_scale(pooled['estimate'], measure), on_scale(pooled['ci_low'], measure), on_scale(pooled['ci_high'], measure))}"  # noqa: E501
            )
        parts.append(text)
    difference = comparison.get("difference")
    sentence = "Trials with and without IPD: " + "; ".join(parts) + "."
    if difference:
        sentence += f" Test of the difference of their published effects: p = {p_value(difference.get('p'))}."
    return sentence


def _newest(analysis: Analysis, kind: str) -> AnalysisRun | None:
    return (
        analysis.runs.filter(kind=kind, state=RunState.SUCCEEDED)
        .filter(result__isnull=False)
        .select_related("analysis__outcome")
        .order_by("-created_at", "-id")
        .first()
    )


def analyses_sections(review: Review, *, with_images: bool) -> tuple[list[Section], list[str]]:
    analyses = list(analysis_selectors.review_analyses(review))
    methods = Section("methods-analyses", "Statistical analysis")
    results = Section("results-analyses", "Results of the analyses")
    interactions = Section("interactions", "Interactions (variation in effects)")
    sensitivity = Section("sensitivity", "Sensitivity analyses")
    comparison = Section("with-without-ipd", "Trials with and without IPD")
    figures = {}
    runs = {}
    for analysis in analyses:
        run = _newest(analysis, RunKind.ANALYSIS)
        if run is None:
            methods.paragraphs.append(f"{analysis.name}: not run yet.")
            continue
        runs[analysis.pk] = run
        methods.paragraphs.append(f"{analysis.name}. {analysis_selectors.methods_paragraph(run)}")
        results.paragraphs.append(f"{analysis.name}. {_result_sentence(run)}")
        interaction = _interaction_sentence(run)
        if interaction:
            interactions.paragraphs.append(f"{analysis.name}. {interaction}")
        figure = analysis_selectors.run_figure(run)
        if figure:
            figures[f"forest-{run.pk}"] = figure
        family = _newest(analysis, RunKind.SENSITIVITY)
        if family is not None:
            sensitivity.tables.append(_family_table(family, analysis.measure))
            sentence = _comparison_sentence(family, analysis.measure)
            if sentence:
                comparison.paragraphs.append(f"{analysis.name}. {sentence}")
    notes = []
    drawn = images.figure_pngs(figures) if with_images and figures else images.Images()
    if drawn.note:
        notes.append(drawn.note)
        results.paragraphs.append(drawn.note)
    for analysis in analyses:
        run = runs.get(analysis.pk)
        if run is None:
            continue
        name = f"forest-{run.pk}"
        if name in figures:
            results.figures.append(
                Figure(
                    name,
                    f"Forest plot: {analysis.name} (run #{run.pk})",
                    f"Forest plot of {analysis.name}: each trial's {analysis.measure} with its 95% CI and the pooled "
                    "estimate.",
                    png=drawn.pngs.get(name),
                )
            )
    if not interactions.paragraphs:
        interactions.paragraphs.append("No analysis estimates a treatment-covariate interaction.")
    if not sensitivity.tables:
        sensitivity.paragraphs.append("No sensitivity analyses have been run.")
    if not comparison.paragraphs:
        comparison.paragraphs.append("No comparison of trials with and without IPD has been run.")
    return [methods, results, interactions, sensitivity, comparison], notes


# --------------------------------------------------------------------------------------------------- tables


def characteristics_table(review: Review, data: dict) -> Table:
    provided = {box["id"]: box for box in data["boxes"]}["ipd_provided"]["trials"]
    rows = [
        [trial.registry_id or "–", trial.title, str(trial.year or "–"), trial.get_sponsor_type_display(),
         _n(trial.n_randomised) if trial.n_randomised is not None else "–",
         _n(trial.n_provided) if trial.n_provided is not None else "–", lifecycle.label(trial.status)]
        for trial in Trial.objects.filter(pk__in=provided).order_by("registry_id", "pk")
    ]  # fmt: skip
    return Table(
        "Characteristics of the trials with IPD",
        ["Registry id", "Trial", "Year", "Sponsor", "Randomised", "IPD provided", "Status"],
        rows,
    )


AVAILABILITY = {
    "provided": "IPD provided",
    "not_provided": "IPD not provided",
    "pending": "IPD pending",
    "not_sought": "IPD not sought",
    "sought_exit": "IPD sought; outcome not recorded",
    "eligible_undecided": "Eligible; not yet sought",
}


def availability_table(review: Review) -> Table:
    rows = []
    for row in prisma.review_rows(review):
        where = prisma.leaf(row)
        if where not in AVAILABILITY:
            continue
        reason = prisma.NOT_PROVIDED_LABELS.get(row["ipd_not_provided_reason"], "") if where == "not_provided" else ""
        if where == "not_sought":
            reason = row["ipd_not_sought_reason"]
        rows.append(
            [prisma.trial_label(row), AVAILABILITY[where], reason or "–",
             _n(row["n_randomised"]) if row["n_randomised"] is not None else "–",
             "yes" if row["aggregate_available"] else "no"]
        )  # fmt: skip
    columns = ["Trial", "IPD", "Reason", "Randomised", "Aggregate data"]
    return Table("IPD availability of the eligible trials", columns, rows)


# --------------------------------------------------------------------------------------------------- the report


def build(review: Review, *, with_images: bool = True) -> Report:
    data = reporting_selectors.prisma_ipd(review)
    svg = reporting_selectors.prisma_svg(review, data, id_prefix="report-prisma")
    flow = Section("flow", "Studies identified, sought and obtained", flow_paragraphs(data))
    diagram_png = None
    if with_images:
        from apps.reporting import diagram

        diagram_png = diagram.to_png(svg)
    flow.figures.append(
        Figure("prisma", "PRISMA-IPD flow diagram", "PRISMA-IPD flow diagram of the review", png=diagram_png, svg=svg)
    )
    flow.tables = [characteristics_table(review, data), availability_table(review)]
    analysis_sections, notes = analyses_sections(review, with_images=with_images)
    sections = [
        flow,
        contact_section(review, data),
        agreements_section(review),
        dictionaries_section(review),
        checks_section(review),
        harmonisation_section(review),
        *analysis_sections,
    ]
    registration = f"Registration: {review.registration}. " if review.registration else ""
    return Report(
        title=review.title,
        subtitle=f"{registration}Report draft generated from the review's record.",
        generated_at=timezone.now(),
        sections=sections,
        notes=notes,
    )
