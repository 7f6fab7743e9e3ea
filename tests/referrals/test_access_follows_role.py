"""Access follows the user's current role: a referrer who moved to another role or organisation, or whose
membership ended, no longer opens the referrals (and their evidence) that they made while they were a referrer
there. Authorship stays on the record; it gives no access on its own."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from casework import services as casework_services
from casework.models import EvidenceRequest
from hjp.accounts.models import Membership, Role, User
from hjp.notifications.models import Message
from outcomes import services as outcomes_services
from referrals import permissions
from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.support.documents import pdf_bytes
from tests.support.forms import once

PDF = pdf_bytes()  # a real PDF: the evidence gate parses it


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private_media"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def answered_evidence(referral, referrer_user, advisor_user):
    """An accepted referral whose referrer answered an evidence request with a document."""
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    evidence = casework_services.evidence_request_create(
        case=case, actor=advisor_user, what_is_needed="A letter", due_date=timezone.localdate() + timedelta(days=7)
    )
    casework_services.evidence_request_answer(
        evidence=evidence,
        actor=referrer_user,
        text="Attached.",
        upload=SimpleUploadedFile("letter.pdf", PDF, content_type="application/pdf"),
    )
    evidence.refresh_from_db()
    return evidence


def _moved_to_manager(user, partnership):
    membership = Membership.objects.get(user=user, role=Role.REFERRER)
    membership.role, membership.organisation, membership.profession = Role.MANAGER, None, ""
    membership.partnership = partnership
    membership.save()


def _left(user):
    Membership.objects.filter(user=user).delete()


def _urls(referral, evidence):
    return [
        reverse("referrals:detail", args=[referral.pk]),
        reverse("referrals:withdraw_consent", args=[referral.pk]),
        reverse("casework:evidence_detail", args=[evidence.pk]),
        reverse("casework:evidence_file", args=[evidence.pk]),
    ]


def test_the_referrer_opens_their_referral_and_evidence_while_they_are_its_referrer(
    as_user, referrer_user, referral, answered_evidence
):
    client = as_user(referrer_user)
    for url in _urls(referral, answered_evidence):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("change", ["moved_to_manager", "left"])
def test_a_referrer_whose_membership_changed_gets_404_on_their_old_referral_and_its_evidence(
    as_user, referrer_user, referral, partnership, answered_evidence, change
):
    if change == "moved_to_manager":
        _moved_to_manager(referrer_user, partnership)
    else:
        _left(referrer_user)
    client = as_user(referrer_user)
    for url in _urls(referral, answered_evidence):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("referrals:withdraw_consent", args=[referral.pk]), {"note": "x"}).status_code == 404
    referral.consent.refresh_from_db()
    assert not referral.consent.is_withdrawn
    moved = User.objects.get(pk=referrer_user.pk)  # roles are read afresh, as on each request
    assert not Referral.objects.visible_to(moved).exists()
    assert not EvidenceRequest.objects.visible_to(moved).exists()


def test_their_old_referrals_leave_the_referrers_lists_when_they_leave(
    as_user, referrer_user, referral, health_org, answered_evidence
):
    # Still a referrer of another practice, so the referrer's pages stay open to them.
    factories.MembershipFactory(user=referrer_user, role=Role.REFERRER, organisation=factories.OrganisationFactory())
    Membership.objects.filter(user=referrer_user, organisation=health_org).delete()
    client = as_user(referrer_user)
    for url in (reverse("referrals:list"), reverse("referrals:home"), reverse("casework:evidence_list")):
        page = client.get(url)
        assert page.status_code == 200, url
        assert referral.reference not in page.text and referral.patient.family_name not in page.text, url
    assert page.context["page"].object_list == [] and not page.context["page"].next_href


def test_a_referrer_who_moved_practice_sees_only_the_new_practices_referrals(as_user, referrer_user, health_org):
    old = factories.ReferralFactory(referrer=referrer_user, referring_organisation=health_org)
    new_practice = factories.OrganisationFactory(name="Hillview Medical Centre", shares_referrals_internally=True)
    Membership.objects.filter(user=referrer_user, organisation=health_org).delete()
    factories.MembershipFactory(user=referrer_user, role=Role.REFERRER, organisation=new_practice)
    made_there = factories.ReferralFactory(referrer=referrer_user, referring_organisation=new_practice)
    colleagues = factories.ReferralFactory(referring_organisation=new_practice)
    client = as_user(referrer_user)
    listed = {r.pk for r in client.get(reverse("referrals:list")).context["page"].object_list}
    assert listed == {made_there.pk, colleagues.pk}
    assert client.get(reverse("referrals:detail", args=[old.pk])).status_code == 404
    assert client.get(reverse("referrals:detail", args=[made_there.pk])).status_code == 200


def test_a_referrer_no_longer_edits_or_sends_a_draft_they_left_behind(as_user, referrer_user, health_org, partnership):
    draft = factories.ReferralFactory(
        referrer=referrer_user,
        referring_organisation=health_org,
        partnership=partnership,
        status=ReferralStatus.DRAFT,
        submitted_at=None,
    )
    assert permissions.can_edit_draft(referrer_user, draft)
    factories.MembershipFactory(user=referrer_user, role=Role.REFERRER, organisation=factories.OrganisationFactory())
    Membership.objects.filter(user=referrer_user, organisation=health_org).delete()
    moved = User.objects.get(pk=referrer_user.pk)  # a new request: roles are read afresh
    assert not permissions.can_edit_draft(moved, draft)
    assert not permissions.is_referrer_side(moved, draft)
    client = as_user(referrer_user)
    assert client.get(reverse("referrals:edit", args=[draft.pk])).status_code == 404


def test_inbox_notices_about_a_referral_they_can_no_longer_see_keep_their_subject_but_not_their_content(
    as_user, referrer_user, referral, partnership, advisor_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        casework_services.referral_accept(referral=referral, actor=advisor_user)
    message = Message.objects.get(recipient=referrer_user, referral_id=referral.pk)
    client = as_user(referrer_user)
    shown = client.get(reverse("notifications:detail", args=[message.pk]))
    assert referral.patient.initials in shown.text
    assert reverse("referrals:detail", args=[referral.pk]) in shown.text
    _moved_to_manager(referrer_user, partnership)
    client = as_user(referrer_user)
    inbox = client.get(reverse("notifications:inbox"))
    assert message.subject in inbox.text and "Patient:" not in inbox.text
    withheld = client.get(reverse("notifications:detail", args=[message.pk]))
    assert withheld.status_code == 200
    assert "You can no longer see this referral" in withheld.text
    assert referral.patient.initials not in withheld.text
    assert reverse("referrals:detail", args=[referral.pk]) not in withheld.text


def test_evidence_reminders_do_not_go_to_a_referrer_who_left(referral, referrer_user, advisor_user, partnership):
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    casework_services.evidence_request_create(
        case=case, actor=advisor_user, what_is_needed="A letter", due_date=timezone.localdate()
    )
    reminders = Message.objects.filter(recipient=referrer_user, kind="evidence_reminder")
    outcomes_services.send_daily_reminders(today=timezone.localdate())
    assert reminders.count() == 1
    _moved_to_manager(referrer_user, partnership)
    outcomes_services.send_daily_reminders(today=timezone.localdate() + timedelta(days=1))
    assert reminders.count() == 1


def test_no_notice_or_outcome_report_goes_to_a_referrer_who_left(referral, referrer_user, advisor_user, partnership):
    _moved_to_manager(referrer_user, partnership)
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    case.closed_at = timezone.now()
    outcomes_services.queue_outcome_report(case=case)
    assert not Message.objects.filter(recipient=referrer_user).exists()


def test_an_advisor_cannot_ask_evidence_of_a_referrer_who_left(as_user, referral, referrer_user, advisor_user):
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    _left(referrer_user)
    response = as_user(advisor_user).post(
        reverse("casework:evidence_add", args=[case.pk]),
        once({"what_is_needed": "A letter", "due_date": (timezone.localdate() + timedelta(days=7)).isoformat()}),
    )
    assert response.status_code == 400
    assert "is no longer a referrer at" in response.content.decode()
    assert not EvidenceRequest.objects.exists()
