"""The periodic job that deletes the API's idempotency records past their 24 hours (api.tasks): an installation
migrated before this has its jobs already; a new one got it from CELERY_BEAT_SCHEDULE in core.0002, and this
finds it there."""

from django.db import migrations


def add_job(apps, schema_editor):
    apps.get_model("core", "PeriodicJob").objects.get_or_create(
        name="purge-idempotency-records",
        defaults={"task": "api.tasks.purge_idempotency_records", "minute": "50", "hour": "3"},
    )


def remove_job(apps, schema_editor):
    apps.get_model("core", "PeriodicJob").objects.filter(name="purge-idempotency-records").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_service_users_are_system_accounts"),
        ("core", "0002_periodic_jobs"),
    ]

    operations = [
        migrations.RunPython(add_job, remove_job),
    ]
