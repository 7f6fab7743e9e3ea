from django.conf import settings as django_settings
from django.db import migrations


def add_job(apps, schema_editor):
    """The periodic job that sends the daily summaries of the inbox (an installation migrated before this one has
    its jobs already; a new one got it from CELERY_BEAT_SCHEDULE in 0002). Its hour is DAILY_SUMMARY_HOUR as it
    reads when this runs; from then on admins edit it."""
    PeriodicJob = apps.get_model("core", "PeriodicJob")
    PeriodicJob.objects.get_or_create(
        name="daily-summaries",
        defaults={
            "task": "hjp.notifications.tasks.send_daily_summaries",
            "minute": "15",
            "hour": str(getattr(django_settings, "DAILY_SUMMARY_HOUR", 7)),
        },
    )


def remove_job(apps, schema_editor):
    apps.get_model("core", "PeriodicJob").objects.filter(name="daily-summaries").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_stored_file_deletion"),
    ]

    operations = [migrations.RunPython(add_job, remove_job)]
