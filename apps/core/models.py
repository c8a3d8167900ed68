from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One create, update, delete, status transition or download, with the values before and after."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"
        TRANSITION = "transition", "Status changed"
        DOWNLOAD = "download", "Downloaded"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    # SET_NULL keeps the event when its review or trial is deleted; object_type/id/repr still name it.
    review = models.ForeignKey(
        "reviews.Review", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    trial = models.ForeignKey(
        "trials.Trial", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type} {self.object_repr}"

    @property
    def changed_fields(self) -> list[str]:
        before = self.before or {}
        after = self.after or {}
        return sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))


class DataAccessEvent(models.Model):
    """One read of participant data: who downloaded or viewed what, when, and from which address.

    Kept apart from the audit trail of changes, which reads would drown; like it, never changed or deleted
    through the app.
    """

    class Action(models.TextChoices):
        DOWNLOAD = "download", "Downloaded"
        VIEW = "view", "Viewed rows"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="data_reads"
    )
    review = models.ForeignKey(
        "reviews.Review", null=True, blank=True, on_delete=models.SET_NULL, related_name="data_reads"
    )
    trial = models.ForeignKey("trials.Trial", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255)
    detail = models.JSONField(default=dict, blank=True, help_text="What was read: format, rows shown, the path.")
    client_ip = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["review", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_action_display().lower()} {self.object_type} {self.object_repr}"
