from django.urls import path

from apps.reporting import api

urlpatterns = [
    path("reviews/<int:review_id>/prisma-ipd/", api.PrismaIpdView.as_view(), name="api-prisma-ipd"),
    path("reviews/<int:review_id>/prisma-ipd.svg", api.PrismaIpdFileView.as_view(kind="svg"), name="api-prisma-svg"),
    path("reviews/<int:review_id>/prisma-ipd.png", api.PrismaIpdFileView.as_view(kind="png"), name="api-prisma-png"),
    path("reviews/<int:review_id>/prisma-ipd.pdf", api.PrismaIpdFileView.as_view(kind="pdf"), name="api-prisma-pdf"),
    path("reviews/<int:review_id>/prisma-ipd.csv", api.PrismaIpdFileView.as_view(kind="csv"), name="api-prisma-csv"),
    path("reviews/<int:review_id>/checklist/", api.ChecklistView.as_view(), name="api-checklist"),
    path(
        "reviews/<int:review_id>/checklist-completion/",
        api.ChecklistCompletionView.as_view(),
        name="api-checklist-completion",
    ),
    path("reviews/<int:review_id>/checklist.csv", api.ChecklistCSVView.as_view(), name="api-checklist-csv"),
    path("reviews/<int:review_id>/checklist/<str:item>/", api.ChecklistItemView.as_view(), name="api-checklist-item"),
    path("reviews/<int:review_id>/report.docx", api.ReportDocxView.as_view(), name="api-report-docx"),
    path("reviews/<int:review_id>/bundle.zip", api.BundleView.as_view(), name="api-bundle"),
]
