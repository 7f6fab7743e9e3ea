"""A withdrawal of consent leaves nothing that was entered about the patient, in any table or on disk: the one
erasure path (referrals.services.erasure) that the retention period's anonymisation also takes."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from casework import services as casework_services
from casework.models import Appointment, CaseIssue, ClosureReason, Deadline, EvidenceRequest
from hjp.audit.models import AuditEvent
from hjp.core.dates import format_date
from hjp.core.redaction import ErasureReason
from hjp.notifications.models import Message
from outcomes.models import FinancialOutcome, WellbeingScore
from referrals import services
from referrals.models import ReferralStatus
from referrals.services.retention import anonymise_expired_records
from tests.referrals.erasure_world import (
    IDENTIFYING,
    leftovers_in_models,
    leftovers_in_tables,
    leftovers_on_disk,
    patient_history,
)

pytestmark = pytest.mark.django_db(transaction=False)


# Random per response, URL-safe base64 (so with "-"): the CSP nonce and the keyset cursors of list links.
RANDOM_TOKENS = re.compile(r'nonce="[^"]*"|(?:after|before)=[A-Za-z0-9_=%-]+')


@pytest.fixture
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private_media"
    return settings.PRIVATE_MEDIA_ROOT


def _found(leftovers: list[str]) -> set[str]:
    return {needle for needle in IDENTIFYING if any(line.endswith(f": {needle}") for line in leftovers)}


def test_after_a_withdrawal_no_table_and_no_file_holds_anything_entered_about_the_patient(
    private_media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        history = patient_history(private_media)
    # The search finds every value while it is there, so finding none afterwards means something.
    assert _found(leftovers_in_models()) == set(IDENTIFYING) - {"LS98QX", "943 476 5919", "07700900461"} - {
        "23/07/1961",
        "23 July 1961",
        "19610723",
    }
    assert _found(leftovers_in_tables()) == _found(leftovers_in_models())
    assert leftovers_on_disk(private_media)

    with django_capture_on_commit_callbacks(execute=True):
        services.consent_withdraw(referral=history.referral, actor=history.referral.referrer)

    assert leftovers_in_models() == []
    assert leftovers_in_tables() == []
    assert leftovers_on_disk(private_media) == [] and not history.document.exists()


def test_a_withdrawal_keeps_what_reports_count_and_settles_what_was_open(
    private_media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        history = patient_history(private_media)
    referral, case = history.referral, history.case

    with django_capture_on_commit_callbacks(execute=True):
        services.consent_withdraw(referral=referral, actor=referral.referrer)

    referral.refresh_from_db()
    case.refresh_from_db()
    patient = referral.patient
    assert (patient.sex, patient.ethnicity, patient.language, patient.interpreter_needed) == ("", "", "", False)
    assert (patient.given_name, patient.family_name, patient.date_of_birth, patient.access_needs) == ("", "", None, "")
    assert patient.redaction_reason == ErasureReason.CONSENT_WITHDRAWN and patient.redacted_at is not None
    assert str(patient).startswith("Details removed (consent withdrawn on ")
    assert referral.consent.withdrawal_note == "" and referral.consent.representative_name == ""
    # Kept: the decile, dates, states, categories, outcomes and money.
    assert patient.deprivation_decile == 2
    assert referral.status == ReferralStatus.CANCELLED and referral.submitted_at is not None
    assert list(referral.categories.values_list("code", flat=True)) == ["benefits"]
    assert case.closure_reason == ClosureReason.CONSENT_WITHDRAWN and case.opened_at and case.first_contact_at
    assert case.issues.get().sub_category.code == "pip"
    assert FinancialOutcome.objects.filter(issue__case=case).aggregate(total=Sum("annual_amount"))["total"] == 5200
    assert WellbeingScore.objects.get(case=case).total == 17
    # Nothing looks live any more.
    assert not case.deadlines.filter(done_at__isnull=True).exists()
    assert set(case.deadlines.values_list("settlement", flat=True)) == {Deadline.Settlement.CLOSED_WITH_CASE}
    assert not case.issues.filter(status=CaseIssue.Status.OPEN).exists()
    assert not case.evidence_requests.filter(state=EvidenceRequest.State.REQUESTED).exists()
    assert not case.appointments.filter(attendance=Appointment.Attendance.BOOKED).exists()
    assert not history.document.exists()
    # The audit log says what happened without saying about whom.
    assert AuditEvent.objects.filter(object_type="referrals.referral", object_id=str(referral.pk), action="redact")


@pytest.mark.parametrize("reason", [ErasureReason.CONSENT_WITHDRAWN, ErasureReason.RETENTION])
def test_every_page_about_the_patient_says_why_their_details_went_and_shows_none_of_them(
    client, private_media, django_capture_on_commit_callbacks, reason
):
    with django_capture_on_commit_callbacks(execute=True):
        history = patient_history(private_media)
    referral, case = history.referral, history.case
    evidence = case.evidence_requests.order_by("pk").first()
    message = Message.objects.filter(referral_id=referral.pk, status=Message.Status.DELIVERED).first()
    if reason == ErasureReason.CONSENT_WITHDRAWN:
        travel = time_machine.travel(timezone.now(), tick=True)
        with django_capture_on_commit_callbacks(execute=True):
            services.consent_withdraw(referral=referral, actor=case.advisor)
    else:
        case.refresh_from_db()
        casework_services.case_close(
            case=case, actor=case.advisor, version=case.version, closure_reason=ClosureReason.WORK_COMPLETED
        )
        travel = time_machine.travel(timezone.now() + timedelta(days=int(6.1 * 365)), tick=True)
    with travel, django_capture_on_commit_callbacks(execute=True):
        if reason == ErasureReason.RETENTION:
            anonymise_expired_records()
        notice = f"Details removed ({ErasureReason(reason).label} on {format_date(timezone.localdate())})"
        pages = {
            referral.referrer: [
                reverse("referrals:home"),
                reverse("referrals:list"),
                reverse("referrals:detail", args=[referral.pk]),
                reverse("casework:evidence_list"),
                reverse("casework:evidence_detail", args=[evidence.pk]),
                reverse("notifications:inbox"),
                reverse("notifications:detail", args=[message.pk]),
                reverse("referrals:thread", args=[referral.pk]),
            ],
            case.advisor: [
                reverse("casework:home"),
                reverse("casework:caseload") + "?scope=all&state=closed",
                reverse("casework:case", args=[case.pk]),
                reverse("outcomes:case_outcomes", args=[case.pk]),
                reverse("casework:evidence_detail", args=[evidence.pk]),
                reverse("referrals:list"),
                reverse("referrals:detail", args=[referral.pk]),
                reverse("referrals:thread", args=[referral.pk]),
            ],
        }
        for user, urls in pages.items():
            client.force_login(user)
            for url in urls:
                response = client.get(url)
                html = response.content.decode()
                assert response.status_code == 200, url
                # Searched without the page's random tokens (the script nonce, list cursors), which can spell "zx-".
                text = RANDOM_TOKENS.sub("", html)
                assert [needle for needle in IDENTIFYING if needle.casefold() in text.casefold()] == [], url
                if url in (reverse("referrals:detail", args=[referral.pk]), reverse("casework:case", args=[case.pk])):
                    assert notice in html, url
