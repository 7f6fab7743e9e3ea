"""Two referrers book the last free slot of a clinic at the same moment, over HTTP against the live server, on
the real PostgreSQL: exactly one booking is made; the other referrer is told, their referral is not sent, and
what they typed is still in their form."""

import pytest
from django.urls import reverse

from referrals.clinics.models import ClinicBooking
from referrals.models import Referral
from tests import factories
from tests.referrals.test_views import referral_post
from tests.support.live import BrowserSession, hidden_inputs, send_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_referrers_booking_the_last_slot_at_once_make_one_booking(
    live_server, referrer_user, health_org, partnership, advisor_user
):
    session = factories.ClinicSessionFactory(partnership=partnership, advisor=advisor_user, slot_count=2)
    factories.ClinicBookingFactory(session=session, slot=0)  # one slot left: slot 1
    colleague = factories.referrer(health_org)
    url = reverse("referrals:create")
    browsers = [BrowserSession(live_server.url, user) for user in (referrer_user, colleague)]
    typed = [
        {"patient-given_name": "Maria", "patient-family_name": "Kowalski", "referral-description": "PIP refused."},
        {
            "patient-given_name": "Tomasz",
            "patient-family_name": "Nowak",
            "patient-nhs_number": "",
            "referral-description": "Rent arrears since May; bailiffs' letter.",
        },
    ]
    data = []
    for browser, answers in zip(browsers, typed, strict=True):
        form = browser.get(url).text
        assert f'value="{session.pk}:1"' in form  # both see the last slot free
        data.append(
            {**referral_post(partnership, **{"booking-slot": f"{session.pk}:1", **answers}), **hidden_inputs(form)}
        )

    responses = send_together(
        lambda: browsers[0].post(url, data[0]),
        lambda: browsers[1].post(url, data[1]),
        hold=partnership.advice_organisation,
    )

    assert sorted(r.status for r in responses) == [302, 400]
    booked = ClinicBooking.objects.active().get(session=session, slot=1)
    winner = responses.index(next(r for r in responses if r.status == 302))
    loser = 1 - winner
    assert booked.referral.patient.family_name == typed[winner]["patient-family_name"]
    assert booked.referral.referrer == [referrer_user, colleague][winner]
    refused = responses[loser].text
    assert "Someone else booked that slot a moment ago" in refused
    assert typed[loser]["patient-family_name"] in refused
    assert typed[loser]["referral-description"].replace("'", "&#x27;") in refused
    assert f'value="{session.pk}:1"' not in refused  # the slots are read again: the taken one is gone
    # The refused referral was not sent (nor kept as a draft): only the winner's and the first booking's exist.
    assert Referral.objects.count() == 2
    assert ClinicBooking.objects.active().count() == 2
