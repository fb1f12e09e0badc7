"""The composition root of URLs: each app contributes its API and pages here."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from cea.health import health, live, ready
from engagement.urls import api_urlpatterns as engagement_api
from engagement.urls import page_urlpatterns as engagement_pages
from insights.urls import api_urlpatterns as insights_api
from insights.urls import page_urlpatterns as insights_pages
from insights.urls import public_urlpatterns as insights_public
from integration.urls import api_urlpatterns as integration_api
from integration.urls import customer_api_urlpatterns as integration_customer_api
from records.urls import api_urlpatterns as records_api
from records.urls import page_urlpatterns as records_pages


@login_required
def home(request):
    return redirect("records:customer-search")


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask /favicon.ico before they read the page's <link rel="icon">: send them to the SVG."""
    return redirect(static("favicon.svg"))


# Under /api/ the one JSON error shape, elsewhere Django's pages (cea.common.api).
handler400 = "cea.common.api.bad_request"
handler403 = "cea.common.api.permission_denied"
handler404 = "cea.common.api.page_not_found"
handler500 = "cea.common.api.server_error"

# Swagger UI is served from this site (drf-spectacular-sidecar's pinned build) and its start-up
# script is a file of its own (the split view), so its page needs no inline script; the UI itself
# sets inline styles and shows data: images.
SWAGGER_CSP = csp_replace({"style-src": [SELF, UNSAFE_INLINE], "img-src": [SELF, "data:"]})

admin.site.site_header = "CEA console"
admin.site.site_title = "CEA console"
admin.site.index_title = "Configuration and records"

urlpatterns = [
    path("", home, name="home"),
    path("health/", health, name="health"),
    path("health/live/", live, name="health-live"),
    path("health/ready/", ready, name="health-ready"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/", include("cea.accounts.urls")),
    # The language picker posts to i18n/setlang/; pages load their scripts' strings from jsi18n/
    # (docs/translations.md).
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/engagement/", include((engagement_api, "engagement-api"))),
    path("api/v1/integration/", include((integration_api, "integration-api"))),
    path("api/v1/insights/", include((insights_api, "insights-api"))),
    # The aggregated view sits beside records' customer endpoints; records cannot import integration.
    path("api/v1/", include((integration_customer_api, "integration-customers"))),
    path("api/v1/", include((records_api, "records-api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SWAGGER_CSP(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="swagger-ui"),
    path("", include((records_pages, "records"))),
    path("", include((engagement_pages, "engagement"))),
    path("insights/", include((insights_pages, "insights"))),
    path("", include((insights_public, "insights-public"))),
]
