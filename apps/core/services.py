"""Audit events and the small helpers every service uses to validate and save a model."""

import datetime
import decimal
from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import ProtectedError
from django.db.models.fields.files import FieldFile

from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent

# Bookkeeping fields that change on every save and say nothing about the record.
_UNAUDITED_FIELDS = {"created_at", "updated_at"}


def _json_value(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def snapshot(instance: models.Model) -> dict:
    """The record's field values as JSON-ready data: foreign keys by id, files by name, dates as ISO text."""
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in _UNAUDITED_FIELDS:
            continue
        data[field.attname] = _json_value(field.value_from_object(instance))
    if instance.pk:
        for field in instance._meta.many_to_many:
            data[field.name] = sorted(_m2m_ids(instance, field))
    return data


def _m2m_ids(instance: models.Model, field) -> list:
    return list(getattr(instance, field.name).values_list("pk", flat=True))


def audit_record(
    *,
    actor,
    action: str,
    instance: models.Model,
    before: dict | None = None,
    after: dict | None = None,
    review=None,
    trial=None,
) -> AuditEvent:
    """Store one audit event; call it inside the transaction of the write it describes."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        review=review,
        trial=trial,
        action=action,
        object_type=instance._meta.model_name,
        object_id=str(instance.pk),
        object_repr=str(instance)[:255],
        before=before,
        after=after,
    )


def save_and_audit(
    instance: models.Model,
    *,
    actor,
    before: dict | None,
    review,
    trial=None,
    fields: list[str] | None = None,
    action: str = AuditEvent.Action.UPDATE,
) -> None:
    """Save the change a service made to `instance` (only `fields` when given) and audit it in the same
    transaction: who (None for the workers), the values before it and the values now stored."""
    instance.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=action,
        instance=instance,
        before=before,
        after=snapshot(instance),
        review=review,
        trial=trial,
    )


def validation_error_to_application_error(error: DjangoValidationError) -> ApplicationError:
    details = error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
    lines = [
        f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
        for field, messages in details.items()
    ]
    if "__all__" in details:
        details["non_field_errors"] = details.pop("__all__")
    return ApplicationError("Invalid input. " + " ".join(lines), code="invalid", details=details)


def validate(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Run the model's validation and raise an ApplicationError naming each bad field."""
    try:
        instance.full_clean(exclude=list(exclude))
    except DjangoValidationError as error:
        raise validation_error_to_application_error(error)


def assign_fields(*, instance: models.Model, data: dict, allowed: Iterable[str]) -> list[str]:
    """Set the allowed fields present in `data`; refuse unknown ones; return the names that changed."""
    allowed = set(allowed)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApplicationError(
            f"These fields cannot be set here: {', '.join(unknown)}.",
            code="invalid",
            details={name: ["This field cannot be set here."] for name in unknown},
        )
    changed = []
    for name, value in data.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def locked_copy(instance: models.Model) -> models.Model:
    """The stored row of `instance`, read again and locked until the transaction ends; call inside one."""
    return type(instance).objects.select_for_update().get(pk=instance.pk)


def update_and_audit(
    *,
    instance: models.Model,
    actor,
    data: dict,
    allowed: Iterable[str],
    review,
    trial=None,
    check=None,
    also_set: dict | None = None,
) -> models.Model:
    """Apply `data` to the stored row, validate (`check` adds the service's own rules), save and audit with
    before/after values; no change writes nothing. Call inside a transaction: the row is read again under a
    lock and only the changed fields are written, so a change made since the caller loaded `instance` (a
    status transition, another person's edit) is kept, not overwritten. `also_set` are fields the service
    sets itself along with a change."""
    instance = locked_copy(instance)
    before = snapshot(instance)
    changed = assign_fields(instance=instance, data=data, allowed=allowed)
    if not changed:
        return instance
    for name, value in (also_set or {}).items():
        setattr(instance, name, value)
        changed.append(name)
    validate(instance)
    if check:
        check(instance)
    save_and_audit(instance, actor=actor, before=before, review=review, trial=trial, fields=[*changed, "updated_at"])
    return instance


def in_use(name: str, error: ProtectedError) -> ApplicationError:
    """A 409 saying which records still use what a request wanted to delete (their history must stay whole)."""
    kinds = sorted({str(record._meta.verbose_name_plural) for record in error.protected_objects})
    return ApplicationError(
        f"{name} is used by {', '.join(kinds)}; change or delete those first.", code="in_use", status=409
    )


def data_access_record(*, request, action: str, instance: models.Model, trial, detail: dict | None = None):
    """Record a read of participant data (21 CFR 11, GDPR access logging): call it once access is granted,
    before the data leave."""
    from apps.core.client_ip import client_ip
    from apps.core.models import DataAccessEvent

    user = getattr(request, "user", None)
    return DataAccessEvent.objects.create(
        actor=user if getattr(user, "is_authenticated", False) else None,
        review_id=trial.review_id,
        trial=trial,
        action=action,
        object_type=instance._meta.model_name,
        object_id=str(instance.pk),
        object_repr=str(instance)[:255],
        detail={"path": request.path, **(detail or {})},
        client_ip=client_ip(request) or "",
    )
