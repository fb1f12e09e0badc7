"""Routes of the compliance checks: the page (/insights/compliance/) and the API (/api/v1/insights/compliance/)."""

from django.urls import path

from insights.compliance import apis, views

api_urlpatterns = [
    path("", apis.ComplianceReportApi.as_view(), name="compliance"),
    path("interactions/<int:interaction_id>/", apis.InteractionChecksApi.as_view(), name="compliance-interaction"),
    path("rules/", apis.RuleListApi.as_view(), name="compliance-rules"),
]

page_urlpatterns = [
    path("", views.compliance_page, name="compliance"),
]
