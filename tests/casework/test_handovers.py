"""A referral handed over to a partner advice service in hjp: it reaches the partner's triage, the partner accepts
and closes it, and the original advisor and the referrer are told and read both on the referral's timeline.
Visibility follows `Referral.objects.visible_to`: the partner sees the referral from the handover on, the
original service keeps it, any other service sees nothing, and consent withdrawal redacts it everywhere."""

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import services
from hjp.core.errors import DomainError
from hjp.notifications.models import Message
from referrals import services as referral_services
from referrals.models import Handover, Referral, ReferralStatus
from tests import factories
from tests.casework.test_queries import TRIAGE_QUERIES
from tests.support.forms import once

pytestmark = pytest.mark.django_db

SHARE = {"share": "on", "share_given_by": "patient", "share_method": "phone"}


def _share(**more):
    return {**SHARE, "share_said_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), **more}


@pytest.fixture
def partner_org(db):
    return factories.AdviceOrganisationFactory(name="Northside Law Centre")


@pytest.fixture
def partner_advisor(partner_org):
    return factories.advisor(partner_org)


@pytest.fixture
def partner_provider(advice_org, partner_org):
    """The partner, in the original service's directory, marked as using hjp."""
    return factories.AdviceProviderFactory(
        advice_organisation=advice_org, name="Northside Law Centre", partner_organisation=partner_org
    )


def _inbox(user) -> list[str]:
    return list(Message.objects.filter(recipient=user).order_by("pk").values_list("subject", flat=True))


def _page(client, user, name, *args):
    client.force_login(user)
    return client.get(reverse(name, args=args))


def test_a_redirect_with_consent_reaches_the_partner_who_accepts_and_closes_and_both_sides_are_told(
    client, advisor_user, referrer_user, referral, partner_advisor, partner_provider, django_capture_on_commit_callbacks
):
    client.force_login(advisor_user)
    response = client.post(
        reverse("casework:redirect", args=[referral.pk]),
        once(_share(provider=partner_provider.pk, note="They take housing possession cases.")),
    )
    assert response.status_code == 302
    handover = Handover.objects.get(referral=referral)
    assert handover.to_organisation == partner_provider.partner_organisation
    assert (handover.consent_given_by, handover.consent_method, handover.made_by) == ("patient", "phone", advisor_user)
    assert referral.onward_referrals.get().handover == handover

    # The partner finds it at the top of its triage, and the referral's page opens for it.
    triage = _page(client, partner_advisor, "casework:triage").content.decode()
    assert "Handed over to you by other advice services" in triage and referral.reference in triage
    assert referral.patient.family_name in triage
    assert _page(client, partner_advisor, "referrals:detail", referral.pk).status_code == 200
    assert "Accept" in _page(client, partner_advisor, "casework:handover", handover.pk).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("casework:handover_accept", args=[handover.pk]), once({"note": "We will call her this week."})
        )
    assert response.status_code == 302
    accepted = f"Referral {referral.reference} accepted by Northside Law Centre"
    assert accepted in _inbox(advisor_user) and accepted in _inbox(referrer_user)

    client.force_login(partner_advisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("casework:handover_close", args=[handover.pk]),
            once({"outcome": "resolved", "note": "Possession claim struck out."}),
        )
    assert response.status_code == 302
    closed = f"Referral {referral.reference} closed by Northside Law Centre"
    assert closed in _inbox(advisor_user) and closed in _inbox(referrer_user)

    # The referrer reads both on the referral's timeline, with the outcome (consent scope 3 given).
    html = _page(client, referrer_user, "referrals:detail", referral.pk).content.decode()
    assert "Accepted by Northside Law Centre" in html and "We will call her this week." in html
    assert "Closed by Northside Law Centre" in html and "Outcome: Helped: problem resolved" in html
    assert "Possession claim struck out." in html
    # The original advisor too, and the referral stays theirs to see.
    html = _page(client, advisor_user, "referrals:detail", referral.pk).content.decode()
    assert "Closed by Northside Law Centre" in html and "Handed over to Northside Law Centre (in hjp)" in html


def test_an_onward_referral_during_a_case_hands_over_and_the_case_goes_on(
    client, advisor_user, case_in_progress, partner_advisor, partner_provider
):
    client.force_login(advisor_user)
    response = client.post(
        reverse("casework:onward_add", args=[case_in_progress.pk]),
        once(_share(provider=partner_provider.pk, note="Immigration advice alongside the benefits work.")),
    )
    assert response.status_code == 302
    handover = case_in_progress.onward_referrals.get().handover
    assert (
        handover.state == Handover.State.SENT
        and handover.to_organisation_id == partner_advisor.memberships.get().organisation_id
    )
    case_page = _page(client, advisor_user, "casework:case", case_in_progress.pk).content.decode()
    assert "Handed over: sent, waiting for the partner" in case_page
    # The partner sees the referral, never the case (its notes, evidence): that stays with the service working it.
    assert _page(client, partner_advisor, "referrals:detail", case_in_progress.referral_id).status_code == 200
    assert _page(client, partner_advisor, "casework:case", case_in_progress.pk).status_code == 404


def test_without_consent_to_share_nothing_is_handed_over(
    client, advisor_user, referral, partner_advisor, partner_provider
):
    client.force_login(advisor_user)
    client.post(
        reverse("casework:redirect", args=[referral.pk]), once({"provider": partner_provider.pk, "note": "Try them."})
    )
    assert not Handover.objects.exists()
    assert _page(client, partner_advisor, "referrals:detail", referral.pk).status_code == 404


def test_consent_to_share_needs_how_and_when(client, advisor_user, referral, partner_provider):
    client.force_login(advisor_user)
    response = client.post(
        reverse("casework:redirect", args=[referral.pk]),
        once({"provider": partner_provider.pk, "note": "x", "share": "on", "share_method": "", "share_said_at": ""}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Say how the patient agreed to share the referral" in html and "Say when the patient agreed" in html
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SUBMITTED


def test_a_provider_closed_to_referrals_cannot_be_chosen(advisor_user, referral, partner_provider):
    partner_provider.capacity = "closed"
    partner_provider.save()
    with pytest.raises(DomainError, match="closed to new referrals"):
        services.referral_redirect(referral=referral, actor=advisor_user, provider=partner_provider, note="x")


def _hand_over(referral, advisor, provider) -> Handover:
    share = services.ShareConsent(given_by="patient", method="phone", said_at=timezone.now())
    return services.referral_redirect(
        referral=referral, actor=advisor, provider=provider, note="x", share=share
    ).handover


def test_only_the_partner_answers_and_only_once(
    advisor_user, referral, partner_advisor, partner_provider, other_advisor
):
    handover = _hand_over(referral, advisor_user, partner_provider)
    for outsider in (advisor_user, other_advisor):  # the service that handed it over answers for no partner in hjp
        with pytest.raises(DomainError):
            referral_services.handover_decide(handover=handover, actor=outsider, accept=True)
    with pytest.raises(DomainError, match="Say why"):
        referral_services.handover_decide(handover=handover, actor=partner_advisor, accept=False)
    referral_services.handover_decide(handover=handover, actor=partner_advisor, accept=False, note="No capacity.")
    with pytest.raises(DomainError, match="declined"):
        referral_services.handover_decide(handover=handover, actor=partner_advisor, accept=True)


def test_a_partner_that_declined_no_longer_sees_the_patient(
    client, advisor_user, referral, partner_advisor, partner_provider
):
    handover = _hand_over(referral, advisor_user, partner_provider)
    assert _page(client, partner_advisor, "referrals:detail", referral.pk).status_code == 200
    referral_services.handover_decide(handover=handover, actor=partner_advisor, accept=False, note="No capacity.")
    assert set(Referral.objects.visible_to(partner_advisor)) == set()
    assert _page(client, partner_advisor, "referrals:detail", referral.pk).status_code == 404
    assert set(Referral.objects.visible_to(advisor_user)) == {referral}  # the service that handed it over keeps it


def test_the_outcome_reaches_the_referrer_only_with_consent_to_report_outcomes(
    client, advisor_user, referrer_user, referral, partner_advisor, partner_provider, django_capture_on_commit_callbacks
):
    referral.consent.outcome_feedback = False
    referral.consent.save()
    handover = _hand_over(referral, advisor_user, partner_provider)
    with django_capture_on_commit_callbacks(execute=True):
        referral_services.handover_decide(handover=handover, actor=partner_advisor, accept=True)
        referral_services.handover_close(handover=handover, actor=partner_advisor, outcome="resolved", note="Won.")
    assert len(_inbox(advisor_user)) == 2
    told = [subject for subject in _inbox(referrer_user) if "Northside" in subject]
    assert told == [f"Referral {referral.reference} accepted by Northside Law Centre"]
    html = _page(client, referrer_user, "referrals:detail", referral.pk).content.decode()
    assert "Closed by Northside Law Centre" in html and "Outcome:" not in html and "Won." not in html


def test_visibility_after_a_handover(
    client, advisor_user, supervisor_user, referral, partner_advisor, partner_provider, other_advisor
):
    _hand_over(referral, advisor_user, partner_provider)
    assert set(Referral.objects.visible_to(partner_advisor)) == {referral}
    assert set(Referral.objects.visible_to(advisor_user)) == {referral}  # the original service keeps it
    assert set(Referral.objects.visible_to(other_advisor)) == set()
    # It is not in the partner's own received referrals: its triage queue, caseload and cases are its own.
    assert set(Referral.objects.received_by(partner_advisor)) == set()
    assert set(Handover.objects.visible_to(other_advisor)) == set()
    assert _page(client, other_advisor, "referrals:detail", referral.pk).status_code == 404


def test_consent_can_be_withdrawn_after_a_redirect_that_handed_the_referral_over(
    client, advisor_user, referrer_user, referral, partner_advisor, partner_provider
):
    """A redirected referral has no work left at its own service, but one handed over is in use at the partner."""
    handover = _hand_over(referral, advisor_user, partner_provider)
    name = referral.patient.family_name
    referral_services.consent_withdraw(referral=Referral.objects.get(pk=referral.pk), actor=referrer_user)
    handover.refresh_from_db()
    assert handover.state == Handover.State.STOPPED
    # The partner no longer sees the patient at all; the service that handed it over sees the handover stopped.
    assert _page(client, partner_advisor, "referrals:detail", referral.pk).status_code == 404
    html = _page(client, advisor_user, "referrals:detail", referral.pk).content.decode()
    assert name not in html and "stopped: consent withdrawn" in html


def test_consent_withdrawn_while_the_handover_is_open_stops_it_everywhere(
    client, advisor_user, referrer_user, case_in_progress, partner_advisor, partner_provider
):
    share = services.ShareConsent(given_by="patient", method="phone", said_at=timezone.now())
    onward = services.onward_referral_make(
        case=case_in_progress, actor=advisor_user, provider=partner_provider, note="Immigration.", share=share
    )
    referral = case_in_progress.referral
    referral_services.handover_decide(handover=onward.handover, actor=partner_advisor, accept=True, note="Seen her.")
    name = referral.patient.family_name
    referral_services.consent_withdraw(referral=referral, actor=referrer_user)
    handover = Handover.objects.get(pk=onward.handover_id)
    assert handover.state == Handover.State.STOPPED and handover.decision_note != "Seen her."
    assert _page(client, partner_advisor, "referrals:detail", referral.pk).status_code == 404
    assert _page(client, partner_advisor, "casework:handover", handover.pk).status_code == 404
    html = _page(client, advisor_user, "referrals:detail", referral.pk).content.decode()
    assert name not in html and "Seen her." not in html and "stopped: consent withdrawn" in html
    with pytest.raises(DomainError, match="withdrawn"):
        referral_services.handover_close(handover=handover, actor=partner_advisor, outcome="resolved")


# What every signed-in page costs (session; the user with its inbox count and devices; memberships), the audit
# entry, and the handover with its referral, patient, consent and organisations in one query.
HANDOVER_PAGE_QUERIES = 5
# tests/core/test_page_budget.py pins the referral page at 9 (referrer) and 10 (advisor); one handed over reads its
# handovers (with the people and organisations they name) in the same query as its other short lists.
REFERRAL_PAGE_WITH_HANDOVERS = {"referrer": 9, "advisor": 10}


@pytest.mark.parametrize("more", [0, 6])
def test_the_pages_take_a_fixed_number_of_queries(
    client, advisor_user, referrer_user, referral, partner_advisor, partner_provider, django_assert_num_queries, more
):
    handover = _hand_over(referral, advisor_user, partner_provider)
    for _ in range(more):  # more referrals handed over, waiting in the partner's triage
        _hand_over(factories.ReferralFactory(partnership=referral.partnership), advisor_user, partner_provider)
    referral_services.handover_decide(handover=handover, actor=partner_advisor, accept=True, note="Seen.")
    client.force_login(partner_advisor)
    with django_assert_num_queries(HANDOVER_PAGE_QUERIES):
        assert client.get(reverse("casework:handover", args=[handover.pk])).status_code == 200
    # TRIAGE_QUERIES less the two its own queue's rows need (their categories, possible duplicates): it has none.
    with django_assert_num_queries(TRIAGE_QUERIES - 2):
        response = client.get(reverse("casework:triage"))
    assert len(response.context["handovers"]) == more
    for name, user in (("referrer", referrer_user), ("advisor", advisor_user)):
        client.force_login(user)
        with django_assert_num_queries(REFERRAL_PAGE_WITH_HANDOVERS[name]):
            assert (
                "Accepted by Northside Law Centre"
                in client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
            )
