from django.urls import path

from apps.analyses import api

urlpatterns = [
    path("reviews/<int:review_id>/analyses/", api.ReviewAnalysisListView.as_view(), name="api-analysis-list"),
    path("analyses/<int:pk>/", api.AnalysisDetailView.as_view(), name="api-analysis-detail"),
    path("analyses/<int:pk>/runs/", api.AnalysisRunListView.as_view(), name="api-analysis-runs"),
    path("analyses/<int:pk>/sensitivity/", api.AnalysisSensitivityView.as_view(), name="api-analysis-sensitivity"),
    path("analysis-runs/<int:pk>/", api.AnalysisRunDetailView.as_view(), name="api-analysis-run-detail"),
    path("analysis-runs/<int:pk>/forest/", api.AnalysisRunForestView.as_view(), name="api-analysis-run-forest"),
    path("analysis-runs/<int:pk>/table.csv", api.AnalysisRunTableCSVView.as_view(), name="api-analysis-run-table"),
]
