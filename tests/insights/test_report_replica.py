"""Report requests read their figures from the "replica" alias when one is configured (cea.common.replica),
while signing in and everything else stays on "default".

Here both aliases name the test database, as a replica holds the same rows: which alias ran each
statement is what the test looks at (tests/common/test_replica.py shows the router against a real
streaming standby). The rows must be committed for a second connection to see them: transactional.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from cea.common.replica import REPLICA, forget_replica_check
from insights.kpis.rollup import contact_rollup_rebuild
from insights.personas.models import DiscoveryRun
from insights.personas.services import personas_discover
from records.audit.models import CustomerAccess
from records.interactions.models import Interaction
from tests.accounts.factories import TeamFactory, UserFactory
from tests.insights.factories import T0, contact
from tests.insights.personas_support import customer_with
from tests.support import make_customer, session_client, token_client

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
DAY = {"kpis": ["handled", "aht"], "start": "2026-03-02", "end": "2026-03-02", "interval": "day"}
ROLLUP = "rollup"  # the KPI rollup tables' names (insights.kpis.models) all say it
INTERACTIONS = Interaction._meta.db_table


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup):
    """The "replica" alias, configured as settings do for CEA_REPLICA_DATABASE_URL but naming the test
    database (a test mirror of "default"); for this module only, and removed (its connection and
    pool closed) afterwards. Module-scoped: a test's ``databases`` must name an alias that exists."""
    replica = copy.deepcopy(connections["default"].settings_dict)
    replica["TEST"] = {**replica.get("TEST", {}), "MIRROR": "default"}
    pool = replica.get("OPTIONS", {}).get("pool")
    if isinstance(pool, dict):
        pool["name"] = "cea-replica"
    connections.settings[REPLICA] = replica
    forget_replica_check()
    yield
    connection = connections[REPLICA]
    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()
    del connections[REPLICA]
    del connections.settings[REPLICA]
    forget_replica_check()


@pytest.fixture
def figures():
    north = TeamFactory(name="north")
    anna = UserFactory(username="anna", teams=[north])
    contact(team=north, agent=anna, wait=10, talk=120, customer=make_customer(north))
    contact(team=north, agent=anna, wait=30, talk=240)
    contact_rollup_rebuild(now=T0 + dt.timedelta(hours=1))
    return north


def _statements(captured: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"] for query in captured.captured_queries)


def test_the_report_page_reads_its_figures_from_the_replica(figures):
    # Given an admin signed in, and a replica configured
    user = UserFactory(role="admin")
    client = session_client(user)
    # When they open the day's report
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        response = client.get("/insights/reports/", DAY)
    # Then the figures are right and were read from the rollups on the replica alias, not the primary
    assert response.status_code == 200
    [row] = response.context["table"].rows
    assert [cell.value for cell in row.cells] == [2, 180.0]
    assert ROLLUP in _statements(replica)
    assert ROLLUP not in _statements(primary)
    # And the signed-in user was read from the primary (before the report's scope opened)
    assert f'WHERE "accounts_user"."id" = {user.pk} LIMIT' in primary.captured_queries[0]["sql"]


def test_the_streamed_conversation_export_reads_from_the_replica(figures):
    # Given an admin and a replica
    client = session_client(UserFactory(role="admin"))
    # When they export the day's conversations as CSV (rows read while the response streams)
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        response = client.get("/insights/reports/conversations.csv", DAY)
        lines = b"".join(response.streaming_content).decode().splitlines()
    # Then both conversations are in it, read from the replica alias
    assert len(lines) == 3
    assert f'FROM "{INTERACTIONS}"' in _statements(replica)
    # And the access log's entry for the customer named was written to the primary
    assert f'INSERT INTO "{CustomerAccess._meta.db_table}"' in _statements(primary)
    assert "INSERT INTO" not in _statements(replica)


def test_the_kpi_api_reads_from_the_replica(figures):
    # Given an admin's API token and a replica
    client = token_client(UserFactory(role="admin"), scopes=["insights:read"])
    # When the API is asked for the day's series
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        response = client.get(
            "/api/v1/insights/kpis/",
            {"kpis": "handled", "start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z", "interval": "day"},
        )
    # Then the figures came from the replica alias; the token was checked on the primary
    assert response.status_code == 200, response.content
    assert ROLLUP in _statements(replica)
    assert ROLLUP not in _statements(primary)
    assert len(primary.captured_queries) > 0


def test_persona_discovery_reads_its_features_from_the_replica_and_stores_its_run_on_the_primary():
    # Given two kinds of customer (as in test_personas_discovery.py) and a replica
    for n in range(6):
        customer_with(value_tier="gold", contacts={"chat": 5 + n % 3}, age_days=20 + n)
        customer_with(value_tier="standard", contacts={"voice": 1 + n % 2}, age_days=900 + 5 * n)
    # When the weekly discovery runs (as its Celery task does)
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        run = personas_discover(random_state=0, k_range=range(2, 4))
    # Then the customers' behaviour was read on the replica alias, and the run written on the primary
    assert run is not None and run.customers == 12
    assert "FROM records_customer c" in _statements(replica)
    assert "FROM records_customer c" not in _statements(primary)
    assert f'INSERT INTO "{DiscoveryRun._meta.db_table}"' in _statements(primary)
