from django.db import migrations


def add_job(apps, schema_editor):
    """The periodic job that tells managers and supervisors 90 and 30 days before a funding period or a partnership
    ends (an installation migrated before this one has its jobs already; a new one got it from CELERY_BEAT_SCHEDULE
    in 0002). Daily at 07:30; from then on admins edit it."""
    apps.get_model("core", "PeriodicJob").objects.get_or_create(
        name="funding-alerts",
        defaults={"task": "hjp.accounts.tasks.send_funding_alerts", "minute": "30", "hour": "7"},
    )


def remove_job(apps, schema_editor):
    apps.get_model("core", "PeriodicJob").objects.filter(name="funding-alerts").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_daily_summaries_job"),
    ]

    operations = [migrations.RunPython(add_job, remove_job)]
