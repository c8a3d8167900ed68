from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.core.cache_versions import review_changed
from apps.core.models import AuditEvent


@receiver(post_save, sender=AuditEvent, dispatch_uid="core-audit-event-review-changed")
def audit_event_changes_review(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    if created and instance.review_id:
        review_changed(instance.review_id)
