"""The issue's definition of done, on the demo data: the demo advisor accepts a referral, logs a call, books an
appointment, sets a reconsideration deadline, requests evidence that the demo referrer answers, and closes."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, CaseState, Deadline, EvidenceRequest
from hjp.accounts.models import User
from referrals.models import Referral, ReferralStatus
from tests.support.forms import once

from .test_services import PDF

pytestmark = pytest.mark.django_db


def test_the_demo_advisor_works_a_referral_from_triage_to_closure(client, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=None)
    advisor = User.objects.get(email="advisor@demo.hjp.test")
    gp = User.objects.get(email="gp@demo.hjp.test")
    referral = Referral.objects.filter(
        status=ReferralStatus.SUBMITTED, referrer=gp, consent__medical_evidence=True
    ).first()
    assert referral is not None

    client.force_login(advisor)
    assert referral.reference in client.get(reverse("casework:triage")).content.decode()
    response = client.post(reverse("casework:accept", args=[referral.pk]), once())
    case = Case.objects.get(referral=referral)
    assert response["Location"] == reverse("casework:case", args=[case.pk])
    if referral.known_deadline:  # carried from the referral: the advisor does not type it again
        assert Deadline.objects.filter(case=case, title__contains=referral.known_deadline_note).exists()

    now = timezone.localtime().replace(second=0, microsecond=0)
    steps = [
        (
            "casework:note_add",
            {
                "kind": "call",
                "occurred_at": now.strftime("%Y-%m-%dT%H:%M"),
                "text": "Called the patient; PIP decision letter dated 31 January.",
                "first_contact": "on",
            },
        ),
        (
            "casework:appointment_add",
            {
                "kind": "in_person",
                "starts_at": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
                "duration_minutes": 60,
                "place": "Riverside Surgery, room 4",
                "note": "",
            },
        ),
        ("casework:deadline_add", {"kind": "reconsideration", "basis_date": "2026-01-31", "title": ""}),
        (
            "casework:evidence_add",
            {"what_is_needed": "Letter on mobility", "due_date": (now.date() + timedelta(days=14)).isoformat()},
        ),
    ]
    for url_name, data in steps:
        assert client.post(reverse(url_name, args=[case.pk]), once(data)).status_code == 302, url_name
    assert Deadline.objects.get(case=case, basis_date="2026-01-31").due_date.isoformat() == "2026-02-28"

    evidence = EvidenceRequest.objects.get(case=case)
    client.force_login(gp)
    assert evidence in client.get(reverse("casework:evidence_list")).context["page"].object_list
    client.post(
        reverse("casework:evidence_detail", args=[evidence.pk]),
        once(
            {
                "action": "answer",
                "answer-answer_text": "Attached.",
                "answer-answer_file": SimpleUploadedFile("mobility.pdf", PDF),
            },
            prefix="answer",
        ),
    )

    client.force_login(advisor)
    assert "Download the document" in client.get(reverse("casework:case", args=[case.pk])).content.decode()
    case.refresh_from_db()
    client.post(
        reverse("outcomes:case_close", args=[case.pk]),
        {
            "close_case-version": case.version,
            "close_case-closure_reason": "work_completed",
            "close_case-note": "MR lodged.",
            "close_case-no_outcome_reason": "pending_decision",
        },
    )
    case.refresh_from_db()
    referral.refresh_from_db()
    assert case.state == CaseState.CLOSED and referral.status == ReferralStatus.CLOSED
