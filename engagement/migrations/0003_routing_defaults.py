"""The defaults a contact centre starts from: channel loads, reason codes, wrap-up codes, a general queue."""

from django.db import migrations


def forwards(apps, schema_editor):
    from engagement.routing.defaults import routing_defaults_ensure

    routing_defaults_ensure(apps)


class Migration(migrations.Migration):
    dependencies = [("engagement", "0002_routing")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
