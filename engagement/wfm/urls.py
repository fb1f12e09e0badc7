"""Routes of workforce management: each part's API under /api/v1/engagement/wfm/ and its pages under /wfm/
(names in the ``engagement-api`` and ``engagement`` namespaces, prefixed ``wfm-``)."""

from django.urls import include, path

from engagement.wfm.adherence import urls as adherence
from engagement.wfm.forecasting import urls as forecasting
from engagement.wfm.planning import urls as planning
from engagement.wfm.scheduling import urls as scheduling
from engagement.wfm.staffing import urls as staffing

PARTS = (planning, forecasting, staffing, scheduling, adherence)

api_urlpatterns = [path("wfm/", include(part.urlpatterns)) for part in PARTS]
page_urlpatterns = [path("wfm/", include(part.page_urlpatterns)) for part in PARTS]
