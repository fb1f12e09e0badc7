"""URLs of the System of Engagement: the REST API under /api/v1/engagement/ and its pages."""

from django.urls import include, path

from engagement.adapters import whatsapp_apis
from engagement.backoffice import views as backoffice_views
from engagement.backoffice.urls import page_urlpatterns as backoffice_pages
from engagement.supervision.urls import page_urlpatterns as supervision_pages
from engagement.webchat import views as webchat_views
from engagement.wfm.urls import api_urlpatterns as wfm_api
from engagement.wfm.urls import page_urlpatterns as wfm_pages

api_urlpatterns = [
    path("", include("engagement.backoffice.urls")),  # before conversations/<id>/
    path("", include("engagement.outbound.urls")),  # before conversations/<id>/
    path("", include("engagement.desktop.api_urls")),  # before conversations/<id>/
    path("", include("engagement.canned.urls")),
    path("", include("engagement.conversations.urls")),
    path("", include("engagement.adapters.urls")),
    path("", include("engagement.adapters.voice_control.urls")),
    path("", include("engagement.idv.urls")),
    path("", include("engagement.selfservice.urls")),
    path("", include("engagement.context.urls")),
    path("", include("engagement.webchat.urls")),
    path("", include("engagement.routing.urls")),
    path("", include("engagement.supervision.urls")),
    path("", include("engagement.recommendations.urls")),
    *wfm_api,
]

# Browser pages: the agent desktop, the supervisor's tools and the web chat demo site.
page_urlpatterns: list = [
    path("desk/supervision/", include(supervision_pages)),
    path("desk/backoffice/", include(backoffice_pages)),
    path("", include("engagement.desktop.tools_urls")),  # the desk's tools (desktools)
    path(
        "desk/whatsapp/<int:conversation_id>/templates/",
        whatsapp_apis.whatsapp_template_control,
        name="desk-whatsapp-templates",
    ),
    path("desk/", include("engagement.desktop.urls")),
    path("callback/<str:token>/", backoffice_views.callback_offer_page, name="callback-offer"),
    path("demo/shop/", webchat_views.demo_shop, name="demo-shop"),
    path("webchat/strings/<str:language>/", webchat_views.widget_strings, name="webchat-strings"),
    *wfm_pages,
]
