"""Admin for coordinators: analyses and their runs, read-only; they are defined and run through the pages and the
API, whose services check every choice and audit every change."""

from django.contrib import admin

from apps.analyses.models import Analysis, AnalysisRun
from apps.core.admin import ReadOnlyCoordinatorAdmin


@admin.register(Analysis)
class AnalysisAdmin(ReadOnlyCoordinatorAdmin):
    list_display = ["name", "review", "outcome", "measure", "approach", "tau2", "is_primary", "prespecified"]
    list_filter = ["approach", "measure", ("review", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["review", "outcome"]
    search_fields = ["name", "description"]


@admin.register(AnalysisRun)
class AnalysisRunAdmin(ReadOnlyCoordinatorAdmin):
    list_display = ["__str__", "review", "kind", "state", "engine_version", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "state", ("review", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["review", "analysis", "created_by"]
    search_fields = ["analysis__name", "input_sha256"]
