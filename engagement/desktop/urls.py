"""Pages of the agent desktop, mounted at /desk/ by engagement/urls.py (names in the ``engagement`` namespace)."""

from django.urls import path

from engagement.desktop import chat_views, outreach_views, views

urlpatterns = [
    path("", views.desktop_page, name="desktop"),
    path("conversations/<int:conversation_id>/", views.conversation_fragment, name="desk-conversation"),
    path("conversations/<int:conversation_id>/reply/", views.reply_action, name="desk-reply"),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/files/<str:sha256>/",
        chat_views.chat_attachment_download,
        name="desk-chat-attachment",
    ),
    path("conversations/<int:conversation_id>/wrap-up/", views.wrap_up_action, name="desk-wrap-up"),
    path("conversations/<int:conversation_id>/transfer/", views.transfer_action, name="desk-transfer"),
    path(
        "conversations/<int:conversation_id>/verification/",
        views.verification_start_action,
        name="desk-verification-start",
    ),
    path(
        "conversations/<int:conversation_id>/verification/check/",
        views.verification_check_action,
        name="desk-verification-check",
    ),
    path("customers/", views.customer_search_fragment, name="desk-customer-search"),
    path("customers/<int:customer_id>/", views.customer_fragment, name="desk-customer"),
    path("customers/<int:customer_id>/cases/", views.case_create_action, name="desk-case-create"),
    path("customers/<int:customer_id>/holdings/", views.customer_holdings_fragment, name="desk-holdings"),
    path(
        "customers/<int:customer_id>/next-best-action/",
        views.next_best_action_fragment,
        name="desk-next-best-action",
    ),
    path(
        "recommendations/<int:recommendation_id>/<str:decision>/",
        views.recommendation_decide_action,
        name="desk-recommendation-decide",
    ),
    path("customers/<int:customer_id>/outbound/", views.outbound_action, name="desk-outbound"),
    path("customers/<int:customer_id>/callbacks/", views.callback_action, name="desk-callback"),
    path("customers/<int:customer_id>/outreach/", outreach_views.outreach_panel, name="desk-outreach"),
    path(
        "customers/<int:customer_id>/outreach/preview/",
        outreach_views.outreach_preview,
        name="desk-outreach-preview",
    ),
    path("cases/<str:case_id>/transition/", views.case_transition_action, name="desk-case-transition"),
]
