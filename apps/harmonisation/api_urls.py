from django.urls import path, re_path

from apps.harmonisation import api

urlpatterns = [
    path("reviews/<int:review_id>/schema/", api.ReviewSchemaListView.as_view(), name="api-schema-list"),
    path("schema-variables/<int:pk>/", api.SchemaVariableDetailView.as_view(), name="api-schema-variable-detail"),
    path("trials/<int:trial_id>/mappings/", api.TrialMappingListView.as_view(), name="api-mapping-list"),
    path("mappings/<int:pk>/", api.MappingDetailView.as_view(), name="api-mapping-detail"),
    path("mappings/<int:pk>/rules/", api.MappingRuleListView.as_view(), name="api-mapping-rules"),
    path(
        "mappings/<int:pk>/rules/<int:target_id>/", api.MappingRuleRemoveView.as_view(), name="api-mapping-rule-remove"
    ),
    path("mappings/<int:pk>/review/", api.MappingReviewView.as_view(), name="api-mapping-review"),
    path("mappings/<int:pk>/suggestions/", api.MappingSuggestionsView.as_view(), name="api-mapping-suggestions"),
    path(
        "mappings/<int:pk>/suggestions/accept/",
        api.MappingSuggestionsAcceptView.as_view(),
        name="api-mapping-suggestions-accept",
    ),
    path("mappings/<int:pk>/preview/", api.MappingPreviewView.as_view(), name="api-mapping-preview"),
    path("mappings/<int:pk>/apply/", api.MappingApplyView.as_view(), name="api-mapping-apply"),
    path("mappings/<int:pk>/jobs/", api.MappingJobListView.as_view(), name="api-mapping-jobs"),
    path("mappings/<int:pk>/tables/", api.MappingTableListView.as_view(), name="api-mapping-tables"),
    path("rules/<int:pk>/", api.RuleDetailView.as_view(), name="api-rule-detail"),
    re_path(
        r"^harmonised-tables/(?P<pk>[0-9]+)/table\.(?P<kind>(?:parquet|csv))$",
        api.HarmonisedTableDownloadView.as_view(),
        name="api-harmonised-table-download",
    ),
    path("trials/<int:trial_id>/harmonisation-log/", api.TrialLogView.as_view(), name="api-trial-log"),
    path(
        "trials/<int:trial_id>/harmonisation-log.csv",
        api.TrialLogView.as_view(),
        {"format": "csv"},
        name="api-trial-log-csv",
    ),
    path("reviews/<int:review_id>/harmonisation-log/", api.ReviewLogView.as_view(), name="api-review-log"),
    path(
        "reviews/<int:review_id>/harmonisation-log.csv",
        api.ReviewLogView.as_view(),
        {"format": "csv"},
        name="api-review-log-csv",
    ),
]
