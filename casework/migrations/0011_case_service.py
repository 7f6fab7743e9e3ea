"""Case.advice_organisation: the service a case's referral was sent to, on the case itself, so that who may see
a case and the caseload's counts are read from the case's own indexes (no probe of each case's referral). Filled
from the referrals, then held equal to the referral's on PostgreSQL by a foreign key on (referral_id,
advice_organisation_id) to referrals' referral_service_key, added NOT VALID (0012 validates it).

One transaction, which holds the cases' table lock until the column is filled (about half a minute at 600,000
cases): the README's release steps migrate before the processes start, and a process of the release before
could not open a case once the column is NOT NULL. The column's indexes are built in 0012, without that lock."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from hjp.core.migration_operations import PostgresOnly


def copy_service(apps, schema_editor):
    Case = apps.get_model("casework", "Case")
    Referral = apps.get_model("referrals", "Referral")
    service = Referral.objects.filter(pk=OuterRef("referral_id")).values("advice_organisation_id")[:1]
    Case.objects.update(advice_organisation_id=Subquery(service))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_in_kind_support"),
        ("casework", "0010_case_deadline_and_evidence_indexes_for_bounded_reads"),
        ("referrals", "0024_referral_service_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="advice_organisation",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="accounts.organisation",
            ),
        ),
        migrations.RunPython(copy_service, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="case",
            name="advice_organisation",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="accounts.organisation",
            ),
        ),
        # NOT VALID: added at once, without reading the cases; 0012 validates it while the table takes writes.
        PostgresOnly(
            migrations.RunSQL(
                "ALTER TABLE casework_case ADD CONSTRAINT case_service_is_referrals "
                "FOREIGN KEY (referral_id, advice_organisation_id) "
                "REFERENCES referrals_referral (id, advice_organisation_id) "
                "ON UPDATE CASCADE DEFERRABLE INITIALLY DEFERRED NOT VALID",
                "ALTER TABLE casework_case DROP CONSTRAINT case_service_is_referrals",
            )
        ),
    ]
