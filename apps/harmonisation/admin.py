"""Admin for coordinators: the schema is edited here in bulk; mappings, rules and tables are read-only, because
a rule changes only through the service that keeps its earlier revisions."""

from django.contrib import admin

from apps.core.admin import CoordinatorAdmin, ReadOnlyCoordinatorAdmin, ViewOnlyForCoordinators
from apps.harmonisation.models import HarmonisedTable, Mapping, MappingRule, SchemaVariable


@admin.register(SchemaVariable)
class SchemaVariableAdmin(CoordinatorAdmin):
    list_display = ["name", "review", "role", "type", "unit", "minimum", "maximum", "position"]
    list_filter = ["role", "type", ("review", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "label", "description"]
    list_select_related = ["review"]
    ordering = ["review", "position", "name"]


class MappingRuleInline(ViewOnlyForCoordinators, admin.TabularInline):
    model = MappingRule
    extra = 0
    fields = ["target", "revision", "category", "source_variables", "parameters", "status", "set_by", "set_at"]
    readonly_fields = fields
    ordering = ["target__position", "-revision"]
    can_delete = False


@admin.register(Mapping)
class MappingAdmin(ReadOnlyCoordinatorAdmin):
    review_path = "trial__review"
    list_display = ["__str__", "trial", "source_version", "revision", "created_by", "reviewed_by", "created_at"]
    list_select_related = ["trial", "source_version", "created_by", "reviewed_by"]
    search_fields = ["trial__title", "trial__registry_id"]
    inlines = [MappingRuleInline]


@admin.register(HarmonisedTable)
class HarmonisedTableAdmin(ReadOnlyCoordinatorAdmin):
    review_path = "mapping__trial__review"
    list_display = ["__str__", "mapping", "n_rows", "n_flagged_rows", "sha256", "code_version", "created_at"]
    list_select_related = ["mapping", "mapping__trial"]
    search_fields = ["sha256", "mapping__trial__title"]
