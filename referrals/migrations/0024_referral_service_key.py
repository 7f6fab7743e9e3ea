"""The referral's (id, advice_organisation) made unique, with the status beside them: what a case's foreign key on
(referral, advice_organisation) refers to (casework's 0011), and, with the status, who may see a referral's case
read from the index alone (it replaces referral_visibility_idx). Built and dropped without blocking writes on
PostgreSQL (CONCURRENTLY, so this migration is not atomic), then made the constraint the models name. SQLite
makes no unique constraint with included columns (Django's models.W039): there it is the models' state only."""

from django.db import migrations, models

from hjp.core.migration_operations import PostgresOnly, RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0009_in_kind_support"),
        ("referrals", "0023_referral_triage_and_visibility_indexes"),
    ]

    operations = [
        RemoveIndexConcurrently(model_name="referral", name="referral_visibility_idx"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(
                    model_name="referral",
                    constraint=models.UniqueConstraint(
                        fields=("id", "advice_organisation"), include=("status",), name="referral_service_key"
                    ),
                ),
            ],
            database_operations=[
                PostgresOnly(
                    migrations.RunSQL(
                        [
                            "CREATE UNIQUE INDEX CONCURRENTLY referral_service_key "
                            "ON referrals_referral (id, advice_organisation_id) INCLUDE (status)",
                            "ALTER TABLE referrals_referral "
                            "ADD CONSTRAINT referral_service_key UNIQUE USING INDEX referral_service_key",
                        ],
                        ["ALTER TABLE referrals_referral DROP CONSTRAINT referral_service_key"],
                    )
                ),
            ],
        ),
    ]
