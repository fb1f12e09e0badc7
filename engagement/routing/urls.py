"""API routes of routing, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.routing import apis

urlpatterns = [
    path("agents/me/presence/", apis.MyPresenceApi.as_view(), name="my-presence"),
    path("agents/me/offers/", apis.MyOffersApi.as_view(), name="my-offers"),
    path("offers/<str:offer_id>/accept/", apis.OfferAcceptApi.as_view(), name="offer-accept"),
    path("offers/<str:offer_id>/reject/", apis.OfferRejectApi.as_view(), name="offer-reject"),
    path(
        "conversations/<str:conversation_id>/transfer/",
        apis.ConversationTransferApi.as_view(),
        name="conversation-transfer",
    ),
    path(
        "conversations/<str:conversation_id>/wrap-up/",
        apis.ConversationWrapUpApi.as_view(),
        name="conversation-wrap-up",
    ),
    path("queues/", apis.QueueStatsApi.as_view(), name="queue-stats"),
    path("queues/<str:name>/hours/", apis.QueueHoursApi.as_view(), name="queue-hours"),
    path("business-hours/", apis.BusinessHoursListApi.as_view(), name="business-hours"),
    path("business-hours/<str:name>/", apis.BusinessHoursDetailApi.as_view(), name="business-hours-detail"),
    path("reason-codes/", apis.ReasonCodeListApi.as_view(), name="reason-codes"),
    path("wrap-up-codes/", apis.WrapUpCodeListApi.as_view(), name="wrap-up-codes"),
]
