"""Advice clinics: the advice service publishes sessions, a referrer books the patient into a free slot as the
referral is sent, the advisor sees it on their day and on the referral and case, either side moves or cancels
it and the other is told, an interpreter can be asked for, and a withdrawal of consent frees the slot."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from casework import services as casework_services
from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from hjp.notifications.models import Message, MessageKind
from referrals import services
from referrals.clinics import services as clinic_services
from referrals.clinics.models import ClinicBooking, ClinicSession
from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.referrals.test_views import referral_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(partnership, advisor_user):
    return factories.ClinicSessionFactory(partnership=partnership, advisor=advisor_user, slot_count=3)


def clinic_messages(recipient) -> list[Message]:
    return list(Message.objects.filter(recipient=recipient, kind=MessageKind.CLINIC_BOOKING).order_by("pk"))


def book(client, partnership, session, slot=0, **overrides):
    return client.post(
        reverse("referrals:create"),
        referral_post(partnership, **{"booking-slot": f"{session.pk}:{slot}", **overrides}),
    )


# --- booking while referring -------------------------------------------------------------------------------


def test_a_referrer_books_a_slot_when_sending_and_the_advisor_sees_it_on_their_day_and_the_referral(
    as_user, referrer_user, advisor_user, partnership, session, django_capture_on_commit_callbacks
):
    client = as_user(referrer_user)
    form = client.get(reverse("referrals:create")).content.decode()
    assert f'value="{session.pk}:0"' in form and "Riverside Surgery, room 4" in form

    with django_capture_on_commit_callbacks(execute=True):
        response = book(client, partnership, session, slot=1, **{"booking-interpreter": "bsl"})

    referral = Referral.objects.get()
    assert response.status_code == 302 and referral.status == ReferralStatus.SUBMITTED
    booking = ClinicBooking.objects.get()
    assert (booking.referral, booking.session, booking.slot, booking.interpreter) == (referral, session, 1, "bsl")
    assert AuditEvent.objects.filter(object_type="referrals.clinicbooking", action=AuditEvent.Action.CREATE).exists()
    (notice,) = clinic_messages(advisor_user)
    assert notice.subject == f"New advice clinic booking: referral {referral.reference}"
    assert "M.K." in notice.body and "Maria" not in notice.body  # initials only, as every notice

    referrer_page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Advice clinic appointment" in referrer_page and "BSL interpreter" in referrer_page

    advisor = as_user(advisor_user)
    today = advisor.get(reverse("casework:home")).content.decode()
    assert "Your advice clinics, the next seven days" in today
    assert "Maria Kowalski" in today and "BSL interpreter" in today
    assert "BSL interpreter" in advisor.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    case_page = advisor.get(reverse("casework:case", args=[case.pk])).content.decode()
    assert "Advice clinic appointment" in case_page and "BSL interpreter" in case_page


def test_a_language_interpreter_needs_the_language(as_user, referrer_user, partnership, session):
    client = as_user(referrer_user)

    response = book(client, partnership, session, **{"booking-interpreter": "language"})

    assert response.status_code == 400
    assert "Enter the language the interpreter should speak" in response.content.decode()
    assert not Referral.objects.exists()
    response = book(
        client, partnership, session, **{"booking-interpreter": "language", "booking-interpreter_language": "Polish"}
    )
    assert response.status_code == 302
    assert ClinicBooking.objects.get().interpreter_text == "Polish interpreter"


def test_a_draft_holds_no_slot(as_user, referrer_user, partnership, session):
    client = as_user(referrer_user)

    response = book(client, partnership, session, action="draft")

    assert response.status_code == 302 and Referral.objects.get().status == ReferralStatus.DRAFT
    assert not ClinicBooking.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "A draft holds no clinic slot" in page


def test_a_slot_booked_since_the_page_was_loaded_is_refused_and_what_was_typed_is_kept(
    as_user, referrer_user, partnership, session
):
    client = as_user(referrer_user)
    factories.ClinicBookingFactory(session=session, slot=0)

    response = book(client, partnership, session, slot=0, **{"referral-description": "Rent arrears since May."})

    page = response.content.decode()
    assert response.status_code == 400 and "That slot is no longer free" in page
    assert "Rent arrears since May." in page and 'value="Kowalski"' in page
    assert Referral.objects.count() == 1  # only the other patient's


def test_a_slot_taken_while_the_referral_is_sent_refuses_the_whole_send_with_a_message_by_the_slots(
    as_user, referrer_user, partnership, session, monkeypatch
):
    """The form read the slot as free (the other booking committed just after): the service, under the session's
    lock, refuses; nothing of the referral is saved, and the slots are read again without the taken one."""
    factories.ClinicBookingFactory(session=session, slot=2)
    from referrals.clinics import forms as clinic_forms
    from referrals.clinics.selectors import slots_of

    every_slot = lambda s: [slot for slot in slots_of(s, []) if slot.starts_at > timezone.now()]  # noqa: E731
    monkeypatch.setattr(clinic_forms, "free_slots", every_slot)
    client = as_user(referrer_user)

    response = book(client, partnership, session, slot=2, **{"referral-description": "Rent arrears since May."})

    page = response.content.decode()
    assert response.status_code == 400 and "Someone else booked that slot a moment ago" in page
    assert "Rent arrears since May." in page
    assert list(Referral.objects.values_list("status", flat=True)) == [ReferralStatus.SUBMITTED]  # the other one
    assert ClinicBooking.objects.count() == 1


def test_the_database_refuses_a_second_booking_of_a_slot_and_of_a_referral(session):
    booking = factories.ClinicBookingFactory(session=session, slot=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ClinicBookingFactory(session=session, slot=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ClinicBookingFactory(session=session, slot=1, referral=booking.referral)
    booking.cancelled_at = timezone.now()
    booking.save()
    factories.ClinicBookingFactory(session=session, slot=0)  # a cancelled booking frees the slot


def test_a_slot_of_another_partnership_or_in_the_past_is_refused(referrer_user, partnership, health_org):
    elsewhere = factories.ClinicSessionFactory()
    started = factories.ClinicSessionFactory(partnership=partnership, starts_at=timezone.now() - timedelta(minutes=5))
    for session, message in [(elsewhere, "another advice service"), (started, "already started")]:
        with pytest.raises(DomainError, match=message):
            services.referral_save(
                actor=referrer_user,
                patient_data={"given_name": "Ann", "family_name": "Lee"},
                consent_data={
                    "given_by": "patient",
                    "method": "verbal",
                    "given_at": timezone.now(),
                    "share_with_advice_service": True,
                },
                referral_data={"partnership": partnership, "urgency": "routine", "description": "UC"},
                submit=True,
                booking={"session_id": session.pk, "slot": 0},
            )
    assert not Referral.objects.exists()


# --- moving, cancelling, interpreters ------------------------------------------------------------------------


def test_the_referrer_moves_the_booking_and_the_advisor_is_told(
    as_user, referral, advisor_user, session, django_capture_on_commit_callbacks
):
    booking = factories.ClinicBookingFactory(session=session, slot=0, referral=referral)
    client = as_user(referral.referrer)
    url = reverse("referrals:booking_change", args=[booking.pk])
    assert f'value="{session.pk}:0" selected' in client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"slot": f"{session.pk}:2", "interpreter": "language", "interpreter_language": "Arabic"}
        )

    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.slot, booking.interpreter_text) == (2, "Arabic interpreter")
    (notice,) = clinic_messages(advisor_user)
    assert "moved" in notice.subject and "Arabic interpreter" in notice.body
    factories.ClinicBookingFactory(session=session, slot=0)  # the old slot is free


def test_the_advisor_cancels_the_booking_and_the_referrer_is_told(
    as_user, advisor_user, session, django_capture_on_commit_callbacks
):
    booking = factories.ClinicBookingFactory(session=session, slot=1)
    client = as_user(advisor_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("referrals:booking_cancel", args=[booking.pk]), {"reason": "I am on leave."})

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.is_cancelled and booking.cancelled_by == advisor_user
    (notice,) = clinic_messages(booking.referral.referrer)
    assert "cancelled" in notice.subject and "I am on leave." in notice.body
    assert client.get(reverse("referrals:booking_cancel", args=[booking.pk])).status_code == 404  # done once


def test_a_supervisor_cancels_a_session_and_every_referrer_booked_is_told(
    as_user, supervisor_user, session, django_capture_on_commit_callbacks
):
    bookings = [factories.ClinicBookingFactory(session=session, slot=n) for n in (0, 2)]
    client = as_user(supervisor_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("referrals:clinic_cancel", args=[session.pk]), {"reason": "Surgery closed."})

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.is_cancelled and not ClinicBooking.objects.active().exists()
    for booking in bookings:
        (notice,) = clinic_messages(booking.referral.referrer)
        assert "will not take place" in notice.body and "Surgery closed." in notice.body
    assert "Cancelled on" in client.get(reverse("referrals:clinic_detail", args=[session.pk])).content.decode()


def test_who_publishes_and_cancels_sessions(as_user, partnership, advisor_user, supervisor_user, referrer_user):
    other_advisor = factories.advisor(partnership.advice_organisation)
    starts = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT10:00")
    data = {
        "partnership": partnership.pk,
        "mode": "ward",
        "place": "Ward 7, day room",
        "starts_at": starts,
        "slot_minutes": 20,
        "slot_count": 4,
    }
    # An advisor publishes their own sessions, not a colleague's.
    refused = as_user(advisor_user).post(reverse("referrals:clinic_add"), {**data, "advisor": other_advisor.pk})
    assert refused.status_code == 400 and not ClinicSession.objects.exists()
    response = as_user(advisor_user).post(reverse("referrals:clinic_add"), {**data, "advisor": advisor_user.pk})
    assert response.status_code == 302
    # A supervisor publishes for any advisor of the service; in person needs a place.
    client = as_user(supervisor_user)
    no_place = client.post(reverse("referrals:clinic_add"), {**data, "place": "", "advisor": other_advisor.pk})
    assert no_place.status_code == 400 and "Enter the practice, ward or venue" in no_place.content.decode()
    assert client.post(reverse("referrals:clinic_add"), {**data, "advisor": other_advisor.pk}).status_code == 302
    mine, theirs = ClinicSession.objects.order_by("pk")
    assert (mine.advisor, theirs.advisor, theirs.published_by) == (advisor_user, other_advisor, supervisor_user)
    assert mine.ends_at - mine.starts_at == timedelta(minutes=80)
    # The advisor cancels only their own; referrers publish nothing.
    assert as_user(advisor_user).get(reverse("referrals:clinic_cancel", args=[theirs.pk])).status_code == 404
    assert as_user(advisor_user).get(reverse("referrals:clinic_cancel", args=[mine.pk])).status_code == 200
    assert as_user(referrer_user).get(reverse("referrals:clinic_add")).status_code == 404


# --- who sees what ------------------------------------------------------------------------------------------


def test_referrers_see_their_partnerships_sessions_and_only_their_own_patients_in_them(
    as_user, referral, health_org, session
):
    mine = factories.ClinicBookingFactory(session=session, slot=0, referral=referral)
    colleague = factories.referrer(health_org)
    client = as_user(colleague)

    listing = client.get(reverse("referrals:clinic_list")).content.decode()
    assert "Riverside Surgery, room 4" in listing and "2 of 3" in listing
    page = client.get(reverse("referrals:clinic_detail", args=[session.pk])).content.decode()
    assert "Booked" in page and escape(mine.referral.patient.full_name) not in page
    author_page = as_user(mine.referral.referrer).get(reverse("referrals:clinic_detail", args=[session.pk]))
    assert escape(mine.referral.patient.full_name) in author_page.content.decode()
    outsider = as_user(factories.referrer(factories.OrganisationFactory()))
    assert outsider.get(reverse("referrals:clinic_detail", args=[session.pk])).status_code == 404
    assert "No sessions" in outsider.get(reverse("referrals:clinic_list")).content.decode()
    assert outsider.get(reverse("referrals:booking_change", args=[mine.pk])).status_code == 404
    assert AuditEvent.objects.filter(
        object_type="referrals.clinicsession", object_id=str(session.pk), action=AuditEvent.Action.VIEW
    ).exists()


def test_the_session_page_is_in_who_has_looked_at_each_patient_it_names_and_no_other(
    as_user, referral, health_org, advice_org, session
):
    mine = factories.ClinicBookingFactory(session=session, slot=0, referral=referral)
    other = factories.ClinicBookingFactory(session=session, slot=1)
    colleague = factories.referrer(health_org)  # sees the slot booked, not whose it is
    assert as_user(colleague).get(reverse("referrals:clinic_detail", args=[session.pk])).status_code == 200
    as_user(referral.referrer).get(reverse("referrals:clinic_detail", args=[session.pk]))

    dpo = factories.UserFactory()
    dpo.user_permissions.add(Permission.objects.get(content_type__app_label="referrals", codename="subject_access"))
    client = as_user(dpo)
    session_url = reverse("referrals:clinic_detail", args=[session.pk])
    looked = client.get(reverse("outcomes:who_looked", args=[mine.referral.patient.pk])).content.decode()
    assert session_url in looked and escape(referral.referrer.full_name) in looked
    assert escape(colleague.full_name) not in looked
    assert (
        session_url not in client.get(reverse("outcomes:who_looked", args=[other.referral.patient.pk])).content.decode()
    )


def test_the_referrer_home_links_to_the_clinics(as_user, referrer_user):
    assert reverse("referrals:clinic_list") in as_user(referrer_user).get(reverse("referrals:home")).content.decode()


# --- consent withdrawal and retention ------------------------------------------------------------------------


def test_a_withdrawal_of_consent_cancels_the_booking_frees_the_slot_and_erases_the_interpreter(session):
    booking = factories.ClinicBookingFactory(
        session=session, slot=0, interpreter="language", interpreter_language="Tigrinya"
    )

    services.consent_withdraw(referral=booking.referral, actor=booking.referral.referrer)

    booking.refresh_from_db()
    assert booking.is_cancelled and (booking.interpreter, booking.interpreter_language) == ("", "")
    factories.ClinicBookingFactory(session=session, slot=0)


def test_after_a_cancellation_either_side_books_another_slot_from_the_referral_page(
    as_user, referral, advisor_user, session, django_capture_on_commit_callbacks
):
    booking = factories.ClinicBookingFactory(session=session, slot=0, referral=referral)
    booking.cancelled_at, booking.cancelled_by = timezone.now(), advisor_user
    booking.save()
    client = as_user(referral.referrer)
    page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    url = reverse("referrals:booking_add", args=[referral.pk])
    assert url in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"slot": f"{session.pk}:2", "interpreter": ""})

    assert response.status_code == 302
    assert ClinicBooking.objects.active().get(referral=referral).slot == 2
    (notice,) = clinic_messages(advisor_user)
    assert "into your advice clinic" in notice.body
    # Booked now: the page offers to move it, not to book another.
    assert client.get(url).status_code == 302
    assert url not in client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()


def test_the_advice_side_books_for_a_referral_and_the_referrer_is_told(
    as_user, referral, supervisor_user, session, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(supervisor_user).post(
            reverse("referrals:booking_add", args=[referral.pk]), {"slot": f"{session.pk}:1", "interpreter": "bsl"}
        )

    assert response.status_code == 302
    (notice,) = clinic_messages(referral.referrer)
    assert "into the advice clinic" in notice.body and "BSL interpreter" in notice.body


def test_no_slot_is_booked_once_consent_is_withdrawn(as_user, referral, session):
    services.consent_withdraw(referral=referral, actor=referral.referrer)
    client = as_user(referral.referrer)
    assert client.get(reverse("referrals:booking_add", args=[referral.pk])).status_code == 404
    with pytest.raises(DomainError, match="consent stands"):
        clinic_services.clinic_booking_add(referral=referral, actor=referral.referrer, session_id=session.pk, slot=0)
