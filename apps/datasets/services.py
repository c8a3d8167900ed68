"""Writes for participant data: uploads, parsing, and the version status that follows its parse job."""

import hashlib
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pyarrow as pa
from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.core.services import audit_record, save_and_audit, snapshot
from apps.core.text import human_datetime
from apps.datasets import declarations as declared
from apps.datasets import storage, tables
from apps.datasets.dictionary import dictionary_entry
from apps.datasets.formats import detect_format
from apps.datasets.inference import TypedColumn, file_decimal_mark, infer_text_column, type_declared_column
from apps.datasets.isolation import run_isolated
from apps.datasets.models import DatasetVersion, DictionaryEntry
from apps.datasets.readers import Limits, read_source
from apps.datasets.tables import write_typed
from apps.jobs.context import JobContext
from apps.jobs.errors import JobInputError
from apps.jobs.models import Job
from apps.jobs.selectors import job_latest_for_target
from apps.jobs.services import job_create, job_resend
from apps.trials.lifecycle import Status as TrialStatus
from apps.trials.models import Trial
from apps.trials.services import trial_transition, trial_update

logger = logging.getLogger(__name__)

PARSE_JOB_KIND = "dataset_parse"
PARSE_TASK = "apps.datasets.tasks.dataset_parse_task"
# Bumped when parsing changes what it produces, so a new parse never reuses an old table's name.
PARSER_VERSION = 4
HEAD_SIZE = 64 * 1024


# ----------------------------------------------------------------------------------------------- uploads


def parse_queue() -> str:
    """A queue to send parse jobs to instead of the routed one (`ingest`); set to isolate a worker."""
    return settings.DATASET_PARSE_QUEUE


def max_upload_bytes() -> int:
    return settings.DATASET_MAX_UPLOAD_BYTES


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:,.0f} KB"
    return f"{size / (1024 * 1024):,.0f} MB"


def too_large_error(size: int | None = None) -> ApplicationError:
    got = f" ({human_size(size)})" if size else ""
    return ApplicationError(
        f"The file is too large{got}: the limit is {human_size(max_upload_bytes())}. Split it, or ask the "
        "coordinator to raise DATASET_MAX_UPLOAD_BYTES.",
        code="file_too_large",
        status=413,
    )


def hash_file(file: File) -> tuple[str, int]:
    """SHA-256 and size of an uploaded file, read chunk by chunk (never whole into memory)."""
    digest, size = hashlib.sha256(), 0
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
        size += len(chunk)
        if size > max_upload_bytes():
            raise too_large_error()
    file.seek(0)
    return digest.hexdigest(), size


def _refuse_by_content(file: File) -> None:
    file.seek(0)
    head = file.read(HEAD_SIZE)
    file.seek(0)
    # A file streamed to disk can be opened whole, which settles what a ZIP archive holds.
    path = file.temporary_file_path() if hasattr(file, "temporary_file_path") else None
    detection = detect_format(head, path)
    if detection.refusal:
        raise ApplicationError(detection.refusal, code="format_refused", status=415)


def _version_for_content(trial: Trial, sha256: str) -> DatasetVersion | None:
    return DatasetVersion.objects.filter(trial=trial, sha256=sha256).first()


def dataset_upload(*, trial: Trial, actor, file: File, note: str = "") -> tuple[DatasetVersion, bool]:
    """Store an uploaded file as the trial's next version and queue its parse; (version, created).

    The same content uploaded again returns the existing version, so a client can retry safely; concurrent
    uploads of one trial are serialised on the trial's row, and the unique (trial, sha256) constraint backs
    that up. `file` may carry `sha256` and `size` computed while it was received.
    """
    sha256 = getattr(file, "sha256", None)
    size = getattr(file, "size_received", None)
    if not sha256 or size is None:
        sha256, size = hash_file(file)
    if size > max_upload_bytes():
        raise too_large_error(size)
    if size == 0:
        raise ApplicationError("The file is empty.", code="empty_file")
    existing = _version_for_content(trial, sha256)
    if existing is not None:
        return existing, False
    _refuse_by_content(file)
    storage_name = storage.store_once(storage.upload_name(sha256), file)
    try:
        with transaction.atomic():
            return _create_version(
                trial=trial, actor=actor, sha256=sha256, size=size, name=file.name, note=note, stored=storage_name
            )
    except IntegrityError:
        existing = _version_for_content(trial, sha256)
        if existing is None:
            raise
        return existing, False


def identical_upload_message(version: DatasetVersion) -> str:
    """What to tell one who uploads content the trial already has: nothing new was stored."""
    return (
        f"This file's content is identical to version {version.number} ({version.original_name}, uploaded "
        f"{human_datetime(version.uploaded_at)}): nothing new was stored."
    )


def _create_version(*, trial, actor, sha256, size, name, note, stored) -> tuple[DatasetVersion, bool]:
    Trial.objects.select_for_update().filter(pk=trial.pk).first()
    existing = _version_for_content(trial, sha256)
    if existing is not None:
        return existing, False
    number = (DatasetVersion.objects.filter(trial=trial).aggregate(last=Max("number"))["last"] or 0) + 1
    version = DatasetVersion.objects.create(
        trial=trial,
        number=number,
        sha256=sha256,
        size=size,
        original_name=Path(name or "upload").name[:255],
        note=note,
        storage_name=stored,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        instance=version,
        after=snapshot(version),
        review=trial.review,
        trial=trial,
    )
    job_create(
        kind=PARSE_JOB_KIND,
        task=PARSE_TASK,
        target=version,
        actor=actor,
        review=trial.review,
        trial=trial,
        queue=parse_queue(),
    )
    return version, True


def dataset_original_open(*, version: DatasetVersion, actor):
    """The stored upload, opened for reading (the caller closes it), with an audit event of who took it.

    The bytes are those received: stored under their SHA-256, never changed, so a download can be shown to be
    byte-identical by hashing it.
    """
    handle = storage.dataset_storage().open(version.storage_name, "rb")
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DOWNLOAD,
        instance=version,
        after={"sha256": version.sha256, "size": version.size, "original_name": version.original_name},
        review=version.trial.review,
        trial=version.trial,
    )
    return handle


def dataset_parse_requeue(*, version: DatasetVersion, actor) -> Job:
    """Parse a failed version again (after a limit was raised, say), or send again the parse of a version
    still queued (its message may have been lost); the stored file is unchanged."""
    with transaction.atomic():
        version = DatasetVersion.objects.select_for_update().get(pk=version.pk)
        if version.status not in (DatasetVersion.Status.FAILED, DatasetVersion.Status.QUEUED):
            raise ApplicationError(
                "Only a version whose parse failed or is still queued can be parsed again.",
                code="not_failed",
                status=409,
            )
        waiting = job_latest_for_target(version, kind=PARSE_JOB_KIND)
        if version.status == DatasetVersion.Status.QUEUED and waiting is not None and waiting.state == Job.State.QUEUED:
            job_resend(waiting)
            return waiting
        before = snapshot(version)
        return _read_again(version, actor=actor, action=AuditEvent.Action.TRANSITION, before=before)


def _read_again(version: DatasetVersion, *, actor, action: str, before: dict, fields: tuple[str, ...] = ()) -> Job:
    """Queue the version to be parsed again (after `fields` changed): audited, with its parse job."""
    version.status = DatasetVersion.Status.QUEUED
    version.error = ""
    save_and_audit(
        version,
        actor=actor,
        action=action,
        before=before,
        review=version.trial.review,
        trial=version.trial,
        fields=[*fields, "status", "error"],
    )
    return job_create(
        kind=PARSE_JOB_KIND,
        task=PARSE_TASK,
        target=version,
        actor=actor,
        review=version.trial.review,
        trial=version.trial,
        queue=parse_queue(),
    )


# ------------------------------------------------------------------------------------------ declarations


def _declarable_variables(version: DatasetVersion) -> dict[str, tuple[str, bool]]:
    entries = version.dictionary.values_list("name", "type", "date_format_declared")
    return {name: (variable_type, was_declared) for name, variable_type, was_declared in entries}


def dataset_declarations_set(*, version: DatasetVersion, actor, declarations: dict) -> Job | None:
    """Store the version's declared missing codes and date formats and read the stored upload again with them.

    Declarations replace the previous ones whole (`{}` removes them all). The upload and the typed tables
    already stored are kept: the new table gets a name of its own. Returns the parse job, or None when the
    declarations are unchanged (nothing is read again). Only a parsed version (or one whose reading with
    declarations failed: it keeps its last dictionary) takes declarations, so that
    they are checked against its variables and no parse is overtaken by another.
    """
    with transaction.atomic():
        version = DatasetVersion.objects.select_for_update().select_related("trial__review").get(pk=version.pk)
        # A version whose reading failed takes declarations too: where the table is (sheet, header row) and how
        # numbers are written may be what it needs. One read before keeps the dictionary of its last parse,
        # against which variables' declarations are checked; one never read has no variables to declare.
        failed = version.status == DatasetVersion.Status.FAILED
        if version.status != DatasetVersion.Status.PARSED and not failed:
            raise ApplicationError(
                f"Version {version.number} is {version.get_status_display().lower()}, not parsed; declare missing "
                "codes and date formats once it is parsed.",
                code="not_parsed",
                status=409,
            )
        sheets = version.read_options.get("sheets")
        cleaned = declared.declarations_clean(
            declarations,
            variables=_declarable_variables(version),
            statistical=version.detected_format in declared.STATISTICAL_FORMATS,
            file_format=version.detected_format,
            sheets=sheets if isinstance(sheets, list) else None,
        )
        if cleaned == version.declarations and not failed:
            return None
        before = snapshot(version)
        version.declarations = cleaned
        return _read_again(
            version, actor=actor, action=AuditEvent.Action.UPDATE, before=before, fields=("declarations",)
        )


# ----------------------------------------------------------------------------------------------- parsing


_STATUS_FOR_JOB_STATE = {
    Job.State.QUEUED: DatasetVersion.Status.QUEUED,
    Job.State.RUNNING: DatasetVersion.Status.PARSING,
    Job.State.FAILED: DatasetVersion.Status.FAILED,
}


def version_follow_job(job: Job) -> None:
    """Mirror a parse job's state on its version; success is written by the parse itself with its results."""
    status = _STATUS_FOR_JOB_STATE.get(job.state)
    if status is None:
        return
    with transaction.atomic():
        version = DatasetVersion.objects.select_for_update().filter(pk=job.target_id).first()
        if version is None or version.status == DatasetVersion.Status.PARSED:
            return
        before = snapshot(version)
        version.status = status
        version.error = job.error if status == DatasetVersion.Status.FAILED else ""
        version.save(update_fields=["status", "error"])
        if before["status"] != status:
            _audit_status_change(version, before)


def _audit_status_change(version: DatasetVersion, before: dict) -> None:
    """An audit event for a status the worker set; no person acted, so it has no actor."""
    trial = Trial.objects.select_related("review").get(pk=version.trial_id)
    audit_record(
        actor=None,
        action=AuditEvent.Action.TRANSITION,
        instance=version,
        before=before,
        after=snapshot(version),
        review=trial.review,
        trial=trial,
    )


def _limits() -> Limits:
    return Limits(
        max_rows=settings.DATASET_MAX_ROWS,
        max_columns=settings.DATASET_MAX_COLUMNS,
        xlsx_max_uncompressed_bytes=settings.DATASET_XLSX_MAX_UNCOMPRESSED_BYTES,
        xlsx_max_ratio=settings.DATASET_XLSX_MAX_RATIO,
    )


def _type_column(source, name: str, decimal: str = "") -> TypedColumn:
    raw = source.table.column(name)
    if name in source.untyped:
        return infer_text_column(raw, decimal=decimal, decimal_hint=source.decimal_hint)
    return type_declared_column(raw)


def _entry(source, position: int, name: str, column: TypedColumn) -> dict:
    return dictionary_entry(
        position=position,
        name=name,
        column=column,
        label=source.labels.get(name, ""),
        value_labels=source.value_labels.get(name),
        source_format=source.source_formats.get(name, ""),
    )


def _thread_count() -> int:
    return max(2, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class ParseInput:
    """What the isolated child needs to parse a file; it is sent to the child, so it holds plain values."""

    path: Path
    format: str
    head: bytes
    table_path: Path
    limits: Limits
    # The version's declared missing codes and date formats (apps.datasets.declarations).
    declarations: dict = field(default_factory=dict)


def _decimal_found(source) -> str:
    """The decimal mark a value of the file itself settles ("1.234,5"), recorded in the read options. Only in a
    text file split by something other than commas: in a comma-split file such a value is quoted text, and a
    workbook writes its number cells with points ("1.234" is 1.234 there)."""
    if source.options.get("delimiter") in (None, "comma"):
        return ""
    untyped = [source.table.column(name) for name in source.table.column_names if name in source.untyped]
    mark = file_decimal_mark(untyped)
    if mark:
        source.options["decimal_found"] = f'"{mark}" (a value such as 1.234,5 writes thousands with points)'
    return mark


def _unread_values(source, names: list[str], columns: list[TypedColumn]) -> dict[str, pa.Array]:
    """What a declaration or the typing could not read, per column."""
    found = dict(source.unread)
    for name, column in zip(names, columns, strict=True):
        if column.unread is not None:
            found[name] = column.unread
    return found


def parse_in_child(task: ParseInput, progress) -> dict:
    """The part of parsing that runs in the isolated child: read, type, describe, write the typed table.

    Arrow's compute functions and its writers release the GIL, so columns are typed in threads, and the
    table is written while its dictionary is summarised.
    """
    started = time.perf_counter()
    choice = declared.read_choice(task.declarations)
    source = read_source(task.path, task.format, task.head, task.limits, choice)
    applied = declared.apply_to_source(source, task.declarations)
    read = time.perf_counter()
    progress(55, "Detecting the type of each column")
    names = source.table.column_names
    decimal = choice.decimal or _decimal_found(source)
    with ThreadPoolExecutor(max_workers=_thread_count()) as pool:
        columns = list(pool.map(lambda name: _type_column(source, name, decimal), names))
        typed = time.perf_counter()
        progress(75, "Writing the typed table and describing its columns")
        table = pa.table({name: column.array for name, column in zip(names, columns, strict=True)})
        table = tables.with_unread(table, _unread_values(source, names, columns))
        written = pool.submit(write_typed, table, task.table_path)
        described = list(pool.map(partial(_entry, source), range(1, len(names) + 1), names, columns))
        written.result()
    entries = declared.describe_entries(described, applied)
    seconds = {
        "read": round(read - started, 3),
        "type": round(typed - read, 3),
        "write_and_describe": round(time.perf_counter() - typed, 3),
    }
    return {
        "entries": entries,
        "options": source.options,
        "rows": table.num_rows,
        "columns": len(names),
        "seconds": seconds,
        # The child's processor time, all threads: beside the seconds, it says what the parse costs on a busy
        # machine, where the seconds say mostly how busy it was.
        "cpu_seconds": round(time.process_time(), 3),
    }


def dataset_parse(*, version_id: int, context: JobContext) -> dict:
    """Read a stored upload into a typed table and its dictionary. Bad content raises JobInputError."""
    version = DatasetVersion.objects.get(pk=version_id)
    if version.status == DatasetVersion.Status.PARSED:
        return {"rows": version.n_rows, "columns": version.n_columns, "already_parsed": True}
    context.progress(5, "Detecting the format")
    parquet_name = storage.parsed_name(version.sha256, PARSER_VERSION, declared.declarations_hash(version.declarations))
    with storage.local_path(version.storage_name) as path, storage.new_file(parquet_name) as table_path:
        with path.open("rb") as handle:
            head = handle.read(HEAD_SIZE)
        detection = detect_format(head, str(path))
        DatasetVersion.objects.filter(pk=version.pk).update(detected_format=detection.format)
        if detection.refusal:
            raise JobInputError(detection.refusal)
        context.progress(15, f"Reading the {DatasetVersion.Format(detection.format).label} file")
        parsed, peak_mb = run_isolated(
            parse_in_child,
            ParseInput(
                path=path,
                format=detection.format,
                head=head,
                table_path=table_path,
                limits=_limits(),
                declarations=version.declarations,
            ),
            memory_mb=settings.DATASET_PARSE_MEMORY_MB,
            time_limit=settings.DATASET_PARSE_TIME_LIMIT_SECONDS,
            on_progress=context.progress,
        )
    context.progress(95, "Saving the data dictionary")
    read_with = declared.declarations_hash(version.declarations)
    with transaction.atomic():
        version = DatasetVersion.objects.select_for_update().get(pk=version_id)
        if declared.declarations_hash(version.declarations) != read_with:
            # New declarations came while this parse ran (a delivery of an older job): the parse they queued
            # reads the file with them, and this table must not stand for them.
            return {"superseded": True, "reason": "the declarations changed while this parse ran"}
        before = snapshot(version)
        version.dictionary.all().delete()
        DictionaryEntry.objects.bulk_create([DictionaryEntry(version=version, **entry) for entry in parsed["entries"]])
        version.status = DatasetVersion.Status.PARSED
        version.error = ""
        version.detected_format = detection.format
        version.read_options = parsed["options"]
        version.parquet_name = parquet_name
        version.n_rows = parsed["rows"]
        version.n_columns = parsed["columns"]
        version.parsed_at = timezone.now()
        version.save()
        _audit_status_change(version, before)
        trial_data_received(version)
    return {
        "rows": parsed["rows"],
        "columns": parsed["columns"],
        "format": detection.format,
        "peak_memory_mb": round(peak_mb),
        "seconds": parsed["seconds"],
        "cpu_seconds": parsed["cpu_seconds"],
    }


# ------------------------------------------------------------------------------------ the trial's status

# Column names (compared without case, spaces or underscores) that usually hold the participant's id.
PARTICIPANT_ID_NAMES = ("USUBJID", "SUBJID", "PARTICIPANTID", "PATID", "PATIENTID", "PTID", "SUBJECTID", "PATNO", "ID")


def _normalised(name: str) -> str:
    return "".join(character for character in name.upper() if character.isalnum())


def participants_in_version(version: DatasetVersion) -> int | None:
    """The participants a parsed version holds: the distinct values of its participant-id column when one is
    recognised by name (a file may have several rows per participant), otherwise its row count."""
    by_name = {_normalised(entry.name): entry for entry in version.dictionary.all()}
    for name in PARTICIPANT_ID_NAMES:
        entry = by_name.get(name)
        if entry is not None and entry.n_distinct:
            return entry.n_distinct
    return version.n_rows


def trial_data_received(version: DatasetVersion) -> None:
    """A trial at "agreement signed" whose upload has just been parsed has its data: move it to "data received"
    (as the system: no person acted) and fill in the participants provided unless someone entered them.

    A trial anywhere else is left as it is: it is never moved backward, nor past a step its team skipped.
    """
    trial = Trial.objects.select_for_update().get(pk=version.trial_id)
    if trial.status != TrialStatus.AGREEMENT_SIGNED:
        return
    try:
        trial_transition(
            trial=trial,
            to_status=TrialStatus.DATA_RECEIVED,
            actor=None,
            note=f"Version {version.number} of the data was uploaded and parsed.",
        )
    except ApplicationError as error:
        # The parse stands whatever the trial's status; a person can move the trial with the reason shown.
        logger.warning("Trial %s not moved to data received: %s", trial.pk, error.message)
        return
    trial.refresh_from_db()
    participants = participants_in_version(version)
    if trial.n_provided is None and participants is not None:
        trial_update(trial=trial, actor=None, data={"n_provided": participants})
