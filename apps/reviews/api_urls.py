from django.urls import path

from apps.reviews import api

urlpatterns = [
    path("reviews/", api.ReviewListView.as_view(), name="api-review-list"),
    path("reviews/<int:pk>/", api.ReviewDetailView.as_view(), name="api-review-detail"),
    path("reviews/<int:review_id>/outcomes/", api.OutcomeListView.as_view(), name="api-outcome-list"),
    path("reviews/<int:review_id>/access-log/", api.ReviewDataAccessView.as_view(), name="api-review-access-log"),
    path("outcomes/<int:pk>/", api.OutcomeDetailView.as_view(), name="api-outcome-detail"),
]
