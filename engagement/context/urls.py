"""API routes of engagement.context, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.context.apis import ContextAliasApi, ContextDetailApi, ContextLimitsApi, CustomerContextsApi

urlpatterns: list = [
    path("contexts/limits/", ContextLimitsApi.as_view(), name="context-limits"),
    # Before contexts/<scope>/<id>/, which would otherwise read "alias" as a scope.
    path("contexts/alias/<str:alias>/", ContextAliasApi.as_view(), name="context-alias"),
    path("contexts/<str:scope>/<int:context_id>/", ContextDetailApi.as_view(), name="context-detail"),
    path("customers/<int:customer_id>/contexts/", CustomerContextsApi.as_view(), name="customer-contexts"),
]
