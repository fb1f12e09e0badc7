"""API routes of recommended actions, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.recommendations.apis import RecommendationAcceptApi, RecommendationDismissApi, RecommendationListApi

urlpatterns = [
    path("recommendations/", RecommendationListApi.as_view(), name="recommendation-list"),
    path(
        "recommendations/<str:recommendation_id>/accept/",
        RecommendationAcceptApi.as_view(),
        name="recommendation-accept",
    ),
    path(
        "recommendations/<str:recommendation_id>/dismiss/",
        RecommendationDismissApi.as_view(),
        name="recommendation-dismiss",
    ),
]
