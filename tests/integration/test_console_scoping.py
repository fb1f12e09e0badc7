"""The integration console for supervisors: write-backs of their teams' customers only; sync is admins'."""

from __future__ import annotations

import pytest

from integration.connectors.models import Connector
from integration.outbox.models import OutboxMessage
from tests.integration.factories import (
    ConnectorFactory,
    OutboxMessageFactory,
    ProcessedFileFactory,
    SyncFailureFactory,
    SyncRunFactory,
)
from tests.support import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def connector() -> Connector:
    return ConnectorFactory(name="billing", kind="rest", system="billing")


def _write_back(connector, customer, street: str) -> OutboxMessage:
    return OutboxMessageFactory(connector=connector, customer=customer, payload={"address_line1": street})


def test_a_supervisor_sees_only_their_teams_write_backs(client, supervisor, admin_user, connector, team_a, team_b):
    # Given a write-back for a customer of each team, and one with no customer
    ours = _write_back(connector, make_customer(team_a), "1 Our Street")
    theirs = _write_back(connector, make_customer(team_b, given_name="Bea"), "2 Their Street")
    orphan = _write_back(connector, None, "3 Nobody's Street")
    client.force_login(supervisor)
    # When they list and open write-backs
    listed = client.get("/admin/integration/outboxmessage/")
    opened = client.get(f"/admin/integration/outboxmessage/{theirs.pk}/change/")
    # Then only their team's is listed, and another team's payload cannot be opened
    assert list(listed.context["cl"].result_list) == [ours]
    assert "2 Their Street" not in listed.content.decode()
    assert opened.status_code == 302
    assert client.get(f"/admin/integration/outboxmessage/{orphan.pk}/change/").status_code == 302
    # An admin sees all three
    client.force_login(admin_user)
    assert set(client.get("/admin/integration/outboxmessage/").context["cl"].result_list) == {ours, theirs, orphan}


def test_sync_runs_failures_and_files_are_for_admins_only(client, supervisor, admin_user, connector):
    # Given a run with a dead letter that holds another team's customer's fields
    run = SyncRunFactory(connector=connector, errors=["line 3: bad date"])
    failure = SyncFailureFactory(run=run, record_key="C-9", payload={"fields": {"given_name": "Bea"}}, reason="bad")
    ProcessedFileFactory(connector=connector, filename="custmast.csv", sha256="0" * 64)
    pages = [
        "/admin/integration/syncrun/",
        f"/admin/integration/syncrun/{run.pk}/change/",
        "/admin/integration/syncfailure/",
        f"/admin/integration/syncfailure/{failure.pk}/change/",
        "/admin/integration/processedfile/",
    ]
    # When a supervisor opens them, then an admin
    client.force_login(supervisor)
    as_supervisor = [client.get(path).status_code for path in pages]
    client.force_login(admin_user)
    as_admin = [client.get(path).status_code for path in pages]
    # Then
    assert as_supervisor == [403] * 5
    assert as_admin == [200] * 5
