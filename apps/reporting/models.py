from django.conf import settings
from django.db import models

from apps.reporting.checklist import NOT_STARTED, STATUSES


class ChecklistEntry(models.Model):
    """A review's answer to one PRISMA-IPD checklist item; an item without an entry is "not started"."""

    review = models.ForeignKey("reviews.Review", on_delete=models.CASCADE, related_name="checklist_entries")
    item = models.CharField(max_length=8, help_text="The item's number (5, 17, ...) or IPD id (A1 ... A4).")
    status = models.CharField(max_length=16, choices=STATUSES, default=NOT_STARTED)
    location = models.CharField(
        max_length=300, blank=True, help_text="Where the manuscript reports it, e.g. 'Methods, p. 6'."
    )
    note = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review", "id"]
        verbose_name_plural = "checklist entries"
        constraints = [models.UniqueConstraint(fields=["review", "item"], name="checklist_entry_once_per_item")]

    def __str__(self) -> str:
        return f"PRISMA-IPD item {self.item}: {self.get_status_display()}"


class BundleExport(models.Model):
    """A reproducibility bundle taken out of the app: who took it, when, and which trials' participant data it
    held (audited, as the data leave the platform with it)."""

    review = models.ForeignKey("reviews.Review", on_delete=models.CASCADE, related_name="bundle_exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the zip file.")
    size = models.BigIntegerField()
    manifest_sha256 = models.CharField(max_length=64)
    trials_with_data = models.JSONField(default=list, help_text="Trials whose harmonised tables it holds.")
    trials_withheld = models.JSONField(
        default=list, help_text="Trials represented by their stage-one estimates only (data stay on the platform)."
    )
    analyses = models.JSONField(default=list, help_text="The analysis runs it holds.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Reproducibility bundle #{self.pk} of review {self.review_id}"
