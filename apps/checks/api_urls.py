from django.urls import path

from apps.checks import api

urlpatterns = [
    path("trials/<int:trial_id>/check-runs/", api.TrialCheckRunListView.as_view(), name="api-check-run-list"),
    path("check-runs/<int:pk>/", api.CheckRunDetailView.as_view(), name="api-check-run-detail"),
    path("check-results/<int:pk>/", api.CheckResultDetailView.as_view(), name="api-check-result-detail"),
    path("check-results/<int:pk>/rows/", api.CheckResultRowsView.as_view(), name="api-check-result-rows"),
    path("check-results/<int:pk>/rows.csv", api.CheckResultRowsCSVView.as_view(), name="api-check-result-rows-csv"),
    path("reviews/<int:review_id>/findings/", api.ReviewFindingListView.as_view(), name="api-review-finding-list"),
    path("trials/<int:trial_id>/findings/", api.TrialFindingListView.as_view(), name="api-trial-finding-list"),
    path("findings/<int:pk>/", api.FindingDetailView.as_view(), name="api-finding-detail"),
    path("findings/<int:pk>/messages/", api.FindingMessageCreateView.as_view(), name="api-finding-messages"),
    path("findings/<int:pk>/resolve/", api.FindingResolveView.as_view(), name="api-finding-resolve"),
    path("trials/<int:trial_id>/check-settings/", api.TrialCheckSettingsView.as_view(), name="api-check-settings"),
    path("trials/<int:trial_id>/check-state/", api.TrialCheckStateView.as_view(), name="api-trial-check-state"),
    path("reviews/<int:review_id>/integrity/", api.ReviewIntegrityView.as_view(), name="api-review-integrity"),
]
