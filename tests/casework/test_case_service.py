"""A case carries its referral's service (`Case.advice_organisation`), from which who may see it is read: copied
when the referral is accepted, filled in for the cases there were before, and held equal to the referral's by the
database (a foreign key on (referral, advice organisation))."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from casework.models import Case
from casework.services.triage import referral_accept
from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.support.migrations import migrate_to


def test_an_accepted_referrals_case_belongs_to_the_service_it_was_sent_to(db):
    referral = factories.ReferralFactory(status=ReferralStatus.SUBMITTED)
    advisor = factories.advisor(referral.advice_organisation)
    case = referral_accept(referral=referral, actor=advisor)
    assert Case.objects.get(pk=case.pk).advice_organisation_id == referral.advice_organisation_id
    assert list(Case.objects.visible_to(advisor)) == [case]
    assert not Case.objects.visible_to(factories.advisor()).exists()


def _immediately():
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_database_refuses_a_case_in_another_service_than_its_referrals(db):
    case = factories.CaseFactory()
    elsewhere = factories.AdviceOrganisationFactory()
    with pytest.raises(IntegrityError, match="case_service_is_referrals"), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(advice_organisation=elsewhere)
        _immediately()
    assert Case.objects.get(pk=case.pk).advice_organisation_id == case.referral.advice_organisation_id


def test_a_referral_moved_to_another_service_takes_its_case_with_it(db):
    case = factories.CaseFactory()
    elsewhere = factories.AdviceOrganisationFactory()
    with transaction.atomic():
        Referral.objects.filter(pk=case.referral_id).update(advice_organisation=elsewhere)
        _immediately()
    assert Case.objects.get(pk=case.pk).advice_organisation_id == elsewhere.pk
    assert list(Case.objects.visible_to(factories.advisor(elsewhere))) == [case]


@pytest.mark.django_db(transaction=True)
def test_the_cases_opened_before_have_their_referrals_service_filled_in():
    cases = [factories.CaseFactory() for _ in range(3)]
    try:
        old = migrate_to([("casework", "0010_case_deadline_and_evidence_indexes_for_bounded_reads")])
        assert "advice_organisation" not in {f.name for f in old.get_model("casework", "Case")._meta.get_fields()}
    finally:
        migrate_to()
    for case in cases:
        assert Case.objects.get(pk=case.pk).advice_organisation_id == case.referral.advice_organisation_id


def test_checking_a_referral_asks_nothing_of_its_service_key(db):
    """The unique (id, advice organisation) holds by the primary key: saving a draft needs no query for it."""
    referral = factories.ReferralFactory(status=ReferralStatus.DRAFT, submitted_at=None)
    with CaptureQueriesContext(connection) as queries:
        referral.full_clean()
    assert queries.captured_queries  # the other checks still run
    assert not [q for q in queries if '"referrals_referral"."advice_organisation_id" =' in q["sql"]]
