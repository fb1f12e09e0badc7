"""The audit trail of rows inserted in bulk: one statement per batch instead of a trigger per row.

pghistory records each insert with a row trigger that runs a PL/pgSQL function and an ``INSERT``
for every row. A nightly extract of a million customers fires it about four million times, a
third of the load's time in the database. ``audited_copy`` switches the insert trigger off for
its block only (django-pgtrigger's ``pgtrigger.ignore``, read by the trigger itself, so nothing
is altered and other sessions are not affected) and then writes the very rows the trigger would
have written — the same event table, label, context and time — with one ``INSERT … SELECT``.
Updates and deletes keep their triggers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import pgtrigger
from django.db import connection

_PGH_COLUMNS = {"pgh_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pgh_context_id"}


def _insert_trigger_id(model) -> str:
    ((_, trigger),) = pgtrigger.registered(f"{model._meta.label}:insert_insert")
    return trigger.get_pgid(model)


@contextlib.contextmanager
def audited_copy(model, ids: Sequence[int] = (), *, where: str = "") -> Iterator[None]:
    """Insert ``model`` rows ``ids`` inside the block (by ``COPY`` or a multi-row ``INSERT``); their
    ``insert`` audit events are written when it ends. ``where`` instead of ``ids``: an SQL condition
    on the model's table, aliased ``t``, that picks the rows inserted (from code, never from input).

    Must run in a transaction, under the audit context (``records.audit.context.audited``) the
    events should carry. Rows that are not among ``ids`` get no event: give every id inserted.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audited_copy needs a transaction: the trigger is switched off until it ends.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + _insert_trigger_id(model) + "}"])
    # An error inside aborts the transaction (or savepoint), and with it the setting.
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pgtrigger.ignore', '', true)")
    event_model = model.pgh_event_models["insert"]
    tracked = [field.column for field in event_model._meta.concrete_fields if field.column not in _PGH_COLUMNS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in tracked)
    selected = ", ".join(f"t.{quote(column)}" for column in tracked)
    with connection.cursor() as cursor:
        # The context is attached once (the subquery runs once), as the trigger would per row.
        cursor.execute(
            f"INSERT INTO {quote(event_model._meta.db_table)}"  # noqa: S608 - names from the models, quoted
            f" ({columns}, pgh_context_id, pgh_created_at, pgh_label, pgh_obj_id)"
            f" SELECT {selected}, c.id, NOW(), 'insert', t.{quote(model._meta.pk.column)}"
            f" FROM {quote(model._meta.db_table)} t, (SELECT _pgh_attach_context() AS id) c"
            + (f" WHERE {where}" if where else f" WHERE t.{quote(model._meta.pk.column)} = ANY(%s)"),
            [] if where else [list(ids)],
        )
