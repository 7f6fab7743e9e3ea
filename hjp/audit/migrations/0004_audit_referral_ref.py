# The patient record each audit entry belongs to (AuditEvent.referral_ref, the id of its referral), indexed for
# "who has looked", and filled in for the entries written before it from what they name (object type and id):
# the referral, its patient, consent and their changes, its case and everything on the case, its outcomes and
# its messages. Entries about anything else (lists, sign-in, reports) name no patient and keep none.
#
# The audit log is append-only (0002's trigger): this one backfill of a derived column lifts the trigger for
# its UPDATE and restores it in the same transaction; what each entry recorded is untouched.

from django.db import migrations, models

# object type: (the rows of that type joined to their referral, the referral's id). `t` is the row itself.
THROUGH_CASE = "JOIN casework_case c ON c.id = t.case_id"
THROUGH_ISSUE = "JOIN casework_caseissue i ON i.id = t.issue_id JOIN casework_case c ON c.id = i.case_id"
SOURCES = {
    "referrals.referral": ("referrals_referral t", "t.id"),
    "referrals.patient": ("referrals_patient t JOIN referrals_referral r ON r.patient_id = t.id", "r.id"),
    "referrals.consent": ("referrals_consent t", "t.referral_id"),
    "referrals.consentchange": (
        "referrals_consentchange t JOIN referrals_consent k ON k.id = t.consent_id",
        "k.referral_id",
    ),
    "referrals.referralstatuschange": ("referrals_referralstatuschange t", "t.referral_id"),
    "casework.case": ("casework_case t", "t.referral_id"),
    **{
        f"casework.{model}": (f"casework_{model} t {THROUGH_CASE}", "c.referral_id")
        for model in ("caseissue", "casenote", "appointment", "deadline", "evidencerequest")
    },
    "casework.onwardreferral": ("casework_onwardreferral t", "t.referral_id"),
    **{
        f"outcomes.{model}": (f"outcomes_{model} t {THROUGH_ISSUE}", "c.referral_id")
        for model in ("financialoutcome", "decisionoutcome", "nonfinancialoutcome")
    },
    **{
        f"outcomes.{model}": (f"outcomes_{model} t {THROUGH_CASE}", "c.referral_id")
        for model in ("wellbeingscore", "caseclosure", "outcomechange")
    },
    "notifications.message": ("notifications_message t", "t.referral_id"),
}

LIFT = {
    "postgresql": ["ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only"],
    "sqlite": ["DROP TRIGGER audit_auditevent_no_update"],
}
RESTORE = {
    "postgresql": ["ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only"],
    "sqlite": [
        """CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused on audit_auditevent'); END"""
    ],
}


def backfill(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in LIFT:
        raise NotImplementedError(f"No backfill for the {vendor} database: hjp runs on PostgreSQL or SQLite.")
    for statement in LIFT[vendor]:
        schema_editor.execute(statement, params=None)
    for object_type, (rows, referral) in SOURCES.items():
        schema_editor.execute(
            f"""UPDATE audit_auditevent SET referral_ref = src.ref
                FROM (SELECT CAST(t.id AS TEXT) AS oid, {referral} AS ref FROM {rows}) src
                WHERE audit_auditevent.object_type = %s AND audit_auditevent.object_id = src.oid
                  AND audit_auditevent.referral_ref IS NULL""",
            params=[object_type],
        )
    for statement in RESTORE[vendor]:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_more_actions"),
        ("referrals", "0012_search_and_list_indexes"),
        ("casework", "0007_case_next_deadline_and_list_indexes"),
        ("outcomes", "0006_figures_pending_append_only"),
        ("notifications", "0006_message_inbox_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="referral_ref",
            field=models.BigIntegerField(
                blank=True, help_text="Id of the referral (patient record) the object acted on belongs to.", null=True
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                models.F("referral_ref"),
                models.OrderBy(models.F("at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                condition=models.Q(("referral_ref__isnull", False)),
                name="audit_referral_idx",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
