from django.urls import path

from apps.accounts import api

urlpatterns = [
    path("auth/token/", api.TokenCreateView.as_view(), name="api-token"),
    path("auth/logout/", api.LogoutView.as_view(), name="api-logout"),
    path("reviews/<int:review_id>/members/", api.MemberListView.as_view(), name="api-member-list"),
    path("reviews/<int:review_id>/invitations/", api.ReviewInvitationListView.as_view(), name="api-review-invitations"),
    path("invitations/", api.MyInvitationListView.as_view(), name="api-my-invitations"),
    path("invitations/<int:pk>/", api.InvitationRevokeView.as_view(), name="api-invitation-detail"),
    path("invitations/<int:pk>/accept/", api.InvitationAnswerView.as_view(accept=True), name="api-invitation-accept"),
    path(
        "invitations/<int:pk>/decline/",
        api.InvitationAnswerView.as_view(accept=False),
        name="api-invitation-decline",
    ),
    path("members/<int:pk>/", api.MemberDetailView.as_view(), name="api-member-detail"),
]
