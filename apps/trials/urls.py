"""The tracking pages. ipdreview/urls.py composes these with apps.accounts.urls under the "dashboard" namespace."""

from django.urls import path

from apps.trials import views

urlpatterns = [
    path("", views.review_list, name="review-list"),
    path("reviews/<int:review_id>/", views.review_overview, name="review-overview"),
    path("reviews/<int:review_id>/trials/", views.trial_list, name="trial-list"),
    path("reviews/<int:review_id>/trials/new/", views.trial_create, name="trial-create"),
    path("trials/<int:trial_id>/", views.trial_detail, name="trial-detail"),
    path("trials/<int:trial_id>/edit/", views.trial_edit, name="trial-edit"),
    path("trials/<int:trial_id>/delete/", views.trial_delete, name="trial-delete"),
    path("trials/<int:trial_id>/contacts/", views.contact_create, name="contact-create"),
    path("trials/<int:trial_id>/agreements/", views.agreement_create, name="agreement-create"),
    path("trials/<int:trial_id>/approvals/", views.approval_create, name="approval-create"),
    path("trials/<int:trial_id>/contacts/<int:contact_id>/edit/", views.contact_edit, name="contact-edit"),
    path("trials/<int:trial_id>/contacts/<int:contact_id>/delete/", views.contact_delete, name="contact-delete"),
    path("trials/<int:trial_id>/agreements/<int:agreement_id>/edit/", views.agreement_edit, name="agreement-edit"),
    path(
        "trials/<int:trial_id>/agreements/<int:agreement_id>/delete/",
        views.agreement_delete,
        name="agreement-delete",
    ),
    path("trials/<int:trial_id>/approvals/<int:approval_id>/edit/", views.approval_edit, name="approval-edit"),
    path("trials/<int:trial_id>/approvals/<int:approval_id>/delete/", views.approval_delete, name="approval-delete"),
    path(
        "trials/<int:trial_id>/agreements/<int:agreement_id>/document/",
        views.agreement_document,
        name="agreement-document",
    ),
    path("trials/<int:trial_id>/contact-attempts/", views.contact_attempt_create, name="contact-attempt-create"),
    path("trials/<int:trial_id>/contact-attempts/<int:attempt_id>/edit/", views.attempt_edit, name="attempt-edit"),
    path(
        "trials/<int:trial_id>/contact-attempts/<int:attempt_id>/delete/", views.attempt_delete, name="attempt-delete"
    ),
    path("trials/<int:trial_id>/transition/", views.trial_transition, name="trial-transition"),
]
