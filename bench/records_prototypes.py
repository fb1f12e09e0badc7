"""Evidence for docs/performance.md, finding 3: which way of writing the two hot selectors meets "within 2x".

    .venv/bin/python bench/records_prototypes.py [--lookups 4000] [--timeline-calls 2000] [--force]

Measures, on the data of bench/records.py and with its method (each implementation against the
replay of its own statements with psycopg2, in alternating blocks), the selectors as they are
and prototypes that are NOT in the app: the look-up without ``.first()``'s ordering, selecting
the customer only, through ``Model.objects.raw()``, and with the statement compiled once per
process and rows turned into models with ``Model.from_db``; the timeline compiled once, with the
cursor as a row comparison. Each prototype is checked to return the same rows as the selector.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: bench/ is sys.path[0], where bench/records.py would shadow the ``records`` app.
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import guard_database, machine, setup_django
from bench.records import (
    TIMELINE_PAGE,
    analyze_tables,
    captured,
    compare,
    lookup_sample,
    prepare_identities,
    prepare_timeline,
    ratio,
)


def lookup_variants() -> dict:
    from django.db import connection

    from records.customers.models import Customer
    from records.identities.models import Identity
    from records.identities.normalise import normalise
    from records.identities.selectors import customer_lookup

    def unordered(kind, value):
        stored, _ = normalise(kind, value)
        found = list(Identity.objects.select_related("customer").filter(kind=kind, value=stored).order_by()[:1])
        return found[0].customer if found else None

    def customer_only(kind, value):
        stored, _ = normalise(kind, value)
        found = list(Customer.objects.filter(identities__kind=kind, identities__value=stored).order_by()[:1])
        return found[0] if found else None

    by_identity = (
        "SELECT c.* FROM records_customer c JOIN records_identity i ON i.customer_id = c.id "
        "WHERE i.kind = %s AND i.value = %s LIMIT 1"
    )

    def raw_queryset(kind, value):
        stored, _ = normalise(kind, value)
        found = list(Customer.objects.raw(by_identity, [kind, stored]))
        return found[0] if found else None

    query = Customer.objects.filter(identities__kind="", identities__value="").order_by()[:1].query
    compiled, _ = query.sql_with_params()
    attnames = [field.attname for field in Customer._meta.concrete_fields]

    def compiled_once(kind, value):
        stored, _ = normalise(kind, value)
        with connection.cursor() as cursor:
            cursor.execute(compiled, [kind, stored])
            row = cursor.fetchone()
        return Customer.from_db(connection.alias, attnames, row) if row else None

    return {
        "customer_lookup as it is": lambda kind, value: customer_lookup(kind=kind, value=value),
        "… without .first()'s ORDER BY": unordered,
        "… selecting the customer only": customer_only,
        "… Customer.objects.raw()": raw_queryset,
        "… compiled once + Customer.from_db": compiled_once,
    }


def timeline_variants() -> dict:
    from django.db import connection

    from records.journey.models import JourneyEvent
    from records.journey.selectors import journey_timeline

    fields = JourneyEvent._meta.concrete_fields
    attnames = [field.attname for field in fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    order = "ORDER BY occurred_at DESC, id DESC LIMIT %s"
    first = f"SELECT {columns} FROM records_journeyevent WHERE customer_id = %s {order}"
    after = (
        f"SELECT {columns} FROM records_journeyevent WHERE customer_id = %s AND (occurred_at, id) < (%s, %s) {order}"
    )

    def compiled_once(*, customer_id, before=None, limit=TIMELINE_PAGE):
        with connection.cursor() as cursor:
            if before is None:
                cursor.execute(first, [customer_id, limit])
            else:
                cursor.execute(after, [customer_id, *before, limit])
            rows = cursor.fetchall()
        return [JourneyEvent.from_db(connection.alias, attnames, row) for row in rows]

    return {"journey_timeline as it is": journey_timeline, "… compiled once + JourneyEvent.from_db": compiled_once}


def row(label: str, orm, floor) -> None:
    print(
        f"{label:<56} {orm.p50_ms:>7.3f} {orm.p99_ms:>7.3f} {floor.p50_ms:>7.3f} {floor.p99_ms:>7.3f} "
        f"{ratio(orm.p50_ms, floor.p50_ms):>6.2f}x {ratio(orm.p99_ms, floor.p99_ms):>6.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Prototypes of the hot selectors against raw SQL")
    parser.add_argument("--identities", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--lookups", type=int, default=4000)
    parser.add_argument("--timeline-calls", type=int, default=2000)
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    args = parser.parse_args()

    setup_django()
    database = guard_database(force=args.force)
    prepare_identities(args.identities)
    customer_id = prepare_timeline(args.events)
    analyze_tables()

    from records.journey.models import JourneyEvent

    print(f"Database {database}; machine: {machine()}")
    print(f"{'implementation':<56} {'p50':>7} {'p99':>7} {'raw p50':>7} {'raw p99':>7} {'p50 x':>7} {'p99 x':>7}")
    sample = lookup_sample(min(2000, args.lookups), seed=7)
    expected = None
    for label, variant in lookup_variants().items():
        calls, statements, found = [], [], []
        for kind, value in sample:

            def call(kind=kind, value=value, variant=variant):
                return variant(kind, value)

            customer, sent = captured(call)
            calls.append(call)
            statements.append(sent)
            found.append(customer.pk if customer else None)
        expected = expected or found
        if found != expected:
            sys.exit(f"{label} found other customers than customer_lookup.")
        row(label, *compare(calls, statements, rounds=max(2, args.lookups // 500), per_round=500))

    keys = list(
        JourneyEvent.objects.filter(customer_id=customer_id)
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", "id")
    )
    for page, before in (("first page", None), ("deep page", keys[len(keys) - TIMELINE_PAGE - 1])):
        expected = None
        for label, variant in timeline_variants().items():

            def call(variant=variant, before=before):
                return variant(customer_id=customer_id, before=before, limit=TIMELINE_PAGE)

            events, sent = captured(call)
            ids = [event.pk for event in events]
            expected = expected or ids
            if ids != expected:
                sys.exit(f"{label} gave other events than journey_timeline.")
            row(f"{label}, {page}", *compare([call], [sent], rounds=max(2, args.timeline_calls // 250), per_round=250))


if __name__ == "__main__":
    main()
