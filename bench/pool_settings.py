"""Settings for the connection-pool variant of bench/asgi_servers.py (``--pool-python``).

``cea.settings`` plus Django's own PostgreSQL connection pool (Django 5.1+, psycopg 3 with
psycopg-pool), which needs persistent connections off. The project does not depend on psycopg 3
yet: run the variant with an interpreter that has it, e.g. a venv that sees the project's venv:

    python -m venv /tmp/cea-pool-venv
    echo "$PWD/.venv/lib/python3.11/site-packages" > /tmp/cea-pool-venv/lib/python3.11/site-packages/cea.pth
    /tmp/cea-pool-venv/bin/pip install "psycopg[binary,pool]"
"""

from cea.settings import *  # noqa: F403
from cea.settings import DATABASES, env_int

DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
    "min_size": 2,
    # Under ASGI every in-flight request runs its sync code in its own thread: size to the concurrency.
    "max_size": env_int("CEA_BENCH_POOL_SIZE", 8, minimum=1),
    "timeout": 10,
}
