"""The referral pages and the referrer's home as people read them: greeting, consent, the state's reason,
the NHS number, and when a withdrawal of consent is offered."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from casework import services as casework_services
from referrals import services
from referrals.models import ReferralStatus
from tests import factories

S = ReferralStatus


@pytest.mark.django_db
def test_the_home_page_greets_a_doctor_by_name_not_by_title(as_user, health_org):
    gp = factories.referrer(health_org, user__full_name="Dr Asha Patel")
    html = as_user(gp).get(reverse("referrals:home")).content.decode()
    assert "Welcome, Asha</h1>" in html
    assert "Welcome, Dr<" not in html


def _withdrawn(referral, actor):
    services.consent_withdraw(referral=referral, actor=actor)
    referral.refresh_from_db()
    return referral


@pytest.mark.django_db
def test_after_withdrawal_the_referral_page_shows_who_withdrew_consent_and_no_scope_in_force(as_user, referral):
    ticks = as_user(referral.referrer).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert ticks.count("✔ Yes") == 3  # all three scopes given, before

    _withdrawn(referral, referral.referrer)
    html = as_user(referral.referrer).get(reverse("referrals:detail", args=[referral.pk])).content.decode()

    assert "✔ Yes" not in html
    assert "Consent withdrawn</strong> on" in html and f"recorded by {escape(referral.referrer.full_name)}" in html
    assert "No consent is in force" in html


@pytest.mark.django_db
def test_after_withdrawal_the_case_page_shows_the_same_consent_summary(client, referral, advisor_user):
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    _withdrawn(referral, advisor_user)
    client.force_login(advisor_user)
    html = client.get(reverse("casework:case", args=[case.pk])).content.decode()
    assert "✔ Yes" not in html
    assert f"recorded by {escape(advisor_user.full_name)}" in html and "No consent is in force" in html


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.DECLINED, S.REDIRECTED, S.CANCELLED, S.ENTERED_IN_ERROR])
def test_consent_withdrawal_is_neither_offered_nor_accepted_where_nothing_is_left_to_stop(as_user, status):
    referral = factories.ReferralFactory(status=status, patient__family_name="Kowalski")
    client = as_user(referral.referrer)
    url = reverse("referrals:withdraw_consent", args=[referral.pk])

    page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Record consent withdrawal" not in page and url not in page

    refused = client.post(url, {"note": "Patient rang", "confirm": "on"}, follow=True)
    assert f"Consent cannot be withdrawn from a referral that is {referral.get_status_display().lower()}" in (
        refused.content.decode()
    )
    referral.refresh_from_db()
    assert referral.status == status and not referral.consent.is_withdrawn
    assert referral.patient.family_name == "Kowalski"


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.CLOSED])
def test_consent_withdrawal_is_offered_while_the_referral_is_worked_and_after_it_closed(as_user, status):
    referral = factories.ReferralFactory(status=status)
    html = as_user(referral.referrer).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert reverse("referrals:withdraw_consent", args=[referral.pk]) in html


@pytest.mark.django_db
def test_the_nhs_number_reads_in_groups_of_three_three_and_four(as_user, referral, advisor_user):
    referral.patient.nhs_number = "4198145903"
    referral.patient.save()
    html = as_user(referral.referrer).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "419 814 5903" in html and "4198145903" not in html

    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    html = as_user(advisor_user).get(reverse("casework:case", args=[case.pk])).content.decode()
    assert "419 814 5903" in html and "4198145903" not in html


@pytest.mark.django_db
def test_a_declined_referral_gives_its_reason_before_the_patient_details(as_user, referral, advisor_user):
    services.referral_transition(
        referral=referral,
        to_status=S.DECLINED,
        actor=advisor_user,
        reason="Outside our area: try Leeds Welfare Rights.",
    )
    html = as_user(referral.referrer).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    reason = html.index("Outside our area: try Leeds Welfare Rights.")
    assert "Why the advice service declined it" in html[:reason]
    assert reason < html.index('id="patient-h"')


@pytest.mark.django_db
def test_the_reason_box_gives_the_coded_reason_of_a_decline(as_user, referral, advisor_user):
    casework_services.referral_decline(
        referral=referral, actor=advisor_user, reason="out_of_area", explanation="Try Leeds Welfare Rights."
    )
    html = as_user(referral.referrer).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    box = html.split('id="state-reason-h"')[1].split("</section>")[0]
    assert "Patient lives outside our area. Try Leeds Welfare Rights." in box


@pytest.mark.django_db
def test_the_home_page_counts_each_state_up_to_a_cap_and_links_to_the_lists(as_user, health_org, monkeypatch):
    from referrals import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    gp = factories.referrer(health_org)
    colleague = factories.referrer(health_org)
    for status in (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.CLOSED, S.CLOSED, S.CLOSED, S.DRAFT):
        factories.ReferralFactory(referring_organisation=health_org, referrer=gp, status=status)
    factories.ReferralFactory(referring_organisation=health_org, referrer=colleague, status=S.DRAFT)

    counts = selectors.referral_status_counts(user=gp)
    html = as_user(gp).get(reverse("referrals:home")).content.decode()

    # Waiting 1, being worked 2 (accepted and in progress), closed 3 shown as "2+", drafts 1 (not the colleague's).
    assert counts == {"submitted": 1, "being_worked": 2, "closed": counts["closed"], "draft": 1}
    assert str(counts["closed"]) == "2+" and '<p class="h3 m-0">2+</p>' in html
    assert f"{reverse('referrals:list')}?status=closed" in html
