"""The advisor's diary: an index of each advisor's appointments still booked, from which the advisor's day reads
theirs. The appointments still booked from today on, of cases reallocated before reallocation handed them over,
are given to the case's advisor now, as `case_reallocate` does from here on."""

from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery

from hjp.core.dates import start_of_today


def hand_over_booked_appointments(apps, schema_editor):
    Appointment = apps.get_model("casework", "Appointment")
    Case = apps.get_model("casework", "Case")
    held_by_another = Appointment.objects.filter(attendance="booked", starts_at__gte=start_of_today()).exclude(
        advisor_id=F("case__advisor_id")
    )
    held_by_another.update(advisor_id=Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("advisor_id")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0011_case_service"),
    ]

    operations = [
        migrations.RunPython(hand_over_booked_appointments, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                condition=models.Q(("attendance", "booked"), ("entered_in_error_at__isnull", True)),
                fields=["advisor", "starts_at", "id"],
                name="appointment_advisor_booked_idx",
            ),
        ),
    ]
