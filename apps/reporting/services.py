"""Writes for reporting: checklist entries (audited like every record), and the record of each reproducibility
bundle taken out of the app."""

import hashlib

from django.db import transaction

from apps.core.errors import ApplicationError, NotFound
from apps.core.models import AuditEvent
from apps.core.services import audit_record, snapshot
from apps.reporting import checklist
from apps.reporting.models import BundleExport, ChecklistEntry
from apps.reviews.models import Review

CHECKLIST_FIELDS = ("status", "location", "note")
MAX_LOCATION = ChecklistEntry._meta.get_field("location").max_length


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", details={field: [message]})


def _checked(data: dict) -> dict:
    unknown = sorted(set(data) - set(CHECKLIST_FIELDS))
    if unknown:
        raise ApplicationError(
            f"These fields cannot be set: {', '.join(unknown)}; an item has a status, a location and a note.",
            details={name: ["This field cannot be set."] for name in unknown},
        )
    values = {}
    if "status" in data:
        allowed = [code for code, _ in checklist.STATUSES]
        if data["status"] not in allowed:
            raise _invalid("status", f"{data['status']!r} is not one of {', '.join(allowed)}.")
        values["status"] = data["status"]
    for name in ("location", "note"):
        if name in data:
            if not isinstance(data[name], str):
                raise _invalid(name, "Give text.")
            values[name] = data[name].strip()
    if len(values.get("location", "")) > MAX_LOCATION:
        raise _invalid("location", f"Use at most {MAX_LOCATION} characters.")
    return values


@transaction.atomic
def checklist_entry_update(*, review: Review, item: str, actor, data: dict) -> ChecklistEntry:
    """Set an item's status, location or note (the others are kept); the change is audited."""
    if item not in checklist.ITEM_BY_ID:
        raise NotFound(f"PRISMA-IPD has no checklist item {item!r}; the items are {', '.join(checklist.ITEM_IDS)}.")
    values = _checked(data)
    entry = ChecklistEntry.objects.select_for_update().filter(review=review, item=item).first()
    created = entry is None
    if created:
        entry = ChecklistEntry(review=review, item=item)
    before = None if created else snapshot(entry)
    for name, value in values.items():
        setattr(entry, name, value)
    after_values = {name: getattr(entry, name) for name in CHECKLIST_FIELDS}
    if not created and all(before[name] == after_values[name] for name in CHECKLIST_FIELDS):
        return entry
    entry.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    entry.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        instance=entry,
        before=before,
        after=snapshot(entry),
        review=review,
    )
    return entry


def bundle_export(*, review: Review, actor) -> tuple[bytes, BundleExport]:
    """The reproducibility bundle of the review's analyses, and the audited record that it was taken."""
    from apps.reporting.bundle import build_zip

    content, described, contents = build_zip(review)
    if not contents.analyses:
        raise ApplicationError(
            "The review has no analysis with a succeeded run, so there is nothing to reproduce; run an analysis first.",
            code="nothing_to_bundle",
            status=409,
        )
    facts = {
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
        "manifest_sha256": described["manifest_sha256"],
        "trials_with_data": contents.trials_with_data,
        "trials_withheld": contents.trials_withheld,
        "analyses": [{"analysis": item["id"], "run": item["run"]} for item in contents.analyses],
    }
    return content, bundle_export_record(review=review, actor=actor, facts=facts)


@transaction.atomic
def bundle_export_record(*, review: Review, actor, facts: dict) -> BundleExport:
    """Record (and audit) that a bundle with these contents was taken out of the app."""
    export = BundleExport.objects.create(
        review=review,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **facts,
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, instance=export, after=snapshot(export), review=review)
    return export
