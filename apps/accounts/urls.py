"""The accounts pages. ipdreview/urls.py composes these with apps.trials.urls under the "dashboard" namespace."""

from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("invitations/<int:invitation_id>/", views.invitation_answer, name="invitation-answer"),
    path("reviews/<int:review_id>/members/", views.member_list, name="member-list"),
    path("reviews/<int:review_id>/members/<int:membership_id>/edit/", views.member_edit, name="member-edit"),
    path("reviews/<int:review_id>/members/<int:membership_id>/remove/", views.member_remove, name="member-remove"),
    path(
        "reviews/<int:review_id>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
]
