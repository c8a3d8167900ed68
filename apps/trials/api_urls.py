from django.urls import path

from apps.trials import api

urlpatterns = [
    path("reviews/<int:review_id>/trials/", api.TrialListView.as_view(), name="api-trial-list"),
    path("reviews/<int:review_id>/summary/", api.ReviewSummaryView.as_view(), name="api-review-summary"),
    path("reviews/<int:review_id>/history/", api.ReviewHistoryView.as_view(), name="api-review-history"),
    path("trials/<int:pk>/", api.TrialDetailView.as_view(), name="api-trial-detail"),
    path("trials/<int:trial_id>/transition/", api.TrialTransitionView.as_view(), name="api-trial-transition"),
    path("trials/<int:trial_id>/transitions/", api.TrialTransitionListView.as_view(), name="api-transition-list"),
    path("trials/<int:trial_id>/history/", api.TrialHistoryView.as_view(), name="api-trial-history"),
    path("trials/<int:trial_id>/contacts/", api.ContactListView.as_view(), name="api-contact-list"),
    path("trials/<int:trial_id>/contact-attempts/", api.ContactAttemptListView.as_view(), name="api-attempt-list"),
    path("trials/<int:trial_id>/agreements/", api.AgreementListView.as_view(), name="api-agreement-list"),
    path("trials/<int:trial_id>/approvals/", api.ApprovalListView.as_view(), name="api-approval-list"),
    path("contacts/<int:pk>/", api.ContactDetailView.as_view(), name="api-contact-detail"),
    path("contact-attempts/<int:pk>/", api.ContactAttemptDetailView.as_view(), name="api-attempt-detail"),
    path("agreements/<int:pk>/", api.AgreementDetailView.as_view(), name="api-agreement-detail"),
    path("agreements/<int:pk>/document/", api.AgreementDocumentView.as_view(), name="api-agreement-document"),
    path("approvals/<int:pk>/", api.ApprovalDetailView.as_view(), name="api-approval-detail"),
]
