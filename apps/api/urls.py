from django.urls import include, path

from apps.api import views

urlpatterns = [
    path("auth/token/", views.TokenCreateView.as_view(), name="api-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="api-logout"),
    path("reviews/", views.ReviewListView.as_view(), name="api-review-list"),
    path("reviews/<int:pk>/", views.ReviewDetailView.as_view(), name="api-review-detail"),
    path("reviews/<int:review_id>/members/", views.MemberListView.as_view(), name="api-member-list"),
    path("reviews/<int:review_id>/outcomes/", views.OutcomeListView.as_view(), name="api-outcome-list"),
    path("reviews/<int:review_id>/trials/", views.TrialListView.as_view(), name="api-trial-list"),
    path("reviews/<int:review_id>/summary/", views.ReviewSummaryView.as_view(), name="api-review-summary"),
    path("reviews/<int:review_id>/access-log/", views.ReviewDataAccessView.as_view(), name="api-review-access-log"),
    path("reviews/<int:review_id>/history/", views.ReviewHistoryView.as_view(), name="api-review-history"),
    path(
        "reviews/<int:review_id>/invitations/", views.ReviewInvitationListView.as_view(), name="api-review-invitations"
    ),
    path("invitations/", views.MyInvitationListView.as_view(), name="api-my-invitations"),
    path("invitations/<int:pk>/", views.InvitationRevokeView.as_view(), name="api-invitation-detail"),
    path("invitations/<int:pk>/accept/", views.InvitationAnswerView.as_view(accept=True), name="api-invitation-accept"),
    path(
        "invitations/<int:pk>/decline/",
        views.InvitationAnswerView.as_view(accept=False),
        name="api-invitation-decline",
    ),
    path("members/<int:pk>/", views.MemberDetailView.as_view(), name="api-member-detail"),
    path("outcomes/<int:pk>/", views.OutcomeDetailView.as_view(), name="api-outcome-detail"),
    path("trials/<int:pk>/", views.TrialDetailView.as_view(), name="api-trial-detail"),
    path("trials/<int:trial_id>/transition/", views.TrialTransitionView.as_view(), name="api-trial-transition"),
    path("trials/<int:trial_id>/transitions/", views.TrialTransitionListView.as_view(), name="api-transition-list"),
    path("trials/<int:trial_id>/history/", views.TrialHistoryView.as_view(), name="api-trial-history"),
    path("trials/<int:trial_id>/contacts/", views.ContactListView.as_view(), name="api-contact-list"),
    path("trials/<int:trial_id>/contact-attempts/", views.ContactAttemptListView.as_view(), name="api-attempt-list"),
    path("trials/<int:trial_id>/agreements/", views.AgreementListView.as_view(), name="api-agreement-list"),
    path("trials/<int:trial_id>/approvals/", views.ApprovalListView.as_view(), name="api-approval-list"),
    path("contacts/<int:pk>/", views.ContactDetailView.as_view(), name="api-contact-detail"),
    path("contact-attempts/<int:pk>/", views.ContactAttemptDetailView.as_view(), name="api-attempt-detail"),
    path("agreements/<int:pk>/", views.AgreementDetailView.as_view(), name="api-agreement-detail"),
    path("agreements/<int:pk>/document/", views.AgreementDocumentView.as_view(), name="api-agreement-document"),
    path("approvals/<int:pk>/", views.ApprovalDetailView.as_view(), name="api-approval-detail"),
    path("", include("apps.datasets.api_urls")),
    path("", include("apps.harmonisation.api_urls")),
    path("", include("apps.checks.api_urls")),
    path("", include("apps.analyses.api_urls")),
    path("", include("apps.reporting.api_urls")),
]
