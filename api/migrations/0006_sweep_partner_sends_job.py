"""The periodic job that enqueues the handovers to providers' FHIR servers left unsent (api.tasks): an installation
migrated before this has its jobs already; a new one got it from CELERY_BEAT_SCHEDULE in core.0002, and this
finds it there."""

from django.db import migrations


def add_job(apps, schema_editor):
    apps.get_model("core", "PeriodicJob").objects.get_or_create(
        name="sweep-partner-sends",
        defaults={"task": "api.tasks.sweep_partner_sends", "every_seconds": 300},
    )


def remove_job(apps, schema_editor):
    apps.get_model("core", "PeriodicJob").objects.filter(name="sweep-partner-sends").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0005_subscription_secret_encrypted"),
        ("core", "0002_periodic_jobs"),
    ]

    operations = [
        migrations.RunPython(add_job, remove_job),
    ]
