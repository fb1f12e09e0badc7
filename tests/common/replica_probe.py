"""What the database router does in a process configured as deployed (cea.settings, from the environment):
run by tests/common/test_replica.py with ``python -m tests.common.replica_probe`` and DATABASE_URL set
to a private primary, CEA_REPLICA_DATABASE_URL to its streaming standby or unset. Prints its findings
as JSON for the test to check; not collected as a test.

The table it reads and writes is one of Django's own (content types), created on the primary when
missing: the whole schema is not needed to show where the router sends queries.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid

REPLAY_TIMEOUT_SECONDS = 30
# The probe's rows, apart from an earlier probe's on the same primary.
APP_LABEL = f"probe-{uuid.uuid4().hex[:8]}"


def _in_recovery(alias: str) -> bool:
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return bool(cursor.fetchone()[0])


def _wait_for_replay() -> None:
    """Until the replica has replayed all the primary has written (at once without a replica)."""
    from django.db import connections

    from cea.common.replica import REPLICA, replica_configured

    if not replica_configured():
        return
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        written = cursor.fetchone()[0]
    deadline = time.monotonic() + REPLAY_TIMEOUT_SECONDS
    with connections[REPLICA].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"The replica did not replay up to {written}.")
            time.sleep(0.05)


def _models(alias: str) -> list[str]:
    from django.contrib.contenttypes.models import ContentType

    return sorted(ContentType.objects.using(alias).filter(app_label=APP_LABEL).values_list("model", flat=True))


def probe() -> dict[str, object]:
    import django

    django.setup()
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, router, transaction

    from cea.common.replica import (
        REPLICA,
        forget_replica_check,
        reading_connection,
        reading_from_replica,
        replica_configured,
        replica_lag_seconds,
        replica_streamed,
    )

    found: dict[str, object] = {"replica_configured": replica_configured()}
    if ContentType._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(ContentType)
    ContentType.objects.create(app_label=APP_LABEL, model="written-before")
    _wait_for_replay()

    with reading_from_replica() as alias:
        found["scope_alias"] = alias
        rows = ContentType.objects.filter(app_label=APP_LABEL)
        found["read_alias"] = rows.db
        found["read_in_recovery"] = _in_recovery(rows.db)
        found["read_rows"] = sorted(rows.values_list("model", flat=True))
        # A server-side cursor, as a streamed export reads (WITH HOLD outside a transaction)
        found["iterated_rows"] = [row.model for row in replica_streamed(rows.iterator(chunk_size=1))]
        with reading_connection().cursor() as cursor:  # raw SQL goes where the ORM's reads go
            cursor.execute("SELECT pg_is_in_recovery()")
            found["raw_read_in_recovery"] = cursor.fetchone()[0]
        # A write inside the scope: a standby would refuse it ("read-only transaction").
        written = ContentType.objects.create(app_label=APP_LABEL, model="written-inside")
        found["write_alias"] = written._state.db
        with transaction.atomic():  # the transaction's own rows are on the primary only
            ContentType.objects.filter(pk=written.pk).update(model="renamed-inside")
            renamed = ContentType.objects.filter(app_label=APP_LABEL, model="renamed-inside")
            found["read_alias_in_transaction"] = renamed.db
            found["read_in_transaction_sees_own_write"] = renamed.exists()
    found["read_alias_outside"] = ContentType.objects.all().db
    found["migrate_on"] = [alias for alias in ("default", REPLICA) if router.allow_migrate(alias, "contenttypes")]
    found["primary_rows"] = _models("default")

    if replica_configured():
        # Lag: the standby stops replaying; once the primary has committed and the standby's last
        # replayed transaction is older than CEA_REPLICA_MAX_LAG_SECONDS, reports read the primary.
        from django.conf import settings
        from django.db import connections

        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_pause()")
        ContentType.objects.create(app_label=APP_LABEL, model="written-while-paused")
        deadline = time.monotonic() + REPLAY_TIMEOUT_SECONDS
        while replica_lag_seconds() <= settings.REPLICA_MAX_LAG_SECONDS:
            if time.monotonic() > deadline:
                raise TimeoutError("The paused replica never lagged.")
            time.sleep(0.1)
        forget_replica_check()
        with reading_from_replica() as alias:
            found["lagging_scope_alias"] = alias
            found["lagging_read_rows"] = sorted(
                ContentType.objects.filter(app_label=APP_LABEL).values_list("model", flat=True)
            )
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
        _wait_for_replay()
        forget_replica_check()
        with reading_from_replica() as alias:
            found["caught_up_scope_alias"] = alias
    return found


def probe_unreachable() -> dict[str, object]:
    """With CEA_REPLICA_DATABASE_URL naming a server that is not there: where a report's reads go."""
    import django

    django.setup()
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from cea.common.replica import reading_from_replica, replica_configured

    found: dict[str, object] = {"replica_configured": replica_configured()}
    if ContentType._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(ContentType)
    ContentType.objects.create(app_label=APP_LABEL, model="written-before")
    with reading_from_replica() as alias:
        found["scope_alias"] = alias
        rows = ContentType.objects.filter(app_label=APP_LABEL)
        found["read_alias"] = rows.db
        found["read_rows"] = sorted(rows.values_list("model", flat=True))
    return found


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cea.settings")
    json.dump(probe_unreachable() if sys.argv[1:] == ["unreachable"] else probe(), sys.stdout)
