"""Settings of the test suite (pyproject: DJANGO_SETTINGS_MODULE): cea/settings.py as deployed, for a test run.

The suite runs in either mode, embedded or stack (CI sets DATABASE_URL, REDIS_URL and SECRET_KEY
only), so what a test run needs is set here, through the same documented variables, rather than
by whoever starts pytest. A variable already in the environment wins.
"""

import os

# Tests send passcodes and email through the in-memory senders; stack mode refuses them otherwise.
os.environ.setdefault("CEA_ALLOW_CONSOLE_SENDERS", "1")
# The test client and the browser tests speak plain HTTP to loopback: no redirect to HTTPS (stack
# mode turns it on by default). tests/test_security_headers.py checks the production defaults.
os.environ.setdefault("CEA_SSL_REDIRECT", "0")

from cea.settings import *  # noqa: F403

# A read replica from the environment is not the suite's: its tests configure the alias themselves
# (tests/insights/test_report_replica.py) or start a real standby (tests/common/test_replica.py).
DATABASES.pop("replica", None)  # noqa: F405
