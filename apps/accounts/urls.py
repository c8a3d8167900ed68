"""The accounts pages. ipdreview/urls.py composes these with apps.trials.urls under the "dashboard" namespace."""

from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("invitations/<int:invitation_id>/", views.invitation_answer, name="invitation-answer"),
]
