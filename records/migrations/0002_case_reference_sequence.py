from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS records_case_reference_seq START 1",
            "DROP SEQUENCE IF EXISTS records_case_reference_seq",
        )
    ]
