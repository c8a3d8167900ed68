"""The reviews pages. ipdreview/urls.py composes these with the other apps' pages under the "dashboard" namespace."""

from django.urls import path

from apps.reviews import views

urlpatterns = [
    path("reviews/<int:review_id>/outcomes/", views.outcome_list, name="outcome-list"),
    path("reviews/<int:review_id>/outcomes/<int:outcome_id>/edit/", views.outcome_edit, name="outcome-edit"),
    path("reviews/<int:review_id>/outcomes/<int:outcome_id>/delete/", views.outcome_delete, name="outcome-delete"),
]
