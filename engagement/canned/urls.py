"""API routes of canned responses, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.canned.apis import CannedApplyApi, CannedDetailApi, CannedListApi

urlpatterns = [
    path("canned-responses/", CannedListApi.as_view(), name="canned-list"),
    path("canned-responses/<str:canned_id>/", CannedDetailApi.as_view(), name="canned-detail"),
    path("canned-responses/<str:canned_id>/apply/", CannedApplyApi.as_view(), name="canned-apply"),
]
