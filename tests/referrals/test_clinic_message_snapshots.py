"""The wording of the advice clinic notices (booked, moved, interpreter changed, cancelled, session cancelled),
compared with reviewed snapshots in tests/snapshots/."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hjp.notifications.models import Message, MessageKind
from referrals.clinics import services
from tests import factories
from tests.support.snapshots import assert_matches_snapshot, message_text

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def clinic(partnership, health_org):
    partnership.advice_organisation.name = "Leeds Welfare Rights"
    partnership.advice_organisation.save()
    advisor = factories.advisor(partnership.advice_organisation)
    advisor.full_name = "Priya Shah"
    advisor.save()
    session = factories.ClinicSessionFactory(
        partnership=partnership,
        advisor=advisor,
        place="Riverside Surgery, room 4",
        starts_at=datetime(2030, 3, 4, 10, 0, tzinfo=LONDON),
        slot_count=4,
    )
    referrer = factories.referrer(health_org)
    referrer.full_name = "Dr Helen Moss"
    referrer.save()
    referral = factories.ReferralFactory(
        reference="RCLIN001",
        referrer=referrer,
        referring_organisation=health_org,
        partnership=partnership,
        patient__given_name="Barbara",
        patient__family_name="Kowalski",
    )
    return session, referral


def _last(recipient) -> str:
    return message_text(Message.objects.filter(recipient=recipient, kind=MessageKind.CLINIC_BOOKING).latest("pk"))


def test_the_clinic_notices(clinic):
    session, referral = clinic
    referrer, advisor = referral.referrer, session.advisor
    booking = services.clinic_booking_make(
        referral=referral, actor=referrer, session_id=session.pk, slot=1, interpreter="bsl"
    )
    assert_matches_snapshot(_last(advisor), "clinic_booking_booked")

    booking = services.clinic_booking_change(
        booking=booking,
        actor=referrer,
        session_id=session.pk,
        slot=3,
        interpreter="language",
        interpreter_language="Polish",
    )
    assert_matches_snapshot(_last(advisor), "clinic_booking_moved")

    booking = services.clinic_booking_change(
        booking=booking, actor=advisor, session_id=session.pk, slot=3, interpreter="", interpreter_language=""
    )
    assert_matches_snapshot(_last(referrer), "clinic_booking_interpreter")

    services.clinic_booking_cancel(booking=booking, actor=advisor, reason="I am on leave that day.")
    assert_matches_snapshot(_last(referrer), "clinic_booking_cancelled")


def test_the_notice_of_a_cancelled_session(clinic):
    session, referral = clinic
    services.clinic_booking_make(referral=referral, actor=referral.referrer, session_id=session.pk, slot=0)
    supervisor = factories.advisor(session.partnership.advice_organisation, supervisor=True)

    services.clinic_session_cancel(session=session, actor=supervisor, reason="The surgery is closed for training.")

    assert_matches_snapshot(_last(referral.referrer), "clinic_booking_session_cancelled")
