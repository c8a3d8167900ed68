from django.urls import path

from apps.harmonisation import views

app_name = "harmonisation"

urlpatterns = [
    path("reviews/<int:review_id>/schema/", views.schema, name="schema"),
    path("schema-variables/<int:variable_id>/edit/", views.schema_variable_edit, name="schema-variable-edit"),
    path("trials/<int:trial_id>/mappings/", views.trial_mappings, name="trial-mappings"),
    path("mappings/<int:mapping_id>/", views.mapping_editor, name="mapping-editor"),
    path("mappings/<int:mapping_id>/rules/", views.mapping_rule_set, name="mapping-rule-set"),
    path("mappings/<int:mapping_id>/suggestions/use/", views.mapping_suggestion_use, name="mapping-suggestion-use"),
    path(
        "mappings/<int:mapping_id>/suggestions/accept/",
        views.mapping_suggestions_accept,
        name="mapping-suggestions-accept",
    ),
    path(
        "mappings/<int:mapping_id>/rules/<int:target_id>/remove/",
        views.mapping_rule_remove,
        name="mapping-rule-remove",
    ),
    path("mappings/<int:mapping_id>/apply/", views.mapping_apply, name="mapping-apply"),
    path("mappings/<int:mapping_id>/review/", views.mapping_review, name="mapping-review"),
    path("trials/<int:trial_id>/harmonisation-log/", views.trial_log, name="trial-log"),
    path("reviews/<int:review_id>/harmonisation-log/", views.review_log, name="review-log"),
]
