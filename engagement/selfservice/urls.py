"""API routes of engagement.selfservice, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.selfservice.apis import ContainmentApi, IvrInputApi, KnowledgeSearchApi

urlpatterns: list = [
    path("ivr/<str:call_id>/input/", IvrInputApi.as_view(), name="ivr-input"),
    path("knowledge/search/", KnowledgeSearchApi.as_view(), name="knowledge-search"),
    path("selfservice/containment/", ContainmentApi.as_view(), name="selfservice-containment"),
]
