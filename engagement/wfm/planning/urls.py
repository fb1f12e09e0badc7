"""Routes of WFM's planning: the API (``urlpatterns``, under /api/v1/engagement/wfm/) and the pages
(``page_urlpatterns``, under /wfm/), both mounted by engagement/wfm/urls.py."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
page_urlpatterns: list[URLPattern | URLResolver] = []
