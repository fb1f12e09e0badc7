"""What the rollups share: 15-minute intervals on a UTC grid (the same grid in every time zone in
use), and the SQL of the lower layers' selectors they wrap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import QuerySet

GRAIN = timedelta(minutes=15)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # date_bin's origin in the rollups' SQL


def interval_floor(moment: datetime) -> datetime:
    """The start of the 15-minute interval holding ``moment``, in UTC."""
    moment = moment.astimezone(UTC)
    return moment - ((moment - EPOCH) % GRAIN)


def hour_floor(moment: datetime) -> datetime:
    """The start of the UTC hour holding ``moment``."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def queryset_sql(queryset: QuerySet[Any, Any]) -> tuple[str, tuple[Any, ...]]:
    """A selector's queryset as SQL and parameters, to be wrapped in a rollup's named statement."""
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)
