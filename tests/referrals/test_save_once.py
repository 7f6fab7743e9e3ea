"""referral_save, one request at a time: a form sent twice saves once, a stale draft is refused, and the
duplicate-referral rule lives in the service."""

import uuid

import pytest
from django.urls import reverse

from hjp.core.submissions import AlreadySubmitted
from referrals import services
from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.referrals.test_views import referral_post
from tests.support.live import hidden_inputs

pytestmark = pytest.mark.django_db


def _draft(actor, partnership, **referral_data):
    return services.referral_save(
        actor=actor,
        patient_data={"given_name": "Maria", "family_name": "Kowalski"},
        consent_data={"given_by": "patient"},
        referral_data={"partnership": partnership, "urgency": "routine", **referral_data},
    )


def test_a_second_save_with_the_same_token_saves_nothing_and_names_the_first(referrer_user, partnership):
    token = uuid.uuid4()
    kwargs = dict(
        actor=referrer_user,
        patient_data={"given_name": "Maria", "family_name": "Kowalski"},
        consent_data={"given_by": "patient"},
        referral_data={"partnership": partnership, "urgency": "routine"},
        submission_token=token,
    )
    first = services.referral_save(**kwargs)
    with pytest.raises(AlreadySubmitted) as raised:
        services.referral_save(**kwargs)
    assert raised.value.created == first
    assert Referral.objects.count() == 1


def test_editing_a_draft_at_a_stale_version_is_refused_and_changes_nothing(referrer_user, partnership):
    draft = _draft(referrer_user, partnership, description="First words")
    loaded = draft.version
    services.referral_save(
        actor=referrer_user,
        patient_data={},
        consent_data={},
        referral=draft,
        version=loaded,
        referral_data={"partnership": partnership, "description": "Saved in window 1"},
    )
    with pytest.raises(services.StaleReferralError) as raised:
        services.referral_save(
            actor=referrer_user,
            patient_data={},
            consent_data={},
            referral=draft,
            version=loaded,
            referral_data={"partnership": partnership, "description": "Typed in window 2"},
        )
    draft.refresh_from_db()
    assert draft.description == "Saved in window 1" and draft.version == loaded + 1
    assert raised.value.current.version == loaded + 1


def test_submitting_a_second_open_referral_of_a_patient_needs_a_reason(referrer_user, partnership, health_org):
    existing = factories.ReferralFactory(
        partnership=partnership,
        referring_organisation=health_org,
        referrer=referrer_user,
        patient__nhs_number="9434765919",
    )
    kwargs = dict(
        actor=referrer_user,
        submit=True,
        patient_data={
            "given_name": "Maria",
            "family_name": "Kowalski",
            "nhs_number": "9434765919",
            "preferred_contact_method": "phone",
            "phone": "07700 900123",
        },
        consent_data={
            "given_by": "patient",
            "method": "verbal",
            "share_with_advice_service": True,
            "given_at": existing.consent.given_at,
        },
    )
    with pytest.raises(services.DuplicateReferralError) as raised:
        services.referral_save(referral_data={"partnership": partnership, "description": "Debt"}, **kwargs)
    assert raised.value.duplicates == [existing]
    assert Referral.objects.count() == 1
    again = services.referral_save(
        referral_data={"partnership": partnership, "description": "Debt", "duplicate_reason": "A new problem"}, **kwargs
    )
    assert again.status == ReferralStatus.SUBMITTED


def test_the_form_sent_again_after_it_saved_leads_to_what_it_saved(as_user, referrer_user, partnership):
    client = as_user(referrer_user)
    data = referral_post(partnership, action="draft")
    first = client.post(reverse("referrals:create"), data)
    second = client.post(reverse("referrals:create"), data, follow=True)

    draft = Referral.objects.get()
    assert first["Location"] == reverse("referrals:detail", args=[draft.pk])
    assert second.redirect_chain == [(reverse("referrals:detail", args=[draft.pk]), 302)]
    assert "This form was already saved as draft" in second.content.decode()


def test_save_as_draft_then_submit_on_the_same_page_says_plainly_it_was_not_sent(as_user, referrer_user, partnership):
    client = as_user(referrer_user)
    data = referral_post(partnership, action="draft")
    client.post(reverse("referrals:create"), data)
    page = client.post(reverse("referrals:create"), {**data, "action": "submit"}, follow=True).content.decode()
    draft = Referral.objects.get()
    assert draft.status == ReferralStatus.DRAFT
    assert f"already saved as draft {draft.reference}: it has not been sent" in page


def test_a_stale_draft_form_keeps_what_was_typed_and_says_why(client, referrer_user, partnership):
    draft = _draft(referrer_user, partnership)
    url = reverse("referrals:edit", args=[draft.pk])
    client.force_login(referrer_user)
    window_1 = referral_post(
        partnership, action="draft", **{"referral-version": draft.version, "referral-description": "From window 1"}
    )
    window_2 = referral_post(
        partnership, action="draft", **{"referral-version": draft.version, "referral-description": "From window 2"}
    )
    assert client.post(url, window_1).status_code == 302
    stale = client.post(url, window_2)

    html = stale.content.decode()
    assert stale.status_code == 400 and "saved from another window or by someone else" in html
    assert "From window 2" in html
    draft.refresh_from_db()
    assert draft.description == "From window 1"
    # Saving again from the refreshed form is a deliberate choice, and goes through.
    again = referral_post(
        partnership, action="draft", **{"referral-version": draft.version, "referral-description": "From window 2"}
    )
    assert client.post(url, again).status_code == 302
    draft.refresh_from_db()
    assert draft.description == "From window 2"


def test_a_form_without_its_one_time_token_keeps_the_input_and_asks_to_send_again(as_user, referrer_user, partnership):
    data = referral_post(partnership)
    del data["referral-submission_token"]
    response = as_user(referrer_user).post(reverse("referrals:create"), data)

    html = response.content.decode()
    assert response.status_code == 400 and "This page was out of date" in html
    assert "PIP refused after assessment." in html
    assert response.context["referral_form"].data["referral-submission_token"]  # a fresh one, to send again
    assert not Referral.objects.exists()


def test_each_rendering_of_the_referral_form_carries_its_own_one_time_token(as_user, referrer_user, partnership):
    client = as_user(referrer_user)
    tokens = {
        hidden_inputs(client.get(reverse("referrals:create")).content.decode())["referral-submission_token"]
        for _ in range(2)
    }
    assert len(tokens) == 2 and all(uuid.UUID(token) for token in tokens)
    draft = _draft(referrer_user, partnership)
    edit_page = hidden_inputs(client.get(reverse("referrals:edit", args=[draft.pk])).content.decode())
    assert edit_page["referral-version"] == str(draft.version) and edit_page["referral-submission_token"]
