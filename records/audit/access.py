"""Who read which customer: ``customer_access_record`` writes the access log every reading surface calls.

One ``INSERT … SELECT`` per call, whatever the number of customers: it takes each customer's team
from the customer table on the way, so the log says whether the reader was outside that team
without another round trip. Rows are never updated; the retention job deletes old ones
(kind ``access_log``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from cea.common.pii import redact_text
from cea.common.request_url import request_url
from cea.common.roles import sees_everything, team_ids_of
from records.audit.models import CustomerAccess
from records.customers.models import Customer

_DETAIL_MAX = CustomerAccess._meta.get_field("detail").max_length
_URL_MAX = CustomerAccess._meta.get_field("url").max_length
_SURFACE_MAX = CustomerAccess._meta.get_field("surface").max_length


def _request_url() -> str:
    """The address of the request being served ("" outside a request), redacted and cut to fit."""
    return redact_text(request_url())[:_URL_MAX]


def customer_access_record(*, actor, customer_ids: Iterable[int], surface: str, detail: str = "") -> None:
    """Record that ``actor`` read ``customer_ids`` on ``surface`` (one row per customer, one statement).

    ``actor``: the user or integration client (``None`` or an anonymous user for the system).
    Unknown ids are skipped. ``outside_teams`` is set when the customer's team is not one of the
    actor's teams (never for administrators and integration clients, who see every team).
    """
    ids = sorted({int(pk) for pk in customer_ids})
    if not ids:
        return
    signed_in = actor is not None and getattr(actor, "is_authenticated", False)
    user_id = actor.pk if signed_in else None
    username = actor.get_username() if signed_in else ""
    everything = not signed_in or sees_everything(actor)
    teams = [] if everything else sorted(team_ids_of(actor))
    quote = connection.ops.quote_name
    table, customers = quote(CustomerAccess._meta.db_table), quote(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table}"  # noqa: S608 - the table name comes from the model
            " (at, user_id, username, customer_id, customer_team_id, outside_teams, surface, detail, url)"
            " SELECT NOW(), %s, %s, c.id, c.team_id,"
            " CASE WHEN %s THEN FALSE ELSE (c.team_id IS NULL OR NOT (c.team_id = ANY(%s))) END,"
            " %s, %s, %s"
            f" FROM {customers} c WHERE c.id = ANY(%s)",
            [
                user_id,
                username,
                everything,
                teams,
                surface[:_SURFACE_MAX],
                redact_text(detail)[:_DETAIL_MAX],
                _request_url(),
                ids,
            ],
        )
