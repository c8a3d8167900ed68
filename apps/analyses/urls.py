from django.urls import path

from apps.analyses import views

app_name = "analyses"

urlpatterns = [
    path("reviews/<int:review_id>/analyses/", views.analysis_list, name="list"),
    path("reviews/<int:review_id>/analyses/new/", views.analysis_new, name="new"),
    path("analyses/<int:analysis_id>/", views.analysis_detail, name="detail"),
    path("analyses/<int:analysis_id>/edit/", views.analysis_edit, name="edit"),
    path("analyses/<int:analysis_id>/delete/", views.analysis_delete, name="delete"),
    path("analyses/<int:analysis_id>/run/", views.analysis_run, name="run-start"),
    path("analyses/<int:analysis_id>/sensitivity/", views.sensitivity, name="sensitivity"),
    path("analysis-runs/<int:run_id>/", views.run_detail, name="run"),
    path("analysis-runs/<int:run_id>/table.csv", views.run_table_csv, name="run-table"),
    path("analysis-runs/<int:run_id>/run.json", views.run_json, name="run-json"),
]
