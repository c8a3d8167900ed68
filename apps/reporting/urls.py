from django.urls import path, re_path

from apps.reporting import views

app_name = "reporting"

urlpatterns = [
    path("reviews/<int:review_id>/prisma-ipd/", views.prisma_page, name="prisma"),
    re_path(
        r"^reviews/(?P<review_id>[0-9]+)/prisma-ipd\.(?P<kind>svg|png|pdf|csv)$",
        views.prisma_download,
        name="prisma-download",
    ),
    path("reviews/<int:review_id>/report/", views.report_page, name="report"),
    path("reviews/<int:review_id>/report.docx", views.report_docx, name="report-docx"),
    path("reviews/<int:review_id>/bundle.zip", views.bundle_zip, name="bundle"),
    path("reviews/<int:review_id>/checklist/", views.checklist_page, name="checklist"),
    path("reviews/<int:review_id>/checklist.csv", views.checklist_csv, name="checklist-csv"),
    path("reviews/<int:review_id>/checklist/<str:item>/", views.checklist_item_update, name="checklist-item"),
]
