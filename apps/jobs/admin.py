from django.contrib import admin

from apps.core.admin import ReadOnlyCoordinatorAdmin
from apps.jobs.models import Job


@admin.register(Job)
class JobAdmin(ReadOnlyCoordinatorAdmin):
    """A coordinator sees the jobs of the reviews they coordinate; jobs of no review only a superuser sees."""

    list_display = ["id", "kind", "state", "progress", "attempts", "trial", "created_by", "created_at", "heartbeat_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["trial", "created_by"]
    search_fields = ["kind", "target_id", "error", "celery_task_id"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Job._meta.fields]
