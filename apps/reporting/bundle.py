"""The reproducibility bundle: a zip that lets anyone re-run the review's analyses in R from its files.

It holds, for each analysis with a succeeded run, the run's spec and result exactly as stored; the harmonised
tables the run read (as CSV, exact values, only for trials whose agreement lets the data leave the platform; a
trial whose data stay on the provider's side is represented by its stage-one estimates); the data dictionaries,
the common schema and the harmonisation log; `reproduce.R`; a README; and `manifest.json`, which lists the path,
SHA-256 and size of every other file.
"""

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from django.utils import timezone

from apps.analyses import rows as analysis_rows
from apps.analyses.engine import ENGINE_VERSION
from apps.analyses.models import Analysis, AnalysisRun, RunKind, RunState
from apps.datasets.models import DictionaryEntry
from apps.harmonisation import selectors as harmonisation_selectors
from apps.harmonisation.csv_export import to_csv
from apps.harmonisation.models import HarmonisedTable, SchemaVariable
from apps.trials.models import Agreement, Trial

FORMAT = "ipd-review-bundle/1"
R_SCRIPT = Path(__file__).with_name("r") / "reproduce.R"
WITHHELD = "its agreement keeps the participant data on the provider's platform"


@dataclass
class Contents:
    files: dict[str, bytes] = field(default_factory=dict)
    trials_with_data: list[int] = field(default_factory=list)
    trials_withheld: list[int] = field(default_factory=list)
    analyses: list[dict] = field(default_factory=list)

    def add(self, path: str, content: bytes | str) -> None:
        self.files[path] = content.encode() if isinstance(content, str) else content


def _json(value) -> str:
    return json.dumps(value, indent=1, allow_nan=False, ensure_ascii=False) + "\n"


def data_may_leave(trial_ids) -> dict[int, bool]:
    """Per trial: does its newest signed agreement let the participant data leave the platform?"""
    allowed = {trial_id: False for trial_id in trial_ids}
    signed = Agreement.objects.filter(trial_id__in=list(allowed), status=Agreement.Status.SIGNED).order_by(
        "trial_id", "-signed_on", "-created_at", "-id"
    )
    seen = set()
    for agreement in signed:
        if agreement.trial_id not in seen:
            seen.add(agreement.trial_id)
            allowed[agreement.trial_id] = agreement.data_may_leave_platform
    return allowed


def newest_runs(review) -> list[tuple[Analysis, AnalysisRun, AnalysisRun | None]]:
    """Each analysis with its newest succeeded run, and its newest succeeded sensitivity family."""
    found = []
    for analysis in Analysis.objects.filter(review=review).select_related("outcome").order_by("pk"):
        runs = analysis.runs.filter(state=RunState.SUCCEEDED, result__isnull=False).order_by("-created_at", "-id")
        run = runs.filter(kind=RunKind.ANALYSIS).first()
        if run is not None:
            found.append((analysis, run, runs.filter(kind=RunKind.SENSITIVITY).first()))
    return found


def column_kind(kind: pa.DataType) -> str:
    """How reproduce.R reads a column: number, boolean or text (as the app's engine reads it)."""
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    if pa.types.is_null(kind):
        return "empty"
    return "text"


def table_csv(table: pa.Table) -> bytes:
    """Exact values: numbers as their shortest round-trip text, missing values as empty fields."""
    buffer = io.BytesIO()
    columns = []
    for column in table.columns:
        columns.append(column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column)
    pa_csv.write_csv(pa.table(columns, names=table.column_names), buffer)
    return buffer.getvalue()


def _stage_one_rows(run: AnalysisRun, trial_files: dict[str, str | None]) -> list[dict]:
    """Each IPD trial's stage-one estimate (and interaction) as the app computed it; for a one-stage run, those of
    the two-stage twin computed beside it."""
    result = run.result or {}
    if result.get("per_trial") is None:
        result = (run.summary.get("stage_one") or {}).get("result") or {}
    interaction = {row["trial"]: row for row in ((result.get("interaction") or {}).get("per_trial") or [])}
    rows = []
    for row in result.get("per_trial") or []:
        if row.get("source", "ipd") != "ipd":
            continue
        extra = interaction.get(row["trial"], {})
        rows.append(
            {
                "trial": row["trial"],
                "data": "csv" if trial_files.get(str(row["trial"])) else "platform",
                "n": row.get("n"),
                "estimate": row.get("estimate"),
                "se": row.get("se"),
                "excluded": row.get("excluded"),
                "reason": row.get("reason") or "",
                "interaction_estimate": extra.get("estimate"),
                "interaction_se": extra.get("se"),
            }
        )
    return rows


STAGE_ONE_COLUMNS = [
    "trial", "data", "n", "estimate", "se", "excluded", "reason", "interaction_estimate", "interaction_se",
]  # fmt: skip


def _stage_one_csv(rows: list[dict]) -> bytes:
    """Plain CSV (exact numbers), read by reproduce.R."""
    table = pa.table({column: [row.get(column) for row in rows] for column in STAGE_ONE_COLUMNS})
    return table_csv(table)


def _tables(runs, allowed: dict[int, bool], contents: Contents) -> dict[int, dict]:
    """Every harmonised table the runs read: its CSV (when the trial's data may leave) and its column kinds."""
    inputs = {item["harmonised_table"]: item for _, run, _ in runs for item in run.inputs}
    stored = analysis_rows.storage_names(list(inputs.values()))
    tables = {}
    for table_id, item in sorted(inputs.items()):
        table = pq.read_table(pa.BufferReader(analysis_rows.read_table_bytes(item, stored)))
        kinds = {name: column_kind(table.schema.field(name).type) for name in table.column_names}
        path = None
        if allowed.get(item["trial"]):
            path = f"data/harmonised-table-{table_id}.csv"
            contents.add(path, table_csv(table))
        tables[table_id] = {"file": path, "types": kinds, "rows": table.num_rows}
    return tables


def _run_record(analysis: Analysis, run: AnalysisRun, tables: dict, allowed: dict[int, bool]) -> dict:
    inputs = []
    for item in run.inputs:
        table = tables[item["harmonised_table"]]
        inputs.append(
            {
                **item,
                "file": table["file"],
                "types": table["types"],
                "withheld": None if table["file"] else WITHHELD,
            }
        )
    return {
        "analysis": {
            "id": analysis.pk,
            "name": analysis.name,
            "outcome": analysis.outcome.name,
            "prespecified": analysis.prespecified,
            "is_primary": analysis.is_primary,
        },
        "run": run.pk,
        "engine_version": run.engine_version,
        "input_sha256": run.input_sha256,
        "created_at": run.created_at.isoformat(),
        "inputs": inputs,
        "left_out": run.left_out,
        "aggregate_rows": run.aggregate_rows,
        "arms": run.summary.get("arms", {}),
        "trials": run.summary.get("trials", {}),
    }


def _dictionaries(trial_ids: set[int], allowed: dict[int, bool], contents: Contents) -> None:
    """The data dictionary of each trial's file behind the tables; value summaries only where the data may leave."""
    table_versions = HarmonisedTable.objects.filter(mapping__trial_id__in=trial_ids).values_list(
        "mapping__trial_id", "mapping__source_version_id"
    )
    versions = {}
    for trial_id, version_id in table_versions:
        versions.setdefault(trial_id, set()).add(version_id)
    columns = [
        "trial", "version", "position", "name", "label", "type", "source_format", "n_missing", "n_declared_missing",
        "missing_codes", "n_distinct", "n_invalid", "minimum", "maximum", "top_values",
    ]  # fmt: skip
    for trial_id, version_ids in sorted(versions.items()):
        entries = DictionaryEntry.objects.filter(version_id__in=version_ids).select_related("version")
        rows = []
        for entry in entries.order_by("version__number", "position"):
            row = {name: getattr(entry, name, None) for name in columns[2:]}
            row |= {"trial": trial_id, "version": entry.version.number}
            row["missing_codes"] = json.dumps(entry.missing_codes)
            row["top_values"] = json.dumps(entry.top_values) if allowed.get(trial_id) else ""
            if not allowed.get(trial_id):
                row["minimum"] = row["maximum"] = ""
            rows.append(row)
        contents.add(f"dictionaries/trial-{trial_id}.csv", to_csv(rows, columns))


def _schema(review, contents: Contents) -> None:
    columns = ["name", "label", "role", "type", "unit", "allowed_values", "minimum", "maximum", "description"]
    rows = [
        {**{name: getattr(variable, name) for name in columns}, "allowed_values": json.dumps(variable.allowed_values)}
        for variable in SchemaVariable.objects.filter(review=review).order_by("position", "name")
    ]
    contents.add("schema.csv", to_csv(rows, columns))


def _log(trial_ids: set[int], contents: Contents) -> None:
    rows = harmonisation_selectors.log_rows(
        harmonisation_selectors.mappings_for_log(Trial.objects.filter(pk__in=trial_ids).order_by("registry_id", "pk"))
    )
    columns = list(rows[0]) if rows else ["trial", "target", "rule"]
    contents.add("harmonisation-log.csv", to_csv(rows, columns))


def _slug(analysis: Analysis) -> str:
    return f"analyses/analysis-{analysis.pk}"


def gather(review) -> Contents:
    """Every file of the bundle but the manifest."""
    contents = Contents()
    runs = newest_runs(review)
    trial_ids = {item["trial"] for _, run, _ in runs for item in run.inputs}
    allowed = data_may_leave(trial_ids)
    tables = _tables(runs, allowed, contents)
    for analysis, run, family in runs:
        folder = _slug(analysis)
        record = _run_record(analysis, run, tables, allowed)
        trial_files = {str(item["trial"]): item["file"] for item in record["inputs"]}
        contents.add(f"{folder}/spec.json", _json(run.spec))
        contents.add(f"{folder}/result.json", _json(run.result))
        contents.add(f"{folder}/run.json", _json(record))
        contents.add(f"{folder}/stage-one.csv", _stage_one_csv(_stage_one_rows(run, trial_files)))
        if family is not None:
            contents.add(f"{folder}/sensitivity.json", _json(family.result))
        withheld = sorted(item["trial"] for item in record["inputs"] if item["withheld"])
        contents.analyses.append(
            {
                "id": analysis.pk,
                "name": analysis.name,
                "outcome": analysis.outcome.name,
                "run": run.pk,
                "folder": folder,
                "approach": run.spec["approach"],
                "measure": run.spec["measure"],
                "trials_withheld": withheld,
            }
        )
    contents.trials_with_data = sorted(trial for trial in trial_ids if allowed[trial])
    contents.trials_withheld = sorted(trial for trial in trial_ids if not allowed[trial])
    _dictionaries(trial_ids, allowed, contents)
    _schema(review, contents)
    _log(trial_ids, contents)
    contents.add("reproduce.R", R_SCRIPT.read_bytes())
    contents.add("README.md", readme(review, contents))
    return contents


def readme(review, contents: Contents) -> str:
    labels = dict(Trial.objects.filter(pk__in=contents.trials_withheld).values_list("pk", "registry_id"))
    lines = [
        f"# Reproducibility bundle: {review.title}",
        "",
        f"Made by IPD Review on {timezone.now():%Y-%m-%d %H:%M %Z} with the statistics engine ipdstats "
        f"{ENGINE_VERSION}." + (f" Registration: {review.registration}." if review.registration else ""),
        "",
        "## Re-run the analyses",
        "",
        "    Rscript reproduce.R            # from this folder; R 4 with metafor, lme4, survival and jsonlite",
        "",
        "`reproduce.R` rebuilds each analysis' input from the harmonised tables in `data/` (each trial's treatment "
        "coded 1/0 with the codes in its `run.json`), fits it with metafor (two-stage), lme4 (one-stage binary and "
        "continuous) or survival (Cox), and prints R's number beside the app's. It exits with status 1 when one "
        "differs beyond tolerance (1e-6 relative for two-stage results, 1e-3 for one-stage), 2 when an analysis "
        "cannot be re-run from the bundle, and its last line says `reproduced N/N analyses`.",
        "",
        "## Files",
        "",
        "- `manifest.json`: path, SHA-256 and size of every other file; the analyses and the trials.",
        "- `analyses/analysis-<id>/`: `spec.json` (the engine spec, without `data`), `result.json` (the engine's "
        "result, unchanged), `run.json` (the run's inputs: each trial's harmonised table, its SHA-256, arm codes and "
        "column types; trials left out and why; published results used), `stage-one.csv` (each trial's stage-one "
        "estimate as the app computed it) and, when run, `sensitivity.json` (the sensitivity family).",
        "- `data/harmonised-table-<id>.csv`: the harmonised tables the runs read, exact values (missing values are "
        "empty fields). These are data files for R: open them in a spreadsheet with care, nothing in them is "
        "escaped.",
        "- `dictionaries/trial-<id>.csv`: the data dictionary of each trial's file; `schema.csv`: the common schema; "
        "`harmonisation-log.csv`: how each trial's variables were mapped to the schema.",
        "",
        "## Trials whose data stay on the provider's platform",
        "",
    ]
    if contents.trials_withheld:
        lines.append(
            "The agreements of these trials keep their participant data on the provider's platform, so the bundle "
            "holds no table of theirs; they are represented by their stage-one estimates (`stage-one.csv`, rows "
            "with `data` = `platform`), which `reproduce.R` pools as they are. A one-stage analysis that includes "
            "them cannot be re-run from the bundle, and says so."
        )
        lines.append("")
        lines += [f"- trial {trial} {labels.get(trial, '')}".rstrip() for trial in contents.trials_withheld]
    else:
        lines.append("None: every trial's harmonised table is included.")
    return "\n".join(lines) + "\n"


def manifest(review, contents: Contents) -> dict:
    return {
        "format": FORMAT,
        "review": {"id": review.pk, "title": review.title, "registration": review.registration},
        "created_at": timezone.now().isoformat(),
        "engine_version": ENGINE_VERSION,
        "analyses": contents.analyses,
        "trials_with_data": contents.trials_with_data,
        "trials_withheld": contents.trials_withheld,
        "files": [
            {"path": path, "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
            for path, content in sorted(contents.files.items())
        ],
    }


def build_zip(review) -> tuple[bytes, dict, Contents]:
    contents = gather(review)
    described = manifest(review, contents)
    manifest_bytes = _json(described).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", manifest_bytes)
        for path, content in sorted(contents.files.items()):
            archive.writestr(path, content)
    described["manifest_sha256"] = hashlib.sha256(manifest_bytes).hexdigest()
    return buffer.getvalue(), described, contents
