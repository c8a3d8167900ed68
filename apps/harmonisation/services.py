"""Writes for the review's schema, the trials' mappings and rules, and the harmonised tables.

Every write is audited in its own transaction. A rule is never overwritten: a change supersedes the current rule
and stores the next revision, and the mapping's revision counts the changes, so the log keeps its history.
"""

import hashlib
import json
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.core.services import (
    assign_fields,
    audit_record,
    in_use,
    save_and_audit,
    snapshot,
    update_and_audit,
    validate,
)
from apps.datasets import declarations as declared
from apps.datasets.models import DatasetVersion
from apps.datasets.selectors import version_column_names, version_frame, version_unread
from apps.datasets.storage import store_new
from apps.datasets.tables import parquet_writer
from apps.harmonisation import rules
from apps.harmonisation.models import HarmonisedTable, Mapping, MappingRule, SchemaVariable
from apps.harmonisation.selectors import (
    APPLY_KIND,
    apply_jobs,
    current_rules,
    mapping_suggest,
    personal_columns,
    source_columns,
)
from apps.harmonisation.signals import table_harmonised
from apps.jobs.context import JobContext
from apps.jobs.errors import JobInputError
from apps.jobs.models import Job
from apps.jobs.services import job_create, job_run
from apps.reviews.models import Review
from apps.trials.models import Trial

SCHEMA_FIELDS = (
    "name",
    "label",
    "role",
    "type",
    "unit",
    "allowed_values",
    "minimum",
    "maximum",
    "description",
    "position",
)
# Bump when a change to apps.harmonisation.rules or expressions can change a harmonised value.
CODE_VERSION = "harmonise-2"
APPLY_TASK = "apps.harmonisation.tasks.mapping_apply_task"


def _invalid(field: str, message: str, *, code: str = "invalid", status: int = 400) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", code=code, status=status, details={field: [message]})


@transaction.atomic
def schema_variable_create(*, review: Review, actor, **data) -> SchemaVariable:
    variable = SchemaVariable(review=review)
    assign_fields(instance=variable, data=data, allowed=SCHEMA_FIELDS)
    if "position" not in data:
        variable.position = (review.schema_variables.aggregate(last=Max("position"))["last"] or 0) + 1
    validate(variable)
    variable.save()
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, instance=variable, after=snapshot(variable), review=review
    )
    return variable


@transaction.atomic
def schema_variable_update(*, variable: SchemaVariable, actor, data: dict) -> SchemaVariable:
    # The core helper re-reads the row under a lock and writes only the changed fields, so a concurrent
    # change is not undone.
    return update_and_audit(instance=variable, actor=actor, data=data, allowed=SCHEMA_FIELDS, review=variable.review)


@transaction.atomic
def schema_variable_delete(*, variable: SchemaVariable, actor) -> None:
    if variable.rules.exists():
        raise ApplicationError(
            f"{variable.name} is used by mapping rules, whose history must stay readable; "
            "mark their rules impossible or change the variable instead of deleting it.",
            code="in_use",
            status=409,
        )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        instance=variable,
        before=snapshot(variable),
        review=variable.review,
    )
    try:
        with transaction.atomic():
            variable.delete()
    except ProtectedError as error:
        raise in_use(variable.name, error)


@transaction.atomic
def mapping_create(
    *, trial: Trial, source_version: DatasetVersion, actor, note: str = "", copy_rules_from: Mapping | None = None
) -> Mapping:
    """A new mapping of a parsed version of the trial's data, empty or starting from another mapping's rules.

    A copied rule that does not fit the new version (a variable renamed or dropped) becomes an undetermined
    rule saying why, so the gap shows in the log instead of disappearing.
    """
    if source_version.trial_id != trial.pk:
        raise _invalid("source_version", "This dataset version belongs to another trial.")
    if source_version.status != DatasetVersion.Status.PARSED:
        raise _invalid(
            "source_version",
            f"Version {source_version.number} is {source_version.get_status_display().lower()}, not parsed; "
            "map a parsed version.",
        )
    Trial.objects.select_for_update().filter(pk=trial.pk).first()  # numbers are given one at a time per trial
    number = (trial.mappings.aggregate(last=Max("number"))["last"] or 0) + 1
    mapping = Mapping.objects.create(
        trial=trial, source_version=source_version, number=number, note=note, created_by=_person(actor)
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        instance=mapping,
        after=snapshot(mapping),
        review=trial.review,
        trial=trial,
    )
    if copy_rules_from is not None:
        _copy_rules(source=copy_rules_from, mapping=mapping, actor=actor)
        mapping.refresh_from_db()
    return mapping


def mapping_create_by_ids(
    *, trial: Trial, source_version_id: int, actor, note: str = "", copy_rules_from_id: int | None = None
) -> Mapping:
    """mapping_create for ids sent through the API: each must name an object of this trial (400 otherwise)."""
    version = DatasetVersion.objects.filter(pk=source_version_id, trial=trial).first()
    if version is None:
        raise _invalid("source_version", "No dataset version of this trial has this id.")
    copy_from = None
    if copy_rules_from_id is not None:
        copy_from = Mapping.objects.filter(pk=copy_rules_from_id, trial=trial).first()
        if copy_from is None:
            raise _invalid("copy_rules_from", "No mapping of this trial has this id.")
    return mapping_create(trial=trial, source_version=version, actor=actor, note=note, copy_rules_from=copy_from)


def _copy_rules(*, source: Mapping, mapping: Mapping, actor) -> None:
    if source.trial_id != mapping.trial_id:
        raise _invalid("copy_rules_from", "Rules can be copied only from a mapping of the same trial.")
    for rule in current_rules(source):
        try:
            with transaction.atomic():
                mapping_rule_set(
                    mapping=mapping,
                    target=rule.target,
                    actor=actor,
                    category=rule.category,
                    source_variables=rule.source_variables,
                    parameters=rule.parameters,
                    rationale=rule.rationale,
                    query_reference=rule.query_reference,
                    status=rule.status,
                    suggestion=rule.suggestion or None,
                )
        except ApplicationError as error:
            mapping_rule_set(
                mapping=mapping,
                target=rule.target,
                actor=actor,
                category=rules.UNDETERMINED,
                rationale=f"Not copied from mapping {source.number}: {error.message}",
                query_reference=rule.query_reference,
            )


def _person(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _default_status(category: str) -> str:
    if category == rules.IMPOSSIBLE:
        return MappingRule.Status.IMPOSSIBLE
    if category == rules.UNDETERMINED:
        return MappingRule.Status.PARTIAL
    return MappingRule.Status.COMPLETE


def _rule_content(rule: MappingRule) -> tuple:
    return (
        rule.category,
        list(rule.source_variables),
        rule.parameters,
        rule.rationale,
        rule.query_reference,
        rule.status,
        rule.origin,
    )


@transaction.atomic
def mapping_rule_set(
    *,
    mapping: Mapping,
    target: SchemaVariable,
    actor,
    category: str,
    source_variables: list | tuple = (),
    parameters: dict | None = None,
    rationale: str = "",
    query_reference: str = "",
    status: str = "",
    suggestion: dict | None = None,
) -> MappingRule:
    """Set the rule for one target: the current rule, if any, is superseded and a new revision stored.

    `suggestion` (the suggestion's source, score and reason) marks a rule a person accepted from the
    suggestions rather than wrote. A rule that reads a variable that looks like personal data needs a
    rationale written by a person: a harmonised table carries such a variable only on purpose.
    """
    mapping = Mapping.objects.select_for_update().select_related("trial", "source_version").get(pk=mapping.pk)
    if target.review_id != mapping.trial.review_id:
        raise _invalid("target", "This variable belongs to another review's schema.")
    checked = rules.check_rule(
        rules.Rule(target.name, category, tuple(source_variables or ()), dict(parameters or {})),
        target.as_target(),
        source_columns(mapping.source_version),
        strict=True,
    )
    status = status or _default_status(category)
    if status not in MappingRule.Status.values:
        raise _invalid("status", f"Use one of {', '.join(MappingRule.Status.values)}.")
    if category == rules.IMPOSSIBLE and status != MappingRule.Status.IMPOSSIBLE:
        raise _invalid("status", "An impossible rule has the status impossible.")
    if category == rules.IMPOSSIBLE and not rationale.strip():
        raise _invalid("rationale", "Say why this variable cannot be derived from the trial's data.")
    _check_personal_data(mapping.source_version, checked.source_variables, rationale, suggested=bool(suggestion))

    current = MappingRule.objects.select_for_update().filter(mapping=mapping, target=target, superseded_at=None).first()
    proposed = MappingRule(
        mapping=mapping,
        target=target,
        category=category,
        source_variables=list(checked.source_variables),
        parameters=checked.parameters,
        rationale=rationale,
        query_reference=query_reference,
        status=status,
        origin=MappingRule.Origin.SUGGESTION if suggestion else MappingRule.Origin.PERSON,
        suggestion=suggestion or {},
    )
    if current is not None and _rule_content(current) == _rule_content(proposed):
        return current
    now = timezone.now()
    if current is not None:
        _supersede(current, actor=actor, now=now, mapping=mapping)
    mapping.revision += 1
    mapping.save(update_fields=["revision", "updated_at"])
    last = MappingRule.objects.filter(mapping=mapping, target=target).aggregate(last=Max("revision"))["last"] or 0
    proposed.revision = last + 1
    proposed.mapping_revision = mapping.revision
    proposed.set_by = _person(actor)
    proposed.set_at = now
    validate(proposed, exclude=["mapping", "target", "set_by"])
    proposed.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        instance=proposed,
        after=snapshot(proposed),
        review=mapping.trial.review,
        trial=mapping.trial,
    )
    return proposed


# A reason is a sentence, not a keystroke: "x" or "ok" says nothing of why the review needs a person's data.
PERSONAL_DATA_RATIONALE_WORDS = 3


def _check_personal_data(version: DatasetVersion, sources, rationale: str, *, suggested: bool) -> None:
    """Refuse a rule that would carry a variable that looks like personal data without a person's reason."""
    personal = personal_columns(version)
    flagged = [name for name in sources if name in personal]
    if not flagged:
        return
    listed = ", ".join(f"{name} ({personal[name]})" for name in flagged)
    if suggested:
        raise _invalid(
            "source_variables",
            f"{listed} looks like personal data: it is never taken from a suggestion. Write the rule yourself, "
            "with the reason the review needs it.",
        )
    if len(rationale.split()) < PERSONAL_DATA_RATIONALE_WORDS:
        raise _invalid(
            "rationale",
            f"{listed} looks like personal data: a rule carries it into the harmonised table only with a "
            f"rationale saying why the review needs it (data minimisation), in at least "
            f"{PERSONAL_DATA_RATIONALE_WORDS} words.",
        )


def _accepted_rationale(suggestion: dict, actor) -> str:
    by = actor.get_username() if getattr(actor, "is_authenticated", False) else "nobody recorded"
    score = suggestion.get("score")
    said = "; ".join(part for part in (str(suggestion.get("reason") or ""), f"score {score}" if score else "") if part)
    return f"Suggested ({said}), accepted by {by}." if said else f"Suggested, accepted by {by}."


def _suggestion_record(suggestion: dict) -> dict:
    return {key: suggestion.get(key) for key in ("source", "score", "reason")}


def mapping_suggestion_accept(*, mapping: Mapping, target: SchemaVariable, actor, suggestion: dict) -> MappingRule:
    """Store a suggestion (as selectors.mapping_suggest gives it) as the target's rule, saying it was accepted."""
    if not isinstance(suggestion, dict):
        suggestion = {}
    category = suggestion.get("category")
    source_variables = suggestion.get("source_variables") or []
    parameters = suggestion.get("parameters") or {}
    if not (isinstance(category, str) and isinstance(source_variables, list) and isinstance(parameters, dict)):
        raise ApplicationError("That suggestion could not be read; set the rule with the form instead.")
    return mapping_rule_set(
        mapping=mapping,
        target=target,
        actor=actor,
        category=category,
        source_variables=source_variables,
        parameters=parameters,
        rationale=_accepted_rationale(suggestion, actor),
        suggestion=_suggestion_record(suggestion),
    )


DEFAULT_ACCEPT_SCORE = 0.9


def _min_score(value) -> float:
    if value is None or value == "":
        return DEFAULT_ACCEPT_SCORE
    try:
        score = float(value)
    except (TypeError, ValueError):
        score = float("nan")
    if isinstance(value, bool) or not 0 <= score <= 1:
        raise _invalid("min_score", "Give a score from 0 to 1, e.g. 0.9.")
    return score


def mapping_suggestions_accept(*, mapping: Mapping, actor, min_score=None) -> dict:
    """Accept, for every schema variable without a rule, its best suggestion scoring at least `min_score`.

    A variable whose two best suggestions score the same is left to a person, as is one that already has a rule
    (a person's rule is never replaced). Each rule stored says it was suggested and who accepted it. Returns
    {"accepted": [rules], "skipped": [{"target", "reason"}]}.
    """
    threshold = _min_score(min_score)
    review = mapping.trial.review
    variables = {variable.name: variable for variable in SchemaVariable.objects.filter(review=review)}
    with_rule = set(
        MappingRule.objects.filter(mapping=mapping, superseded_at=None).values_list("target__name", flat=True)
    )
    by_target: dict[str, list[dict]] = {}
    for item in mapping_suggest(mapping.source_version, review):
        by_target.setdefault(item["target"], []).append(item)
    accepted, skipped = [], []
    for name in sorted(variables, key=lambda name: (variables[name].position, name)):
        candidates = sorted(by_target.get(name, []), key=lambda item: -item["score"])
        reason = _not_accepted(name in with_rule, candidates, threshold)
        if reason:
            skipped.append({"target": name, "reason": reason})
            continue
        try:
            with transaction.atomic():
                rule = mapping_suggestion_accept(
                    mapping=mapping, target=variables[name], actor=actor, suggestion=candidates[0]
                )
        except ApplicationError as error:
            skipped.append({"target": name, "reason": error.message})
            continue
        accepted.append(rule)
    return {"accepted": accepted, "skipped": skipped}


def _not_accepted(has_rule: bool, candidates: list[dict], threshold: float) -> str:
    """Why a variable's suggestions are not accepted, or "" when its best one is."""
    if has_rule:
        return "it has a rule already"
    if not candidates:
        return "no suggestion"
    best = candidates[0]
    if best["score"] < threshold:
        return f"the best suggestion ({best['source']}) scores {best['score']}, below {threshold}"
    if len(candidates) > 1 and candidates[1]["score"] == best["score"]:
        return f"{best['source']} and {candidates[1]['source']} score the same ({best['score']}); choose one"
    return ""


def _supersede(rule: MappingRule, *, actor, now, mapping: Mapping) -> None:
    before = snapshot(rule)
    rule.superseded_at = now
    rule.superseded_by = _person(actor)
    save_and_audit(
        rule,
        actor=actor,
        before=before,
        review=mapping.trial.review,
        trial=mapping.trial,
        fields=["superseded_at", "superseded_by"],
    )


@transaction.atomic
def mapping_rule_remove(*, mapping: Mapping, target: SchemaVariable, actor) -> None:
    """Withdraw the target's rule; the withdrawn rule stays in the log's history."""
    mapping = Mapping.objects.select_for_update().select_related("trial").get(pk=mapping.pk)
    current = MappingRule.objects.select_for_update().filter(mapping=mapping, target=target, superseded_at=None).first()
    if current is None:
        raise ApplicationError(f"{target.name} has no rule in this mapping.", code="not_found", status=404)
    _supersede(current, actor=actor, now=timezone.now(), mapping=mapping)
    mapping.revision += 1
    mapping.save(update_fields=["revision", "updated_at"])


@transaction.atomic
def mapping_mark_reviewed(*, mapping: Mapping, actor) -> Mapping:
    """Record that a second person checked the mapping as it stands now (its current revision)."""
    mapping = Mapping.objects.select_for_update().select_related("trial").get(pk=mapping.pk)
    authors = set(MappingRule.objects.filter(mapping=mapping, superseded_at=None).values_list("set_by", flat=True))
    if authors and authors <= {getattr(actor, "pk", None)}:
        raise ApplicationError(
            "A mapping is reviewed by someone other than the person who wrote its rules.", status=409
        )
    before = snapshot(mapping)
    mapping.reviewed_by = _person(actor)
    mapping.reviewed_at = timezone.now()
    mapping.reviewed_revision = mapping.revision
    save_and_audit(
        mapping,
        actor=actor,
        before=before,
        review=mapping.trial.review,
        trial=mapping.trial,
        fields=["reviewed_by", "reviewed_at", "reviewed_revision", "updated_at"],
    )
    return mapping


@transaction.atomic
def mapping_apply(*, mapping: Mapping, actor) -> Job:
    """Queue the job that applies the mapping's current rules to its source version; one at a time per mapping."""
    mapping = Mapping.objects.select_for_update().select_related("trial__review").get(pk=mapping.pk)
    if not MappingRule.objects.filter(mapping=mapping, superseded_at=None).exists():
        raise ApplicationError("This mapping has no rules yet; set at least one before applying it.", status=409)
    pending = apply_jobs(mapping).filter(state__in=[Job.State.QUEUED, Job.State.RUNNING]).first()
    if pending is not None:
        raise ApplicationError(
            f"Harmonisation job {pending.pk} of this mapping is still {pending.get_state_display().lower()}; "
            "wait for it to finish before applying the mapping again.",
            code="apply_in_progress",
            status=409,
            details={"job": pending.pk},
        )
    return job_create(
        kind=APPLY_KIND,
        task=APPLY_TASK,
        target=mapping,
        actor=actor,
        review=mapping.trial.review,
        trial=mapping.trial,
        queue=settings.HARMONISE_QUEUE,
    )


def mapping_apply_run(job_id: int) -> Job | None:
    """The apply job's body, run by the Celery task; a second delivery of the same job does nothing."""
    return job_run(job_id, _apply_work)


def _apply_work(context: JobContext) -> dict:
    mapping = Mapping.objects.select_related("trial", "source_version").filter(pk=context.job.target_id).first()
    if mapping is None:
        raise JobInputError("The mapping this job was to apply no longer exists.")
    started = time.process_time()
    table = harmonised_table_build(mapping=mapping, job=context.job, actor=context.job.created_by, context=context)
    cpu_seconds = round(time.process_time() - started, 3)
    # Every harmonised table is checked: the checks app, subscribed to this event, queues the check job once the
    # table is committed.
    transaction.on_commit(lambda: table_harmonised.send(sender=HarmonisedTable, table_id=table.pk))
    return {
        "harmonised_table": table.pk,
        "rows": table.n_rows,
        "flagged_rows": table.n_flagged_rows,
        "sha256": table.sha256,
        "mapping_revision": table.mapping_revision,
        # Processor time of the worker (all its threads) while it built the table.
        "cpu_seconds": cpu_seconds,
    }


def _rules_hash(mapping_rules: list[MappingRule]) -> str:
    content = [
        {
            "target": rule.target.name,
            "revision": rule.revision,
            "category": rule.category,
            "source_variables": rule.source_variables,
            "parameters": rule.parameters,
        }
        for rule in mapping_rules
    ]
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def harmonised_name(sha256: str) -> str:
    return f"harmonised/{sha256[:2]}/{sha256}.parquet"


def harmonised_table_build(
    *, mapping: Mapping, job: Job | None = None, actor=None, context: JobContext | None = None
) -> HarmonisedTable:
    """Apply the current rules to the whole source version and store the table; raises JobInputError on bad input."""
    with transaction.atomic():
        locked = Mapping.objects.select_for_update().get(pk=mapping.pk)
        revision = locked.revision
        mapping_rules = current_rules(locked)
    if not mapping_rules:
        raise JobInputError("This mapping has no rules; set at least one before applying it.")
    _check_rules_personal_data(mapping, mapping_rules)
    input_hashes = {
        "source_sha256": mapping.source_version.sha256,
        "rules_sha256": _rules_hash(mapping_rules),
        # The typed table read from the file: read again with new declarations, it is another input.
        "parsed_table": mapping.source_version.parquet_name,
        "declarations_sha256": declared.declarations_sha256(mapping.source_version.declarations),
    }
    input_sha256 = _input_hash(input_hashes)
    existing = HarmonisedTable.objects.filter(
        mapping=mapping, mapping_revision=revision, input_sha256=input_sha256
    ).first()
    if existing is not None:
        return existing  # the same rules on the same data: the table already stands
    _progress(context, 5, "Reading the parsed data")
    targets = [rule.target.as_target() for rule in mapping_rules]
    rule_list = [rule.as_rule() for rule in mapping_rules]
    try:
        names = version_column_names(mapping.source_version)
    except ApplicationError as error:
        raise JobInputError(error.message)
    try:
        columns = rules.columns_read(targets, rule_list, names)
    except ApplicationError as error:
        raise JobInputError(f"A rule could not be applied: {error.message}")
    frame = version_frame(mapping.source_version, columns)
    unread = version_unread(mapping.source_version, columns)
    _step_done(context, "read")
    _progress(context, 30, f"Applying {len(mapping_rules)} rules to {len(frame)} rows")
    try:
        name, sha256, result = _harmonise_and_store(frame, targets, rule_list, context, unread)
    except ApplicationError as error:
        raise JobInputError(f"A rule could not be applied: {error.message}")
    _step_done(context, "rules_and_write")
    by_target = {rule.target.name: rule for rule in mapping_rules}
    rule_stats = {str(by_target[target].pk): _stats(stats) for target, stats in result.stats.items()}
    return _table_record(
        mapping=mapping,
        actor=actor,
        job=job,
        mapping_revision=revision,
        storage_name=name,
        sha256=sha256,
        code_version=CODE_VERSION,
        input_hashes=input_hashes,
        input_sha256=input_sha256,
        n_rows=result.n_rows,
        n_flagged_rows=result.n_flagged_rows,
        flags={target: stats["flagged"] for target, stats in result.stats.items()},
        rule_stats=rule_stats,
    )


# Rows harmonised at a time: the rules of one block run while the block before is written.
BLOCK_ROWS = 250_000


def _harmonise_and_store(frame, targets, rule_list, context, unread) -> tuple[str, str, rules.Harmonised]:
    """Harmonise the frame block by block into one Parquet file, stored under its SHA-256."""
    done: dict[str, rules.Harmonised] = {}

    def write(path) -> None:
        writer = None

        def write_block(block) -> None:
            nonlocal writer
            writer = writer or parquet_writer(str(path), block)
            writer.write_table(block)

        try:
            done["result"] = rules.harmonise_in_blocks(
                frame,
                targets,
                rule_list,
                write_block,
                block_rows=BLOCK_ROWS,
                unread=unread,
                on_progress=lambda number, total: _progress(
                    context, 30 + 60 * number // total, f"Harmonised and stored {number} of {total} blocks of rows"
                ),
            )
        finally:
            if writer is not None:
                writer.close()

    name, sha256 = store_new(write, harmonised_name)
    return name, sha256, done["result"]


def _check_rules_personal_data(mapping: Mapping, mapping_rules: list[MappingRule]) -> None:
    """Checked again at apply time: the version may have been read again since the rules were set."""
    for rule in mapping_rules:
        try:
            _check_personal_data(
                mapping.source_version,
                rule.source_variables,
                rule.rationale,
                suggested=rule.origin == MappingRule.Origin.SUGGESTION,
            )
        except ApplicationError as error:
            raise JobInputError(f"The rule for {rule.target.name} cannot be applied: {error.message}")


def _input_hash(input_hashes: dict) -> str:
    content = {**input_hashes, "code_version": CODE_VERSION}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def _table_record(*, mapping: Mapping, actor, mapping_revision: int, input_sha256: str, **fields) -> HarmonisedTable:
    """Store the table once per (mapping, revision, input): an apply that lost a race gets the stored one."""
    table, created = HarmonisedTable.objects.get_or_create(
        mapping=mapping,
        mapping_revision=mapping_revision,
        input_sha256=input_sha256,
        defaults={"created_by": _person(actor), **fields},
    )
    if not created:
        return table
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        instance=table,
        after=snapshot(table),
        review=mapping.trial.review,
        trial=mapping.trial,
    )
    return table


def _stats(stats: dict) -> dict:
    kept = {key: value for key, value in stats.items() if isinstance(value, int | float | str)}
    kept["flag_examples"] = stats.get("flag_examples", [])
    return kept


def _step_done(context: JobContext | None, name: str) -> None:
    if context is not None:
        context.step_done(name)


def _progress(context: JobContext | None, percent: int, message: str) -> None:
    if context is not None:
        context.progress(percent, message)
