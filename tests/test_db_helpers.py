"""The fast trigger helpers (cea/common/db.py) replace the libraries' and behave the same."""

import pghistory
import pgtrigger
import pytest
from django.db import connection
from django.db.utils import ProgrammingError

from records.audit.context import audited
from records.journey.models import JourneyEvent
from records.journey.services import journey_record
from tests.records.factories import CustomerFactory


def _function_body(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.proname = %s", [name])
        return cursor.fetchone()[0]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["_pgtrigger_should_ignore", "_pgh_attach_context"])
def test_after_migrate_the_helpers_run_without_a_subtransaction_per_row(name):
    body = _function_body(name)
    assert "EXCEPTION" not in body.upper()
    assert "current_setting(" in body.lower() and ", true)" in body.lower()


@pytest.mark.django_db(transaction=True)
def test_pgtrigger_ignore_still_skips_the_named_trigger_only():
    # Given
    event = journey_record(customer=CustomerFactory(), kind="test.event", summary="x")
    # Then: the append-only trigger refuses a delete, also when another trigger is ignored…
    with pytest.raises(ProgrammingError, match="Cannot delete"), pgtrigger.ignore("records.Customer:insert_insert"):
        JourneyEvent.objects.filter(pk=event.pk).delete()
    # …but not when that very trigger is ignored
    with pgtrigger.ignore("records.JourneyEvent:journey_no_delete"):
        JourneyEvent.objects.filter(pk=event.pk).delete()
    assert not JourneyEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_pghistory_context_is_still_attached_to_events(agent):
    # When
    with audited(agent, reason="test"):
        customer = CustomerFactory()
    # Then
    event = pghistory.models.Events.objects.tracks(customer).get()
    assert event.pgh_context["user"] == agent.pk
    assert event.pgh_context["reason"] == "test"
    # and once the context has ended, later writes in the same transaction carry none
    other = CustomerFactory()
    assert pghistory.models.Events.objects.tracks(other).get().pgh_context is None
