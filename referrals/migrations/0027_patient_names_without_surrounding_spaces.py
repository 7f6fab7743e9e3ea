"""Patients' names stored without surrounding spaces, as `referrals.services.saving` now stores them: the
same-patient rule (referrals.selectors._SamePatient) compares stored names exactly, but for case, so a name
saved as " Maria" never matched "Maria". Only the rows that have such spaces are written."""

from django.db import migrations
from django.db.models import F, Q
from django.db.models.functions import Trim


def strip_names(apps, schema_editor):
    Patient = apps.get_model("referrals", "Patient")
    for name in ("given_name", "family_name"):
        spaced = Q(**{f"{name}__startswith": " "}) | Q(**{f"{name}__endswith": " "})
        Patient.objects.filter(spaced).update(**{name: Trim(F(name))})


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0026_patient_same_person_index"),
    ]

    operations = [
        migrations.RunPython(strip_names, migrations.RunPython.noop, elidable=True),
    ]
