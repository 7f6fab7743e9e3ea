"""Two requests at the same moment, over HTTP against the live server, on the real PostgreSQL: the referral
form sent twice (a double click), two tabs sending the same patient, and a draft saved from two windows."""

import pytest
from django.urls import reverse

from referrals import services
from referrals.models import Referral, ReferralStatus
from tests.referrals.test_views import referral_post
from tests.support.live import BrowserSession, hidden_inputs, send_together

pytestmark = pytest.mark.django_db(transaction=True)


def _filled_in(browser, path, partnership, **overrides) -> dict:
    """The form at `path` as the browser got it (its hidden CSRF token, one-time token and version), filled in."""
    return {**referral_post(partnership, **overrides), **hidden_inputs(browser.get(path).text)}


def test_the_referral_form_sent_twice_at_the_same_moment_makes_one_referral(live_server, referrer_user, partnership):
    browser = BrowserSession(live_server.url, referrer_user)
    url = reverse("referrals:create")
    data = _filled_in(browser, url, partnership)

    first, second = send_together(lambda: browser.post(url, data), lambda: browser.post(url, data), hold=referrer_user)

    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.SUBMITTED
    detail = reverse("referrals:detail", args=[referral.pk])
    assert [(r.status, r.location) for r in (first, second)] == [(302, detail), (302, detail)]


def test_the_same_patient_sent_from_two_tabs_at_once_is_one_referral_and_a_duplicate_warning(
    live_server, referrer_user, partnership
):
    tab_1, tab_2 = BrowserSession(live_server.url, referrer_user), BrowserSession(live_server.url, referrer_user)
    url = reverse("referrals:create")
    data_1, data_2 = _filled_in(tab_1, url, partnership), _filled_in(tab_2, url, partnership)

    responses = send_together(lambda: tab_1.post(url, data_1), lambda: tab_2.post(url, data_2), hold=referrer_user)

    referral = Referral.objects.get()
    sent = next(r for r in responses if r.status == 302)
    warned = next(r for r in responses if r.status != 302)
    assert sent.location == reverse("referrals:detail", args=[referral.pk])
    assert warned.status == 400 and "already has an open referral" in warned.text
    assert referral.reference in warned.text


def test_a_draft_saved_from_two_windows_at_once_keeps_the_first_and_tells_the_second(
    live_server, referrer_user, partnership
):
    draft = services.referral_save(
        actor=referrer_user,
        patient_data={"given_name": "Maria", "family_name": "Kowalski"},
        consent_data={"given_by": "patient"},
        referral_data={"partnership": partnership, "urgency": "routine"},
    )
    url = reverse("referrals:edit", args=[draft.pk])
    window_1, window_2 = BrowserSession(live_server.url, referrer_user), BrowserSession(live_server.url, referrer_user)
    typed = {window_1: "Rent arrears after UC sanction.", window_2: "PIP refused; wants to appeal."}
    data = {
        w: _filled_in(w, url, partnership, action="draft", **{"referral-description": typed[w]})
        for w in (window_1, window_2)
    }

    responses = dict(
        zip(
            (window_1, window_2),
            send_together(
                lambda: window_1.post(url, data[window_1]),
                lambda: window_2.post(url, data[window_2]),
                hold=referrer_user,
            ),
            strict=True,
        )
    )

    assert sorted(r.status for r in responses.values()) == [302, 400]
    saved_by = next(w for w, r in responses.items() if r.status == 302)
    stale = next(r for r in responses.values() if r.status == 400)
    draft.refresh_from_db()
    assert draft.description == typed[saved_by] and draft.version == 2
    assert "saved from another window or by someone else" in stale.text
    other = window_2 if saved_by is window_1 else window_1
    assert typed[other] in stale.text  # what the second one typed is still in their form
    assert hidden_inputs(stale.text)["referral-version"] == "2"  # saving again is a deliberate choice
