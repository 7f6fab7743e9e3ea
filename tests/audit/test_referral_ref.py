"""Each audit entry names the patient record it belongs to (AuditEvent.referral_ref, the referral's id), written
by audit_record without a query of its own, filled in for the entries written before it by the migration, and
read by "who has looked" from its index."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from casework.models import CaseNote
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.notifications.models import Message
from outcomes.selectors.subject_access import patient_audit_trail
from referrals.models import Patient
from tests import factories

pytestmark = pytest.mark.django_db

VIEW = AuditEvent.Action.VIEW


@pytest.fixture
def case(advisor_user, health_org, partnership):
    referral = factories.ReferralFactory(referring_organisation=health_org, partnership=partnership)
    return factories.CaseFactory(referral=referral, advisor=advisor_user)


def _written(django_assert_num_queries, obj) -> AuditEvent:
    with django_assert_num_queries(1):  # the INSERT alone
        entry = audit_record(actor=None, action=VIEW, obj=obj)
    return AuditEvent.objects.get(pk=entry.pk)


def test_an_entry_names_the_patient_record_of_whatever_it_is_about(case, django_assert_num_queries):
    referral = case.referral
    issue = factories.CaseIssueFactory(case=case)
    objects = [
        referral,
        Patient.objects.select_related("referral").get(pk=referral.patient_id),
        case,
        factories.CaseNoteFactory(case=case),  # its case given: read from it
        CaseNote.objects.filter(case=case).first(),  # its case not loaded: a subquery of the INSERT
        factories.FinancialOutcomeFactory(issue=issue),
        factories.WellbeingScoreFactory(case=case),
        Message.objects.create(recipient=referral.referrer, kind="status_notice", key="k", referral_id=referral.pk),
    ]
    for obj in objects:
        assert _written(django_assert_num_queries, obj).referral_ref == referral.pk, obj
    # About no patient: a user, an organisation, a list.
    assert _written(django_assert_num_queries, case.advisor).referral_ref is None
    assert _written(django_assert_num_queries, referral.referring_organisation).referral_ref is None


def test_the_migration_fills_in_the_entries_written_before_it(case):
    issue = factories.CaseIssueFactory(case=case)
    note, outcome = factories.CaseNoteFactory(case=case), factories.FinancialOutcomeFactory(issue=issue)
    before = [
        AuditEvent.objects.create(action=VIEW, object_type=obj._meta.label_lower, object_id=str(obj.pk))
        for obj in (case.referral, case.referral.patient, case, note, issue, outcome)
    ]
    unrelated = AuditEvent.objects.create(action=VIEW, object_type="accounts.user", object_id=str(case.advisor_id))
    migration = importlib.import_module("hjp.audit.migrations.0004_audit_referral_ref")
    with connection.cursor() as cursor:  # as in a migration: no foreign key check still pending on the table
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.schema_editor() as editor:
        migration.backfill(apps, editor)
    assert [AuditEvent.objects.get(pk=e.pk).referral_ref for e in before] == [case.referral_id] * len(before)
    assert AuditEvent.objects.get(pk=unrelated.pk).referral_ref is None
    with pytest.raises(Exception, match="append-only"):  # and the log is append-only again
        AuditEvent.objects.filter(pk=unrelated.pk).update(summary="rewritten")


def test_who_has_looked_reads_the_patient_records_entries_from_its_index_in_order(case):
    for obj in (case, case.referral, factories.CaseNoteFactory(case=case)):
        audit_record(actor=None, action=VIEW, obj=obj)
    other = factories.CaseFactory()
    audit_record(actor=None, action=VIEW, obj=other)
    entries = patient_audit_trail(case.referral.patient)
    assert {e.object_type for e in entries} == {"casework.case", "referrals.referral", "casework.casenote"}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    plan = patient_audit_trail(case.referral.patient)[:26].explain()
    assert "audit_referral_idx" in plan, plan
    assert "Sort" not in plan, plan
