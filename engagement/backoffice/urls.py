"""API routes of back-office work and callbacks, mounted under /api/v1/engagement/ by engagement/urls.py
(before conversations' and outbound's own routes)."""

from django.urls import path

from engagement.backoffice import apis, views

urlpatterns = [
    path("backoffice/", apis.BackofficeListApi.as_view(), name="backoffice-list"),
    path("backoffice/cases/", apis.CaseRouteApi.as_view(), name="backoffice-case-route"),
    path("backoffice/tasks/", apis.TaskCreateApi.as_view(), name="backoffice-task-create"),
    path("backoffice/<str:work_id>/complete/", apis.BackofficeCompleteApi.as_view(), name="backoffice-complete"),
    path("callbacks/offered/", apis.CallbackOfferApi.as_view(), name="callback-offered"),
    path(
        "conversations/<str:conversation_id>/callback-outcome/",
        apis.CallbackOutcomeApi.as_view(),
        name="conversation-callback-outcome",
    ),
]

# The desk's actions beside a conversation, mounted at /desk/backoffice/ (``engagement`` namespace).
page_urlpatterns = [
    path("conversations/<int:conversation_id>/complete/", views.complete_action, name="desk-backoffice-complete"),
    path(
        "conversations/<int:conversation_id>/callback-outcome/",
        views.callback_outcome_action,
        name="desk-callback-outcome",
    ),
]
