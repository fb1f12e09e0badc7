"""CEA's ASGI application with Django's own ``ASGIHandler`` (two thread starts a request) instead of
``cea.common.asgi_handler``: the "as before" variant of bench/asgi_servers.py, for comparison only.

    uvicorn bench.stock_asgi:application …   (with CEA_API_TOKEN_CACHE_SECONDS=0, started by the bench)
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cea.settings")

from django.core.asgi import get_asgi_application

import cea.asgi
from cea.common.body_limit import RequestBodyLimit

application = cea.asgi.application
application.application_mapping["http"] = RequestBodyLimit(get_asgi_application())
