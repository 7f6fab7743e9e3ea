"""The in-app inbox: which patient each message is about, only where the reader may still see the referral."""

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from hjp.audit.models import AuditEvent
from hjp.notifications import services
from hjp.notifications.models import MessageKind
from referrals import services as referral_services
from tests import factories


def deliver(user, referral, key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.message_queue(
            recipient=user,
            kind=MessageKind.OUTCOME_REPORT,
            key=key,
            subject=f"Outcome of referral {referral.reference}",
            body="The case has closed.",
            url=reverse("referrals:detail", args=[referral.pk]),
            referral_id=referral.pk,
        )


def referral_of(referrer, **patient):
    return factories.ReferralFactory(
        referrer=referrer,
        referring_organisation=referrer.memberships.get().organisation,
        patient=factories.PatientFactory(**patient),
    )


@pytest.mark.django_db
def test_the_inbox_names_the_patient_by_initials_and_date_of_birth(client, django_capture_on_commit_callbacks):
    gp = factories.referrer()
    referral = referral_of(gp, given_name="Barbara", family_name="Kowalski", date_of_birth=date(1958, 3, 14))
    message = deliver(gp, referral, "m1", django_capture_on_commit_callbacks)
    client.force_login(gp)

    html = client.get(reverse("notifications:inbox")).content.decode()

    assert f"Outcome of referral {referral.reference}" in html and "Patient: B.K., born 14 Mar 1958" in html
    assert "Kowalski" not in html
    detail = client.get(reverse("notifications:detail", args=[message.pk])).content.decode()
    assert "Patient: B.K., born 14 Mar 1958" in detail
    # The email still names nobody.
    assert "B.K." not in mail.outbox[0].body and "1958" not in mail.outbox[0].body
    assert AuditEvent.objects.filter(
        actor=gp, action=AuditEvent.Action.LIST, object_type="notifications.message"
    ).exists()


@pytest.mark.django_db
def test_the_inbox_names_no_one_the_reader_may_no_longer_see(client, django_capture_on_commit_callbacks):
    gp = factories.referrer()
    referral = referral_of(gp, given_name="Barbara", family_name="Kowalski")
    deliver(gp, referral, "m1", django_capture_on_commit_callbacks)
    # The referral is the colleague's now the GP has moved on: the message stays, the patient is not named.
    referral.referrer = factories.referrer(referral.referring_organisation)
    referral.save()
    client.force_login(gp)

    html = client.get(reverse("notifications:inbox")).content.decode()

    assert f"Outcome of referral {referral.reference}" in html and "B.K." not in html and "Patient:" not in html


@pytest.mark.django_db
def test_after_consent_withdrawal_the_inbox_shows_nothing_identifying(client, django_capture_on_commit_callbacks):
    gp = factories.referrer()
    referral = referral_of(gp, given_name="Barbara", family_name="Kowalski", date_of_birth=date(1958, 3, 14))
    deliver(gp, referral, "m1", django_capture_on_commit_callbacks)
    referral_services.consent_withdraw(referral=referral, actor=gp)
    client.force_login(gp)

    html = client.get(reverse("notifications:inbox")).content.decode()

    assert "B.K." not in html and "1958" not in html
    assert "Patient: Details removed (consent withdrawn on" in html


@pytest.mark.django_db
def test_the_inbox_query_count_is_the_same_for_few_and_many_messages(
    client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    gp = factories.referrer()
    client.force_login(gp)
    for n in range(2):
        deliver(gp, referral_of(gp), f"few{n}", django_capture_on_commit_callbacks)
    with django_assert_num_queries(6) as few:  # the page of messages, no count of them all
        response = client.get(reverse("notifications:inbox"))
    assert response.content.decode().count("Patient: ") == 2
    for n in range(30):
        deliver(gp, referral_of(gp), f"many{n}", django_capture_on_commit_callbacks)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(reverse("notifications:inbox"))
    assert response.content.decode().count("Patient: ") == 25
