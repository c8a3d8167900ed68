"""Reads: the harmonisation log, the editor's preview and its suggestions."""

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.db.models import QuerySet

from apps.core.errors import ApplicationError
from apps.datasets import declarations as declared
from apps.datasets.models import DatasetVersion
from apps.datasets.selectors import version_unread
from apps.datasets.storage import dataset_storage
from apps.harmonisation import rules, suggest
from apps.harmonisation.models import HarmonisedTable, Mapping, MappingRule, SchemaVariable
from apps.jobs.selectors import jobs_for_target
from apps.reviews.models import Review

# The job kind of a mapping's apply job (the services create such jobs; the selectors list them).
APPLY_KIND = "harmonise"

PREVIEW_ROWS = 50

LOG_COLUMNS = [
    "trial",
    "trial_id",
    "mapping",
    "mapping_revision",
    "target",
    "target_role",
    "input_version",
    "input_file",
    "input_sha256",
    "source_variables",
    "category",
    "rule",
    "units_from",
    "units_to",
    "factor",
    "offset",
    "status",
    "rationale",
    "query_reference",
    "origin",
    "warnings",
    "input_declarations",
    "input_declarations_sha256",
    "set_by",
    "set_at",
    "rule_revision",
    "current",
    "superseded_at",
    "superseded_by",
    "reviewed_by",
    "reviewed_at",
    "applied_at",
    "table_sha256",
    "rows",
    "rows_affected",
    "missing",
    "out_of_range",
    "flagged",
    "flagged_values",
]


def personal_columns(version: DatasetVersion) -> dict[str, str]:
    """The version's variables that look like personal data, with the reason."""
    entries = version.dictionary.exclude(personal_data=None).exclude(personal_data="")
    return dict(entries.values_list("name", "personal_data"))


def source_columns(version: DatasetVersion) -> list[str]:
    """The version's variable names from its data dictionary, so rules are checked without reading the data."""
    return list(version.dictionary.order_by("position").values_list("name", flat=True))


def current_rules(mapping: Mapping) -> list[MappingRule]:
    return list(
        MappingRule.objects.filter(mapping=mapping, superseded_at=None)
        .select_related("target")
        .order_by("target__position", "target__name")
    )


def schema_for_review(review: Review) -> QuerySet[SchemaVariable]:
    return SchemaVariable.objects.filter(review=review).order_by("position", "name")


def schema_target(review_id: int, variable_id) -> SchemaVariable | None:
    """A variable of the review's schema by id, or None (for an id that is not a number too)."""
    try:
        variable_id = int(variable_id)
    except (TypeError, ValueError):
        return None
    return SchemaVariable.objects.filter(pk=variable_id, review_id=review_id).first()


def current_rule(mapping: Mapping, target: SchemaVariable | None) -> MappingRule | None:
    if target is None:
        return None
    return MappingRule.objects.filter(mapping=mapping, target=target, superseded_at=None).first()


def latest_mapping(trial) -> Mapping | None:
    return trial.mappings.select_related("source_version").order_by("-number").first()


def latest_table(mapping: Mapping) -> HarmonisedTable | None:
    return mapping.tables.order_by("-created_at", "-id").first()


def apply_jobs(mapping: Mapping):
    return jobs_for_target(mapping).filter(kind=APPLY_KIND).order_by("-created_at", "-id")


def log_rows(mappings, *, history: bool = False) -> list[dict]:
    """One row per trial x target variable (per rule revision with `history`), as the Rmonize log lays it out."""
    rows = []
    for mapping in mappings:
        rows += _mapping_log_rows(mapping, history=history)
    return rows


def _mapping_log_rows(mapping: Mapping, *, history: bool) -> list[dict]:
    version = mapping.source_version
    tables = list(mapping.tables.order_by("-created_at", "-id"))
    mapping_rules = MappingRule.objects.filter(mapping=mapping).select_related("target", "set_by", "superseded_by")
    if not history:
        mapping_rules = mapping_rules.filter(superseded_at=None)
    rows = []
    declarations = version.declarations or {}
    declarations_sha256 = declared.declarations_sha256(declarations)
    declared_missing = dict(version.dictionary.values_list("name", "n_declared_missing"))
    for rule in mapping_rules.order_by("target__position", "target__name", "-revision"):
        description = _describe(rule)
        applied = next((table for table in tables if str(rule.pk) in table.rule_stats), None)
        stats = applied.rule_stats[str(rule.pk)] if applied else {}
        cited = _declarations_cited(declarations, rule.source_variables, declared_missing)
        rows.append(
            {
                "trial": str(mapping.trial),
                "trial_id": mapping.trial_id,
                "mapping": mapping.number,
                "mapping_revision": rule.mapping_revision,
                "target": rule.target.name,
                "target_role": rule.target.role,
                "input_version": version.number,
                "input_file": version.original_name,
                "input_sha256": version.sha256,
                "source_variables": ", ".join(rule.source_variables),
                "category": rule.category,
                "rule": description.executable,
                "units_from": description.units_from,
                "units_to": description.units_to,
                "factor": description.factor,
                "offset": description.offset,
                "status": rule.status,
                "rationale": rule.rationale,
                "query_reference": rule.query_reference,
                "origin": rule.origin_text,
                "warnings": " ".join(rules.rule_warnings(rule.as_rule(), rule.target.as_target())),
                "input_declarations": cited,
                "input_declarations_sha256": declarations_sha256 if cited else "",
                "set_by": _username(rule.set_by),
                "set_at": rule.set_at.isoformat(),
                "rule_revision": rule.revision,
                "current": rule.is_current,
                "superseded_at": rule.superseded_at.isoformat() if rule.superseded_at else None,
                "superseded_by": _username(rule.superseded_by),
                "reviewed_by": _username(mapping.reviewed_by),
                "reviewed_at": mapping.reviewed_at.isoformat() if mapping.reviewed_at else None,
                "applied_at": applied.created_at.isoformat() if applied else None,
                "table_sha256": applied.sha256 if applied else None,
                "rows": stats.get("rows"),
                "rows_affected": stats.get("rows_affected"),
                "missing": stats.get("missing"),
                "out_of_range": stats.get("out_of_range"),
                "flagged": stats.get("flagged"),
                "flagged_values": flag_summary(stats.get("flag_examples") or []),
            }
        )
    return rows


def _declarations_cited(declarations: dict, sources, declared_missing: dict[str, int]) -> str:
    """The declarations that change how the rule's variables are read, in words ("" when none does). Missing codes
    that matched no value of a variable changed nothing in it, and are not cited for it."""
    parts = [
        f"{name}: {declared.describe(declarations, name)}"
        for name in sources
        if declared.affects(declarations, name) and not _only_unmatched_codes(declarations, name, declared_missing)
    ]
    return "; ".join(parts)


def _only_unmatched_codes(declarations: dict, name: str, declared_missing: dict[str, int]) -> bool:
    file_wide = any(declarations.get(key) for key in ("sheet", "header_row", "decimal"))
    own = {key for key, value in declarations.get("variables", {}).get(name, {}).items() if value}
    return not file_wide and own <= {"missing_codes"} and declared_missing.get(name, 1) == 0


def flag_summary(examples: list) -> str:
    """ "not a number: '12,5' (37 rows); ..." from [text, rows] pairs."""
    return "; ".join(f"{text} ({count} row{'s' if count != 1 else ''})" for text, count in examples)


def _describe(rule: MappingRule) -> rules.Description:
    """The rule's text for the log; a rule the unit table can no longer describe still shows its parameters."""
    try:
        return rules.describe(rule.as_rule(), rule.target.as_target())
    except ApplicationError:
        return rules.Description(f"{rule.target.name}: {rule.category} {rule.parameters}")


def _in_words(rule: MappingRule) -> str:
    """The rule as a sentence for the editor; the log's formula when the unit table can no longer read it."""
    try:
        return rules.in_words(rule.as_rule(), rule.target.as_target())
    except ApplicationError:
        return _describe(rule).executable


def _suggestion_in_words(item: dict, target: rules.Target | None) -> str:
    """A suggested recode or conversion in words; nothing for a direct mapping, which its source says."""
    if target is None or item["category"] == rules.DIRECT:
        return ""
    rule = rules.Rule(target.name, item["category"], tuple(item["source_variables"]), item["parameters"])
    try:
        return rules.in_words(rule, target)
    except (ApplicationError, KeyError, ValueError):
        return ""


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def mappings_for_log(trials) -> list[Mapping]:
    """The latest mapping of each trial: the log shows how each trial's current data reach the schema."""
    latest = []
    for trial in trials:
        mapping = latest_mapping(trial)
        if mapping is not None:
            latest.append(mapping)
    return latest


def source_variables(version: DatasetVersion) -> list[suggest.SourceVariable]:
    variables = []
    for entry in version.dictionary.order_by("position"):
        values = tuple(_top_value(item) for item in (entry.top_values or []))
        variables.append(
            suggest.SourceVariable(
                name=entry.name,
                label=entry.label or "",
                value_labels=entry.value_labels or {},
                values=values,
                type=entry.type,
                n_distinct=entry.n_distinct,
                personal_data=entry.personal_data or None,
            )
        )
    return variables


def _top_value(item):
    """A top value as the dictionary stores it: a bare value, a [value, count] pair or {"value": ..., ...}."""
    if isinstance(item, dict):
        return item.get("value")
    if isinstance(item, list | tuple) and item:
        return item[0]
    return item


def schema_targets(review: Review) -> list[suggest.SchemaTarget]:
    return [
        suggest.SchemaTarget(
            name=variable.name,
            role=variable.role,
            type=variable.type,
            unit=variable.unit,
            allowed_values=tuple(variable.allowed_values or ()),
            description=variable.description or variable.label,
        )
        for variable in schema_for_review(review)
    ]


def mapping_suggest(version: DatasetVersion, review: Review) -> list[dict]:
    """Candidate rules for each schema variable from the version's names, labels and codes."""
    return [item.as_dict() for item in suggest.suggest(source_variables(version), schema_targets(review))]


def editor_rows(mapping: Mapping) -> list[dict]:
    """Each schema variable with its current rule, or the suggestions for it when it has none."""
    review = mapping.trial.review
    current = {
        rule.target_id: rule
        for rule in MappingRule.objects.filter(mapping=mapping, superseded_at=None).select_related("set_by")
    }
    suggestions: dict[str, list[dict]] = {}
    if any(variable.pk not in current for variable in schema_for_review(review)):
        targets = {variable.name: variable.as_target() for variable in schema_for_review(review)}
        for item in mapping_suggest(mapping.source_version, review):
            shown = {"json": json.dumps(item), "words": _suggestion_in_words(item, targets.get(item["target"]))}
            shown["category_label"] = MappingRule.Category(item["category"]).label.lower()
            suggestions.setdefault(item["target"], []).append(item | shown)
    rows = []
    for variable in schema_for_review(review):
        rule = current.get(variable.pk)
        rows.append(
            {
                "variable": variable,
                "rule": rule,
                "description": _describe(rule) if rule else None,
                "words": _in_words(rule) if rule else "",
                "warnings": rules.rule_warnings(rule.as_rule(), variable.as_target()) if rule else [],
                "suggestions": [] if rule else suggestions.get(variable.name, []),
            }
        )
    return rows


def mapping_preview(mapping: Mapping, *, rows: int = PREVIEW_ROWS) -> dict:
    """The first rows of the harmonised table, computed now from the current rules, without a job.

    A rule that fails on these rows is reported beside the table rather than stopping the preview.
    """
    frame = version_head(mapping.source_version, rows)
    unread = version_unread(mapping.source_version, list(frame.columns), rows)
    mapping_rules = current_rules(mapping)
    columns = {rules.SOURCE_ROW: pd.Series(range(1, len(frame) + 1), index=frame.index)}
    errors, stats = {}, {}
    for rule in mapping_rules:
        try:
            outcome = rules.apply_rule(rule.as_rule(), rule.target.as_target(), frame, unread)
        except ApplicationError as error:
            errors[rule.target.name] = error.message
            continue
        columns[rule.target.name] = outcome.values
        columns[rule.target.name + rules.FLAG_SUFFIX] = outcome.flags
        stats[rule.target.name] = outcome.stats | {"flag_summary": flag_summary(outcome.stats["flag_examples"])}
    table = pd.DataFrame(columns)
    return {
        "columns": list(table.columns),
        "rows": [[_cell(value) for value in row] for row in table.itertuples(index=False, name=None)],
        "errors": errors,
        "stats": stats,
        "n_rows": len(table),
    }


def version_head(version: DatasetVersion, rows: int) -> pd.DataFrame:
    """The first rows of a parsed version: a page never loads a million rows for fifty."""
    from apps.datasets.selectors import version_head_table
    from apps.datasets.tables import to_frame

    return to_frame(version_head_table(version, rows))


def harmonised_parquet(table: HarmonisedTable):
    """The stored Parquet file of a harmonised table, opened for reading (the caller closes it)."""
    return dataset_storage().open(table.storage_name, "rb")


def harmonised_rows(table: HarmonisedTable, *, batch_rows: int = 20_000):
    """(columns, batches of row tuples) of a harmonised table, read batch by batch for a streamed export."""
    handle = harmonised_parquet(table)
    parquet = pq.ParquetFile(handle)
    columns = list(parquet.schema_arrow.names)

    def batches():
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows):
                data = [_export_values(batch.column(index)) for index in range(batch.num_columns)]
                yield zip(*data, strict=True)
        finally:
            handle.close()

    return columns, batches()


def _export_values(array: pa.Array) -> list:
    """Values as the CSV shows them: dates as ISO dates, missing as empty."""
    if pa.types.is_timestamp(array.type):
        return [value.date().isoformat() if value is not None else None for value in array.to_pylist()]
    return array.to_pylist()


def _cell(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
