"""The rollups' grain: 15-minute intervals on a UTC grid (the same grid in every time zone in use)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

GRAIN = timedelta(minutes=15)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # date_bin's origin in the rollups' SQL


def interval_floor(moment: datetime) -> datetime:
    """The start of the 15-minute interval holding ``moment``, in UTC."""
    moment = moment.astimezone(UTC)
    return moment - ((moment - EPOCH) % GRAIN)
