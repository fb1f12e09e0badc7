"""Assigning every customer's persona: written through records' bulk service, only what changed, with events."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command

from cea.celery import app
from cea.common.errors import ValidationFailed
from insights.personas.services import personas_assign
from insights.personas.tasks import assign_personas
from records.customers.models import Customer
from records.customers.services import PersonaPlacement, customer_set_persona, customers_set_personas
from records.interactions.models import Interaction
from records.journey.models import JourneyEvent
from tests.insights.personas_support import customer_with, persona
from tests.records.factories import CustomerFactory

pytestmark = pytest.mark.django_db

GOLD = {"feature": "value_tier", "op": "in", "value": ["gold", "platinum"]}
CHATTY = {"feature": "channel_share", "channel": "chat", "op": "gte", "value": 0.5}


def events(customer):
    return list(JourneyEvent.objects.filter(customer=customer, kind="persona.assigned").order_by("id"))


def test_assignment_places_every_customer_with_reasons_and_records_the_change():
    # Given two personas and three customers
    persona("digital-vip", order=10, rules=[GOLD, CHATTY])
    persona("everyone", order=90)
    vip = customer_with(value_tier="gold", contacts={"chat": 5, "voice": 3})
    other = customer_with(value_tier="silver")
    merged = customer_with(value_tier="gold", contacts={"chat": 2}, status="merged")
    # When every customer's persona is assigned
    result = personas_assign(actor=None)
    # Then each active customer has its persona and why, and a journey event says so
    assert (result.customers, result.changed, result.by_persona) == (2, 2, {"digital-vip": 1, "everyone": 1})
    vip.refresh_from_db()
    assert vip.persona == "digital-vip"
    assert vip.persona_reasons == ["value tier gold", "62% of contacts on chat"]
    assert vip.persona_assigned_at is not None
    (event,) = events(vip)
    assert event.summary == "Persona digital-vip"
    assert event.source_system == "insights"
    assert event.payload == {
        "persona": "digital-vip",
        "previous": "",
        "reasons": ["value tier gold", "62% of contacts on chat"],
    }
    assert Customer.objects.get(pk=other.pk).persona == "everyone"
    # A merged tombstone is left alone
    assert Customer.objects.get(pk=merged.pk).persona == ""


def test_a_second_run_writes_nothing_and_a_change_writes_only_that_customer():
    # Given customers assigned once
    persona("vip", order=10, rules=[GOLD])
    persona("everyone", order=90)
    staying = customer_with(value_tier="gold")
    moving = customer_with(value_tier="standard")
    personas_assign(actor=None)
    staying.refresh_from_db()
    before = (staying.updated_at, staying.persona_assigned_at)
    # When nothing changed and it runs again
    again = personas_assign(actor=None)
    # Then nothing is written: no row touched, no new event
    assert again.changed == 0
    staying.refresh_from_db()
    assert (staying.updated_at, staying.persona_assigned_at) == before
    assert len(events(staying)) == 1
    # When one customer becomes gold
    Customer.objects.filter(pk=moving.pk).update(value_tier="gold")
    third = personas_assign(actor=None)
    # Then only that one changes, with an event naming the previous persona
    assert third.changed == 1
    staying.refresh_from_db()
    assert staying.updated_at == before[0]
    moving.refresh_from_db()
    assert moving.persona == "vip"
    assert [event.summary for event in events(moving)] == ["Persona everyone", "Persona vip (was everyone)"]


def test_reasons_changing_without_the_persona_are_written_without_an_event():
    # Given a customer placed by their contacts in the last 90 days
    persona("frequent", rules=[{"feature": "contacts_90d", "op": "gte", "value": 1}])
    customer = customer_with(contacts={"voice": 1})
    personas_assign(actor=None)
    # When they have one more contact
    customer_with(contacts={})  # another customer, untouched
    first = Interaction.objects.get(customer=customer)
    Interaction.objects.create(customer=customer, channel="voice", started_at=first.started_at, ended_at=first.ended_at)
    result = personas_assign(actor=None)
    # Then the reasons are updated, the persona and its one event stay
    customer.refresh_from_db()
    assert result.changed == 0
    assert customer.persona_reasons == ["2 contacts in the last 90 days"]
    assert len(events(customer)) == 1


def test_no_active_definition_leaves_customers_as_they_are():
    # Given a customer with a persona and only an inactive definition
    customer = CustomerFactory(persona="legacy-persona")
    persona("off", is_active=False)
    # When the assignment runs
    result = personas_assign(actor=None)
    # Then nothing is written
    assert result.customers == 0
    customer.refresh_from_db()
    assert customer.persona == "legacy-persona"


def test_a_customer_no_persona_fits_any_more_is_cleared_with_an_event():
    persona("vip", rules=[GOLD])
    customer = CustomerFactory(persona="vip", value_tier="standard")
    personas_assign(actor=None)
    customer.refresh_from_db()
    assert (customer.persona, customer.persona_reasons) == ("", [])
    assert [event.summary for event in events(customer)] == ["Persona vip no longer fits: no persona's rules match"]


def test_the_bulk_service_refuses_bad_placements_and_writes_nothing():
    customer = CustomerFactory()
    with pytest.raises(ValidationFailed) as twice:
        customers_set_personas(
            actor=None,
            placements=[
                PersonaPlacement(customer_id=customer.pk, persona="a", reasons=("x",)),
                PersonaPlacement(customer_id=customer.pk, persona="b", reasons=("y",)),
            ],
        )
    assert twice.value.fields == {"placements": [f"Customer {customer.pk} is placed twice."]}
    with pytest.raises(ValidationFailed) as blank:
        customers_set_personas(
            actor=None, placements=[PersonaPlacement(customer_id=customer.pk, persona="a", reasons=(" ",))]
        )
    assert "reasons" in blank.value.fields
    with pytest.raises(ValidationFailed):
        customer_set_persona(actor=None, customer=customer, persona="x" * 51, reasons=["why"])
    customer.refresh_from_db()
    assert customer.persona == ""


def test_the_write_is_audited_under_the_actor(admin_user):
    # Given a customer
    customer = CustomerFactory()
    # When a persona is set by an admin
    customer_set_persona(actor=admin_user, customer=customer, persona="vip", reasons=["value tier gold"])
    # Then the audit trail has the update, by that admin
    event = Customer.pgh_event_models["update"].objects.filter(pgh_obj_id=customer.pk).latest("pgh_id")
    assert event.persona == "vip"
    assert event.pgh_context.metadata["user"] == admin_user.pk


def test_the_task_and_the_command_assign(capsys):
    persona("everyone")
    customer = CustomerFactory()
    assert assign_personas.apply().get() == 1
    customer.refresh_from_db()
    assert customer.persona == "everyone"
    call_command("personas_assign")
    assert "1 customers placed, 0 changed" in capsys.readouterr().out


def test_the_beat_runs_assignment_daily_and_discovery_weekly():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"insights.personas.assign", "insights.personas.discover"} <= set(app.tasks)
    assert schedule["insights.personas.assign"].hour == {2}
    assert schedule["insights.personas.discover"].day_of_week == {1}


def test_the_starter_personas_are_added_once_and_never_over_a_definition(capsys):
    # Given a definition of one of the starter keys
    mine = persona("digital-native", rules=[{"feature": "segment", "op": "eq", "value": "web"}])
    customer = CustomerFactory(value_tier="gold")
    # When the command adds the starter personas and assigns
    call_command("personas_assign", "--starter")
    out = capsys.readouterr().out
    # Then the others are added, valid, and the customer is placed; the existing one is untouched
    added = "tech-enthusiast, busy-parent, loyal-traditionalist, value-seeker, at-risk-frequent, everyday"
    assert f"Starter personas added: {added}." in out
    mine.refresh_from_db()
    assert mine.rules == [{"feature": "segment", "op": "eq", "value": "web"}]
    customer.refresh_from_db()
    assert customer.persona == "everyday"
    # And a second time adds none
    call_command("personas_assign", "--starter")
    assert "Starter personas added: none (all defined)." in capsys.readouterr().out


def test_customers_are_written_in_batches_each_its_own_transaction(monkeypatch):
    # Given five customers and a batch of two
    monkeypatch.setattr("insights.personas.services.WRITE_BATCH", 2)
    persona("everyone")
    customers = [CustomerFactory() for _ in range(5)]
    # When they are assigned
    result = personas_assign(actor=None)
    # Then every batch is written
    assert (result.customers, result.changed) == (5, 5)
    assert set(Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list("persona", flat=True)) == {
        "everyone"
    }
