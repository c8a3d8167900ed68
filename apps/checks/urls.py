from django.urls import path

from apps.checks import views

app_name = "checks"

urlpatterns = [
    path("reviews/<int:review_id>/integrity/", views.review_integrity, name="review-integrity"),
    path("trials/<int:trial_id>/checks/", views.trial_checks, name="trial-checks"),
    path("trials/<int:trial_id>/checks/run/", views.run_start, name="run-start"),
    path("trials/<int:trial_id>/checks/settings/", views.settings_update, name="settings-update"),
    path("check-runs/<int:run_id>/", views.run_detail, name="run-detail"),
    path("check-results/<int:result_id>/", views.result_detail, name="result-detail"),
    path("check-results/<int:result_id>/rows.csv", views.result_rows_csv, name="result-rows-csv"),
    path("findings/<int:finding_id>/reply/", views.finding_reply, name="finding-reply"),
    path("findings/<int:finding_id>/resolve/", views.finding_resolve, name="finding-resolve"),
]
