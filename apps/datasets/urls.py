from django.urls import path

from apps.datasets import views

app_name = "datasets"

urlpatterns = [
    path("trials/<int:trial_id>/datasets/", views.trial_versions, name="trial-versions"),
    path("trials/<int:trial_id>/datasets/upload/", views.dataset_upload, name="upload"),
    path("datasets/<int:version_id>/", views.version_detail, name="version-detail"),
    path("datasets/<int:version_id>/parse/", views.version_reparse, name="version-reparse"),
    path("datasets/<int:version_id>/declarations/", views.version_declarations, name="version-declarations"),
]
