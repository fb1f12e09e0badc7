"""URLs of the System of Record: the REST API under /api/v1/ and the browser pages."""

from django.urls import path

from records import views
from records.audit import views as audit_views
from records.audit.access_apis import CustomerAccessListApi, UnusualAccessApi
from records.audit.apis import CaseAuditApi, CustomerAuditApi
from records.cases.apis import (
    CaseDetailApi,
    CaseInteractionLinkApi,
    CaseListApi,
    CaseNotesApi,
    CaseTransitionApi,
    SlaPolicyListApi,
)
from records.customers.apis import (
    CustomerConsentApi,
    CustomerDetailApi,
    CustomerDuplicatesApi,
    CustomerListApi,
    CustomerMergeApi,
)
from records.identities.apis import CustomerIdentitiesApi, CustomerIdentityDetailApi, LookupApi
from records.interactions.apis import InteractionDetailApi, InteractionListApi
from records.journey.apis import CustomerTimelineApi
from records.privacy import hold_views
from records.privacy.apis import (
    PrivacyRequestApproveApi,
    PrivacyRequestCarryOutApi,
    PrivacyRequestDetailApi,
    PrivacyRequestExportApi,
    PrivacyRequestListApi,
    PrivacyRequestRejectApi,
)
from records.privacy.consent_apis import CustomerConsentHistoryApi
from records.privacy.hold_apis import CaseLegalHoldsApi, CustomerLegalHoldsApi, LegalHoldReleaseApi
from records.privacy.views import privacy_export_page

api_urlpatterns = [
    path("customers/", CustomerListApi.as_view(), name="customer-list"),
    path("customers/<int:customer_id>/", CustomerDetailApi.as_view(), name="customer-detail"),
    path("customers/<int:customer_id>/identities/", CustomerIdentitiesApi.as_view(), name="customer-identities"),
    path(
        "customers/<int:customer_id>/identities/<int:identity_id>/",
        CustomerIdentityDetailApi.as_view(),
        name="customer-identity-detail",
    ),
    path("customers/<int:customer_id>/consents/", CustomerConsentApi.as_view(), name="customer-consents"),
    path(
        "customers/<int:customer_id>/consents/history/",
        CustomerConsentHistoryApi.as_view(),
        name="customer-consent-history",
    ),
    path("customers/<int:customer_id>/timeline/", CustomerTimelineApi.as_view(), name="customer-timeline"),
    path("customers/<int:customer_id>/duplicates/", CustomerDuplicatesApi.as_view(), name="customer-duplicates"),
    path("customers/<int:customer_id>/merge/", CustomerMergeApi.as_view(), name="customer-merge"),
    path("customers/<int:customer_id>/audit/", CustomerAuditApi.as_view(), name="customer-audit"),
    path("lookup/", LookupApi.as_view(), name="lookup"),
    path("customers/<int:customer_id>/legal-holds/", CustomerLegalHoldsApi.as_view(), name="customer-legal-holds"),
    path("cases/<str:case_id>/legal-holds/", CaseLegalHoldsApi.as_view(), name="case-legal-holds"),
    path("legal-holds/<int:hold_id>/release/", LegalHoldReleaseApi.as_view(), name="legal-hold-release"),
    path("audit/access/", CustomerAccessListApi.as_view(), name="access-log"),
    path("audit/access/unusual/", UnusualAccessApi.as_view(), name="access-unusual"),
    path("cases/", CaseListApi.as_view(), name="case-list"),
    path("cases/<str:case_id>/", CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<str:case_id>/transitions/", CaseTransitionApi.as_view(), name="case-transitions"),
    path("cases/<str:case_id>/notes/", CaseNotesApi.as_view(), name="case-notes"),
    path("cases/<str:case_id>/interactions/", CaseInteractionLinkApi.as_view(), name="case-interactions"),
    path("cases/<str:case_id>/audit/", CaseAuditApi.as_view(), name="case-audit"),
    path("sla-policies/", SlaPolicyListApi.as_view(), name="sla-policy-list"),
    path("interactions/", InteractionListApi.as_view(), name="interaction-list"),
    path("interactions/<int:interaction_id>/", InteractionDetailApi.as_view(), name="interaction-detail"),
    path("privacy/requests/", PrivacyRequestListApi.as_view(), name="privacy-request-list"),
    path("privacy/requests/<int:request_id>/", PrivacyRequestDetailApi.as_view(), name="privacy-request-detail"),
    path(
        "privacy/requests/<int:request_id>/approve/", PrivacyRequestApproveApi.as_view(), name="privacy-request-approve"
    ),
    path("privacy/requests/<int:request_id>/reject/", PrivacyRequestRejectApi.as_view(), name="privacy-request-reject"),
    path(
        "privacy/requests/<int:request_id>/carry-out/",
        PrivacyRequestCarryOutApi.as_view(),
        name="privacy-request-carry-out",
    ),
    path("privacy/requests/<int:request_id>/export/", PrivacyRequestExportApi.as_view(), name="privacy-request-export"),
]

page_urlpatterns = [
    path("customers/", views.customer_search_page, name="customer-search"),
    path("customers/<int:customer_id>/", views.customer_page, name="customer-360"),
    path("customers/<int:customer_id>/timeline/", views.customer_timeline_fragment, name="customer-timeline"),
    path("customers/<int:customer_id>/cases/new/", views.case_create_page, name="case-create"),
    path("customers/<int:customer_id>/identities/new/", views.identity_add_action, name="identity-add"),
    path("customers/<int:customer_id>/merge/", views.customer_merge_action, name="customer-merge"),
    path("cases/<str:case_id>/", views.case_page, name="case"),
    path("audit/access/", audit_views.access_log_page, name="access-log"),
    path("customers/<int:customer_id>/legal-holds/", hold_views.customer_hold_action, name="customer-legal-hold"),
    path("cases/<str:case_id>/legal-holds/", hold_views.case_hold_action, name="case-legal-hold"),
    path("legal-holds/<int:hold_id>/release/", hold_views.hold_release_action, name="legal-hold-release"),
    path("audit/unusual/", audit_views.unusual_access_page, name="access-unusual"),
    path("cases/<str:case_id>/transition/", views.case_transition_action, name="case-transition"),
    path("cases/<str:case_id>/notes/", views.case_note_action, name="case-note"),
    path("cases/<str:case_id>/edit/", views.case_update_action, name="case-update"),
    path("privacy/requests/<int:request_id>/export/", privacy_export_page, name="privacy-export"),
]
