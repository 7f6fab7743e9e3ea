"""An index of patients by name in capitals and date of birth, for finding the same patient (referrals.selectors
._SamePatient): built without blocking writes on PostgreSQL (CONCURRENTLY, so this migration is not atomic)."""

from django.db import migrations, models
from django.db.models.functions import Upper

from hjp.core.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("referrals", "0025_referral_keys_indexed_by_their_lists"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="patient",
            index=models.Index(
                Upper("family_name"), Upper("given_name"), models.F("date_of_birth"), name="patient_same_person_idx"
            ),
        ),
    ]
