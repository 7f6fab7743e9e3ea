"""The indexes that read cases by their service (its own among them) and an advisor's diary of booked
appointments, built without blocking writes on PostgreSQL (CREATE and DROP INDEX CONCURRENTLY, so this migration is
not atomic); the case's foreign key to its referral's service validated (which reads the cases but lets them be
written meanwhile); the appointments still booked from today on of cases reallocated before reallocation handed
them over given to the case's advisor, as `case_reallocate` does from here on; and the advisor's own index dropped
(case_advisor_state_idx leads with it; a plain DROP INDEX, brief once it has its lock). A concurrent build that
fails leaves an INVALID index of that name: drop it before migrating again."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery

from hjp.core.dates import start_of_today
from hjp.core.migration_operations import AddIndexConcurrently, PostgresOnly, RemoveIndexConcurrently

OPEN = ("awaiting_contact", "in_progress")


def hand_over_booked_appointments(apps, schema_editor):
    Appointment = apps.get_model("casework", "Appointment")
    Case = apps.get_model("casework", "Case")
    held_by_another = Appointment.objects.filter(attendance="booked", starts_at__gte=start_of_today()).exclude(
        advisor_id=F("case__advisor_id")
    )
    held_by_another.update(advisor_id=Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("advisor_id")[:1]))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("casework", "0011_case_service"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        PostgresOnly(
            migrations.RunSQL(
                "ALTER TABLE casework_case VALIDATE CONSTRAINT case_service_is_referrals", migrations.RunSQL.noop
            )
        ),
        RemoveIndexConcurrently(model_name="case", name="case_open_state_idx"),
        RemoveIndexConcurrently(model_name="case", name="case_advisor_open_state_idx"),
        AddIndexConcurrently(
            model_name="case", index=models.Index(fields=["advice_organisation"], name="case_service_idx")
        ),
        AddIndexConcurrently(
            model_name="case",
            index=models.Index(
                condition=models.Q(("state__in", OPEN)),
                fields=["advice_organisation", "state"],
                name="case_service_open_state_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="case",
            index=models.Index(
                condition=models.Q(("state__in", OPEN)),
                fields=["advisor", "state", "advice_organisation"],
                name="case_advisor_open_service_idx",
            ),
        ),
        migrations.RunPython(hand_over_booked_appointments, migrations.RunPython.noop, atomic=True, elidable=True),
        AddIndexConcurrently(
            model_name="appointment",
            index=models.Index(
                condition=models.Q(("attendance", "booked"), ("entered_in_error_at__isnull", True)),
                fields=["advisor", "starts_at", "id"],
                name="appointment_advisor_booked_idx",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="advisor",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
