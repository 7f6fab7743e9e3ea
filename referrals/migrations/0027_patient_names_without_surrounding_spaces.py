"""Patients' names stored without surrounding white space, as `referrals.services.saving` now stores them (Python's
`str.strip()`: spaces, tabs, line breaks, non-breaking spaces): the same-patient rule
(referrals.selectors._SamePatient) compares stored names exactly, but for case, so a name saved as " Maria" never
matched "Maria". The rows are found by a pattern for white space at either end (`\\s` as the
database's regular expressions know it; a scan of the table), and only those few are written, each as saving
would store it."""

from django.db import migrations
from django.db.models import Q

EDGE_SPACE = r"^\s|\s$"


def strip_names(apps, schema_editor):
    Patient = apps.get_model("referrals", "Patient")
    spaced = Q(given_name__regex=EDGE_SPACE) | Q(family_name__regex=EDGE_SPACE)
    for patient in Patient.objects.filter(spaced).only("pk", "given_name", "family_name").iterator():
        Patient.objects.filter(pk=patient.pk).update(
            given_name=patient.given_name.strip(), family_name=patient.family_name.strip()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0026_patient_same_person_index"),
    ]

    operations = [
        migrations.RunPython(strip_names, migrations.RunPython.noop, elidable=True),
    ]
