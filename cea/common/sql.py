"""Hand-written SQL for the few reads on a hot path, still returning model instances.

Django's ORM builds the SQL and each model instance anew on every call: about 1-2 ms on this
machine, several times the query itself for a one-row index look-up (docs/performance.md).
The identifier look-up and the timeline page run on every contact, so they keep their SQL as
a constant and turn rows into models with ``Model.from_db`` after the fields' own database
converters (JSON, …) — the same instances the ORM makes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class RowMapper(Generic[M]):
    """The select list of a model's concrete fields, and how to turn one row into an instance."""

    model: type[M]
    columns: str
    attnames: list[str]
    converters: list[tuple[int, Callable[[Any], Any]]]

    def instance(self, row: Sequence) -> M:
        values = list(row)
        for index, convert in self.converters:
            values[index] = convert(values[index])
        return self.model.from_db(connection.alias, self.attnames, values)


def row_mapper(model: type[M], table_alias: str) -> RowMapper[M]:
    fields = model._meta.concrete_fields
    converters = [
        (index, lambda value, field=field: field.from_db_value(value, None, connection))
        for index, field in enumerate(fields)
        if hasattr(field, "from_db_value")
    ]
    return RowMapper(
        model=model,
        columns=", ".join(f"{table_alias}.{connection.ops.quote_name(field.column)}" for field in fields),
        attnames=[field.attname for field in fields],
        converters=converters,
    )


def fetch_models(mapper: RowMapper[M], sql: str, params: Sequence) -> list[M]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [mapper.instance(row) for row in rows]
