"""Every casework form that creates something, sent twice (a double click, a resent page): the second POST
saves nothing more and leads where the first one did."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import services
from casework.models import (
    AdviceProvider,
    Appointment,
    Case,
    CaseIssue,
    CaseNote,
    Deadline,
    EvidenceRequest,
    OnwardReferral,
)
from hjp.audit.models import AuditEvent
from hjp.core.submissions import AlreadySubmitted
from referrals.models import ProblemCategory, ReferralStatusChange
from tests import factories
from tests.support.forms import once

pytestmark = pytest.mark.django_db


def _soon(days=2):
    return (timezone.localtime() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


# form: (url name, whose form (the advisor's or the referrer's), URL arguments, data, prefix, what it creates)
FORMS = {
    "note": (
        "casework:note_add",
        "advisor",
        lambda w: [w.case.pk],
        lambda w: {
            "kind": "call",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "text": "Rang about the letter.",
        },
        "",
        lambda w: CaseNote.objects,
    ),
    "issue": (
        "casework:issue_add",
        "advisor",
        lambda w: [w.case.pk],
        lambda w: {
            "category": ProblemCategory.objects.get(code="housing").pk,
            "sub_category": "disrepair",
            "description": "Damp",
        },
        "",
        lambda w: CaseIssue.objects,
    ),
    "appointment": (
        "casework:appointment_add",
        "advisor",
        lambda w: [w.case.pk],
        lambda w: {"kind": "phone", "starts_at": _soon(), "duration_minutes": 30, "place": "", "note": ""},
        "",
        lambda w: Appointment.objects,
    ),
    "deadline": (
        "casework:deadline_add",
        "advisor",
        lambda w: [w.case.pk],
        lambda w: {"kind": "reconsideration", "basis_date": timezone.localdate().isoformat(), "title": ""},
        "",
        lambda w: Deadline.objects,
    ),
    "evidence request": (
        "casework:evidence_add",
        "advisor",
        lambda w: [w.case.pk],
        lambda w: {
            "what_is_needed": "Mobility letter",
            "due_date": (timezone.localdate() + timedelta(days=10)).isoformat(),
        },
        "",
        lambda w: EvidenceRequest.objects,
    ),
    "onward referral": (
        "casework:onward_add",
        "advisor",
        lambda w: [w.case.pk],
        lambda w: {"provider": w.provider.pk, "issue": "", "note": "Tribunal representation"},
        "",
        lambda w: OnwardReferral.objects,
    ),
    "provider": (
        "casework:provider_add",
        "supervisor",
        lambda w: [],
        lambda w: {"name": "Shelter", "is_active": "on", "capacity": "open"},
        "",
        lambda w: AdviceProvider.objects,
    ),
    "accept at triage": (
        "casework:accept",
        "advisor",
        lambda w: [w.submitted.pk],
        lambda w: {},
        "",
        lambda w: Case.objects,
    ),
    "decline at triage": (
        "casework:decline",
        "advisor",
        lambda w: [w.submitted.pk],
        lambda w: {"reason": "out_of_area", "explanation": "Try Northtown Advice."},
        "",
        lambda w: ReferralStatusChange.objects.filter(to_status="declined"),
    ),
    "redirect at triage": (
        "casework:redirect",
        "advisor",
        lambda w: [w.submitted.pk],
        lambda w: {"provider": w.provider.pk, "note": "They represent at tribunal."},
        "",
        lambda w: OnwardReferral.objects,
    ),
    "evidence answer": (
        "casework:evidence_detail",
        "referrer",
        lambda w: [w.evidence.pk],
        lambda w: {"action": "answer", "answer-answer_text": "Letter attached."},
        "answer",
        lambda w: AuditEvent.objects.filter(summary="evidence answered"),
    ),
    "evidence decline": (
        "casework:evidence_detail",
        "referrer",
        lambda w: [w.evidence.pk],
        lambda w: {"action": "decline", "decline-reason": "Not registered here now."},
        "decline",
        lambda w: AuditEvent.objects.filter(summary="evidence declined"),
    ),
}


SENT_ALREADY = {
    "accept at triage": "has already been triaged",
    "decline at triage": "has already been triaged",
    "redirect at triage": "has already been triaged",
    "evidence answer": "Your reply was already sent",
    "evidence decline": "Your reply was already sent",
}


class World:
    def __init__(self, case, provider, referrer, advisor, supervisor, health_org, partnership):
        self.case, self.provider = case, provider
        self.users = {"advisor": advisor, "supervisor": supervisor, "referrer": referrer}
        self.submitted = factories.ReferralFactory(referring_organisation=health_org, partnership=partnership)
        self.evidence = factories.EvidenceRequestFactory(case=case)


@pytest.mark.parametrize("form", FORMS)
def test_a_create_form_sent_twice_saves_once(
    form, client, case_in_progress, provider, referrer_user, advisor_user, supervisor_user, health_org, partnership
):
    world = World(case_in_progress, provider, referrer_user, advisor_user, supervisor_user, health_org, partnership)
    url_name, who, args, data, prefix, created = FORMS[form]
    client.force_login(world.users[who])
    url = reverse(url_name, args=args(world))
    before = created(world).count()
    posted = once(data(world), prefix=prefix)

    first = client.post(url, posted)
    second = client.post(url, posted)

    assert first.status_code == 302, first.context and first.context["errors"]
    assert created(world).count() == before + 1
    assert second.status_code == 302
    landing = client.get(second["Location"]).content.decode()
    if form in SENT_ALREADY:
        # A resend that arrives after the first has committed meets the state it left; at the same moment,
        # the token stops it (tests/referrals/test_concurrency.py shows the same for a referral).
        assert SENT_ALREADY[form] in landing
    else:
        assert second["Location"] == first["Location"] and "This form was already sent" in landing


# Sent one after the other, the triage forms meet the state the first left before the token is looked at;
# at the same moment both pass that check, and the token is what stops the second. Shown at the service.
TRIAGE = {
    "accept": lambda w, token: services.referral_accept(
        referral=w.submitted, actor=w.users["advisor"], submission_token=token
    ),
    "decline": lambda w, token: services.referral_decline(
        referral=w.submitted,
        actor=w.users["advisor"],
        reason="out_of_area",
        explanation="Try Northtown Advice.",
        submission_token=token,
    ),
    "redirect": lambda w, token: services.referral_redirect(
        referral=w.submitted,
        actor=w.users["advisor"],
        provider=w.provider,
        note="They represent at tribunal.",
        submission_token=token,
    ),
}


@pytest.mark.parametrize("action", TRIAGE)
def test_a_triage_decision_sent_twice_with_one_token_is_made_once(
    action, case_in_progress, provider, referrer_user, advisor_user, supervisor_user, health_org, partnership
):
    world = World(case_in_progress, provider, referrer_user, advisor_user, supervisor_user, health_org, partnership)
    token = uuid.uuid4()
    TRIAGE[action](world, token)
    with pytest.raises(AlreadySubmitted):
        TRIAGE[action](world, token)
    assert world.submitted.status_changes.filter(to_status__in=["accepted", "declined", "redirected"]).count() == 1
