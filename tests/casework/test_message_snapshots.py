"""The wording of the messages casework sends, compared with reviewed snapshots in tests/snapshots/."""

from datetime import UTC, date, datetime

import pytest

from casework import services
from hjp.notifications.models import Message, MessageKind
from tests import factories
from tests.support.snapshots import assert_matches_snapshot, message_text


@pytest.mark.django_db
def test_the_evidence_request_notice(time_machine):
    time_machine.move_to(datetime(2026, 11, 10, 12, tzinfo=UTC))
    case = factories.CaseFactory(
        referral__reference="RSNAP003",
        referral__patient__given_name="Barbara",
        referral__patient__family_name="Kowalski",
    )
    case.referral.advice_organisation.name = "Leeds Welfare Rights"
    case.referral.advice_organisation.save()
    services.evidence_request_create(
        case=case, actor=case.advisor, what_is_needed="A letter about mobility.", due_date=date(2026, 11, 24)
    )
    assert_matches_snapshot(message_text(Message.objects.get(kind=MessageKind.EVIDENCE_REQUEST)), "evidence_request")


@pytest.mark.django_db
@pytest.mark.parametrize("answered", [True, False])
def test_the_evidence_reply_notice_to_the_advisor(time_machine, answered):
    time_machine.move_to(datetime(2026, 11, 10, 12, tzinfo=UTC))
    case = factories.CaseFactory(
        referral__reference="RSNAP017",
        referral__patient__given_name="Barbara",
        referral__patient__family_name="Kowalski",
    )
    case.referral.referring_organisation.name = "Riverside Surgery"
    case.referral.referring_organisation.save()
    evidence = factories.EvidenceRequestFactory(
        case=case, requested_by=case.advisor, requested_from=case.referral.referrer
    )
    if answered:
        services.evidence_request_answer(evidence=evidence, actor=case.referral.referrer, text="Letter attached.")
    else:
        services.evidence_request_decline(evidence=evidence, actor=case.referral.referrer, reason="Not seen her.")
    notice = Message.objects.get(kind=MessageKind.EVIDENCE_REPLY, recipient=case.advisor)
    assert_matches_snapshot(message_text(notice), f"evidence_reply_{'answered' if answered else 'declined'}")
