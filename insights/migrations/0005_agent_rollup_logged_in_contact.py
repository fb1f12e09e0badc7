"""Occupancy and utilisation count contact time only while logged in (``logged_in_contact_seconds``).

The agent rows written before hold 0 in the new column: the contacts' watermark is cleared so that
the next refresh (the beat task, ``insights_rebuild --changed``, ``make run``) rebuilds every rollup.
"""

from django.db import migrations, models


def rebuild_on_next_refresh(apps, schema_editor):
    apps.get_model("insights", "RollupWatermark").objects.filter(name="contacts").update(changed_until=None)


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0004_queue_rollup"),
    ]

    operations = [
        migrations.AddField(
            model_name="agentrollup",
            name="logged_in_contact_seconds",
            field=models.FloatField(default=0),
        ),
        migrations.RunPython(rebuild_on_next_refresh, migrations.RunPython.noop),
    ]
