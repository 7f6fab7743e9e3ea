"""The advice clinic pages take the same, pinned, number of queries with few sessions and bookings as with many.
Each count includes what every signed-in page costs (the session; the user with its unread count and second
factors; the memberships) and the audit entry."""

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

# Sessions visible to the user, their bookings' slots (a prefetch), the audit entry.
LIST_QUERIES = 6
# The session with its advisor and partnership; its bookings with their patients and whether the user sees each
# referral (one query); the audit entry.
DETAIL_QUERIES = 6
# The referral form: its own five (three before any view; the partnerships, read once for the preselection and the
# choices; the categories), the clinic part's two: the sessions and their bookings' slots, and whether a
# postcode-to-deprivation table is loaded (referrals.deprivation: the form says so where the decile would be typed).
FORM_QUERIES = 8
# The booking with its session, advisor, referral and patient; the sessions of its partnership and their slots;
# the audit entry.
CHANGE_QUERIES = 7


@pytest.fixture
def clinics(partnership, advisor_user, referral):
    """`grow(n)` adds n sessions of the partnership, each with two bookings (one of them the referrer's)."""

    def grow(n):
        for _ in range(n):
            session = factories.ClinicSessionFactory(partnership=partnership, advisor=advisor_user)
            factories.ClinicBookingFactory(session=session, slot=1, interpreter="bsl")
            factories.ClinicBookingFactory(session=session, slot=3)
        return session

    return grow


@pytest.mark.parametrize("sessions", [1, 12])
def test_the_clinics_page(as_user, referrer_user, advisor_user, clinics, django_assert_num_queries, sessions):
    clinics(sessions)
    for user in (referrer_user, advisor_user):
        client = as_user(user)
        with django_assert_num_queries(LIST_QUERIES):
            page = client.get(reverse("referrals:clinic_list")).content.decode()
        assert page.count("4 of 6") == sessions


@pytest.mark.parametrize("bookings", [1, 20])
def test_a_session_page(as_user, referrer_user, advisor_user, partnership, django_assert_num_queries, bookings):
    session = factories.ClinicSessionFactory(partnership=partnership, advisor=advisor_user, slot_count=20)
    for slot in range(bookings):
        factories.ClinicBookingFactory(session=session, slot=slot)
    for user in (referrer_user, advisor_user):
        client = as_user(user)
        with django_assert_num_queries(DETAIL_QUERIES):
            assert client.get(reverse("referrals:clinic_detail", args=[session.pk])).status_code == 200


@pytest.mark.parametrize("sessions", [1, 12])
def test_the_referral_form_with_its_slots(as_user, referrer_user, clinics, django_assert_num_queries, sessions):
    clinics(sessions)
    client = as_user(referrer_user)
    with django_assert_num_queries(FORM_QUERIES):
        page = client.get(reverse("referrals:create")).content.decode()
    assert page.count('<optgroup label="At a GP practice: Riverside Surgery, room 4') == sessions


@pytest.mark.parametrize("sessions", [1, 12])
def test_the_page_that_moves_a_booking(as_user, referral, clinics, django_assert_num_queries, sessions):
    session = clinics(sessions)
    booking = factories.ClinicBookingFactory(session=session, slot=0, referral=referral)
    client = as_user(referral.referrer)
    with django_assert_num_queries(CHANGE_QUERIES):
        assert client.get(reverse("referrals:booking_change", args=[booking.pk])).status_code == 200
