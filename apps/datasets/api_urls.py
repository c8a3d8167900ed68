from django.urls import path

from apps.datasets import api

urlpatterns = [
    path("trials/<int:trial_id>/datasets/", api.TrialDatasetListView.as_view(), name="api-dataset-list"),
    path("datasets/<int:pk>/", api.DatasetVersionDetailView.as_view(), name="api-dataset-detail"),
    path("datasets/<int:pk>/parse/", api.DatasetVersionParseView.as_view(), name="api-dataset-parse"),
    path("datasets/<int:pk>/original/", api.DatasetVersionOriginalView.as_view(), name="api-dataset-original"),
    path(
        "datasets/<int:pk>/declarations/",
        api.DatasetVersionDeclarationsView.as_view(),
        name="api-dataset-declarations",
    ),
]
