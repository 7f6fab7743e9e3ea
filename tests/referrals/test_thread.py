"""The conversation on a referral: who takes part, what reaches the other side, documents, and what a withdrawal
of consent does to it. Who else gets 404 on its pages is in tests/core/test_access_matrix.py."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import engines
from django.template.loader import render_to_string
from django.urls import reverse

from casework import services as casework_services
from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from hjp.core.models import StoredFileDeletion
from hjp.core.redaction import REDACTED
from hjp.notifications.models import Delivery, Message, MessageKind
from referrals import services
from referrals.forms import ReferralMessageForm
from referrals.models import ReferralMessage, ReferralStatus, ThreadSide
from tests import factories
from tests.support.documents import pdf_bytes
from tests.support.forms import once

pytestmark = pytest.mark.django_db

PDF = pdf_bytes()


@pytest.fixture
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private_media"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def case(referral, advisor_user):
    return casework_services.referral_accept(referral=referral, actor=advisor_user)


def _post(client, referral, text="", document=None, **extra):
    data = once({"text": text, **extra})
    if document is not None:
        data["attachment"] = document
    return client.post(reverse("referrals:thread", args=[referral.pk]), data)


def _notices(user, kind=MessageKind.REFERRAL_MESSAGE):
    return list(Message.objects.filter(recipient=user, kind=kind).order_by("pk"))


def test_a_referrer_and_the_advisor_exchange_messages_and_each_hears_of_the_other_in_the_inbox(
    client, referral, case, referrer_user, advisor_user, supervisor_user, django_capture_on_commit_callbacks
):
    client.force_login(referrer_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, referral, "She has a new letter from the DWP dated 3 March.")
    assert response.status_code == 302
    [written] = referral.thread.all()
    assert (written.author, written.side, written.text) == (
        referrer_user,
        ThreadSide.REFERRER,
        "She has a new letter from the DWP dated 3 March.",
    )
    # The advisor the case is with hears of it (not the supervisor: the case has its advisor); the notice says who
    # wrote, never what.
    [notice] = _notices(advisor_user)
    assert _notices(supervisor_user) == [] and _notices(referrer_user) == []
    assert notice.status == Message.Status.DELIVERED and notice.referral_id == referral.pk
    assert "DWP" not in notice.body and referrer_user.full_name in notice.body
    assert notice.url == reverse("referrals:thread", args=[referral.pk])
    email = notice.deliveries.get(channel=Delivery.Channel.EMAIL)
    assert email.status == Delivery.Status.SENT

    client.force_login(advisor_user)
    case_page = client.get(reverse("casework:case", args=[case.pk])).content.decode()
    assert "She has a new letter from the DWP dated 3 March." in case_page
    assert '<span class="badge text-bg-warning">1<span' in case_page  # the inbox count in the navigation
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, referral, "Thank you, could you send it?")
    thread_page = client.get(reverse("referrals:thread", args=[referral.pk])).content.decode()
    assert thread_page.index("dated 3 March") < thread_page.index("could you send it?")  # oldest first
    # Reading the conversation read its notice.
    notice.refresh_from_db()
    assert notice.read_at is not None

    [reply_notice] = _notices(referrer_user)
    assert reply_notice.status == Message.Status.DELIVERED
    client.force_login(referrer_user)
    detail = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Thank you, could you send it?" in detail and "Conversation with the advice service" in detail


def test_while_the_referral_waits_at_triage_the_supervisors_hear_of_a_message(
    client, referral, referrer_user, advisor_user, supervisor_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_message_post(referral=referral, actor=referrer_user, text="Also: she is deaf.")
    assert len(_notices(supervisor_user)) == 1 and _notices(advisor_user) == []


def test_a_draft_has_no_conversation(client, referrer_user, health_org, partnership):
    draft = factories.ReferralFactory(
        referrer=referrer_user,
        referring_organisation=health_org,
        partnership=partnership,
        status=ReferralStatus.DRAFT,
        submitted_at=None,
    )
    with pytest.raises(DomainError):
        services.referral_message_post(referral=draft, actor=referrer_user, text="Hello")
    client.force_login(referrer_user)
    assert client.get(reverse("referrals:thread", args=[draft.pk])).status_code == 404
    assert "Conversation with" not in client.get(reverse("referrals:detail", args=[draft.pk])).content.decode()
    assert not ReferralMessage.objects.exists()


def test_colleagues_take_part_only_where_their_practice_shares_referrals(client, referral, health_org):
    colleague = factories.referrer(health_org)
    client.force_login(colleague)
    assert client.get(reverse("referrals:thread", args=[referral.pk])).status_code == 404
    assert _post(client, referral, "Hello").status_code == 404

    health_org.shares_referrals_internally = True
    health_org.save()
    colleague = factories.referrer(health_org)  # roles are read once per user object: a fresh one
    client.force_login(colleague)
    assert client.get(reverse("referrals:thread", args=[referral.pk])).status_code == 200
    assert _post(client, referral, "Covering for Dr Smith this week").status_code == 302
    assert referral.thread.get().side == ThreadSide.REFERRER


def test_managers_and_funders_never_see_the_conversation(client, referral, referrer_user, manager_user, funder_user):
    services.referral_message_post(referral=referral, actor=referrer_user, text="Secret about her benefits")
    for user in (manager_user, funder_user):
        client.force_login(user)
        assert client.get(reverse("referrals:thread", args=[referral.pk])).status_code == 404
        with pytest.raises(DomainError):
            services.referral_message_post(referral=referral, actor=user, text="Hello")


def test_a_document_is_checked_stored_encrypted_and_its_download_audited(
    client, referral, case, referrer_user, advisor_user, private_media
):
    client.force_login(referrer_user)
    assert _post(client, referral, "The letter", SimpleUploadedFile("letter.pdf", PDF)).status_code == 302
    message = referral.thread.get()
    stored = private_media / message.attachment.name
    assert stored.exists() and PDF not in stored.read_bytes()  # encrypted at rest
    assert message.attachment_type == "application/pdf"

    client.force_login(advisor_user)
    response = client.get(reverse("referrals:thread_attachment", args=[referral.pk, message.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;") and response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(
        actor=advisor_user, action=AuditEvent.Action.DOWNLOAD, object_type="referrals.referralmessage"
    ).exists()


def test_a_file_that_is_not_a_document_is_refused_on_its_field_and_the_text_is_kept(
    client, referral, referrer_user, private_media
):
    client.force_login(referrer_user)
    response = _post(client, referral, "Here is the letter", SimpleUploadedFile("letter.pdf", b"MZ\x90\x00 not a pdf"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Send a PDF, PNG or JPEG file" in html and "Here is the letter" in html
    assert not ReferralMessage.objects.exists()


def test_an_empty_message_is_refused_with_a_message(client, referral, referrer_user):
    client.force_login(referrer_user)
    response = _post(client, referral, "   ")
    assert response.status_code == 400 and "Write a message, attach a document, or both." in response.content.decode()


def test_a_withdrawal_of_consent_closes_the_conversation_and_redacts_it_keeping_its_length(
    client, referral, case, referrer_user, advisor_user, private_media, django_capture_on_commit_callbacks
):
    services.referral_message_post(
        referral=referral, actor=referrer_user, text="Her son is helping", upload=SimpleUploadedFile("a.pdf", PDF)
    )
    services.referral_message_post(referral=referral, actor=advisor_user, text="Noted, thank you")
    document = private_media / referral.thread.get(side=ThreadSide.REFERRER).attachment.name
    assert document.exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.consent_withdraw(referral=referral, actor=referrer_user)

    assert referral.thread.count() == 2
    assert set(referral.thread.values_list("text", "attachment")) == {(REDACTED, "")}
    assert not document.exists() and not StoredFileDeletion.objects.exists()

    client.force_login(advisor_user)
    page = client.get(reverse("referrals:thread", args=[referral.pk])).content.decode()
    assert "this conversation is closed" in page and "Her son" not in page
    response = _post(client, referral, "One more thing")
    assert response.status_code == 400
    html = response.content.decode()
    assert "The patient withdrew their consent, so this conversation is closed" in html and "One more thing" in html
    with pytest.raises(DomainError):
        services.referral_message_post(referral=referral, actor=referrer_user, text="Hello?")
    assert referral.thread.count() == 2


def test_advisors_hear_in_the_inbox_of_evidence_replies_and_of_a_withdrawal_of_consent(
    referral, case, referrer_user, advisor_user, private_media, django_capture_on_commit_callbacks
):
    answered = factories.EvidenceRequestFactory(case=case, requested_by=advisor_user, requested_from=referrer_user)
    declined = factories.EvidenceRequestFactory(case=case, requested_by=advisor_user, requested_from=referrer_user)
    with django_capture_on_commit_callbacks(execute=True):
        casework_services.evidence_request_answer(evidence=answered, actor=referrer_user, text="Attached below")
        casework_services.evidence_request_decline(evidence=declined, actor=referrer_user, reason="Not our patient")
    replies = _notices(advisor_user, MessageKind.EVIDENCE_REPLY)
    assert [m.subject for m in replies] == [
        f"Medical evidence sent for referral {referral.reference}",
        f"Medical evidence cannot be provided for referral {referral.reference}",
    ]
    assert all(m.status == Message.Status.DELIVERED and "Not our patient" not in m.body for m in replies)

    family_name = referral.patient.family_name
    with django_capture_on_commit_callbacks(execute=True):
        services.consent_withdraw(referral=referral, actor=referrer_user)
    # The erasure stops and blanks every message about the patient; this one, which names only the reference,
    # is written after it and delivered.
    [withdrawn] = _notices(advisor_user, MessageKind.CONSENT_WITHDRAWN)
    assert withdrawn.status == Message.Status.DELIVERED and referral.reference in withdrawn.subject
    assert withdrawn.referral_id is None
    assert family_name not in withdrawn.body


def test_whoever_records_the_withdrawal_is_not_told_of_it(referral, case, advisor_user):
    services.consent_withdraw(referral=referral, actor=advisor_user)
    assert _notices(advisor_user, MessageKind.CONSENT_WITHDRAWN) == []


def _fill(referral, referrer, advisor, n):
    for i in range(n):
        services.referral_message_post(
            referral=referral,
            actor=referrer if i % 2 else advisor,
            text=f"Message {i}",
            upload=SimpleUploadedFile("a.pdf", PDF) if i % 3 == 0 else None,
        )


# The conversation's page: the referral with its patient, consent, organisations and case (one query), the page
# of messages with their authors (one), the notices of it marked read (one), the audit entry (one); after what
# every signed-in page costs before its view (tests/core/test_request_overhead.py: three).
THREAD_PAGE_QUERIES = 7


@pytest.mark.parametrize("n", [1, 45])
def test_the_conversation_page_costs_the_same_queries_for_1_message_as_for_45(
    client, referral, case, referrer_user, advisor_user, private_media, django_assert_num_queries, n
):
    _fill(referral, referrer_user, advisor_user, n)
    client.force_login(advisor_user)
    url = reverse("referrals:thread", args=[referral.pk])
    with django_assert_num_queries(THREAD_PAGE_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert f"Message {n - 1}" in response.content.decode()


# The document's download: the referral (one), the message (one), the audit entry (one), after the three.
ATTACHMENT_QUERIES = 6


def test_a_download_costs_a_fixed_number_of_queries(
    client, referral, referrer_user, advisor_user, private_media, django_assert_num_queries
):
    _fill(referral, referrer_user, advisor_user, 4)
    message = referral.thread.exclude(attachment="").last()
    client.force_login(advisor_user)
    with django_assert_num_queries(ATTACHMENT_QUERIES):
        response = client.get(reverse("referrals:thread_attachment", args=[referral.pk, message.pk]))
    assert response.status_code == 200


# The referral's and the case's pages, with the conversation's latest messages in one query of their own.
PAGES_WITH_THE_THREAD = {"referrals:detail": 10, "casework:case": 10}


@pytest.mark.parametrize("n", [1, 30])
@pytest.mark.parametrize(("url_name", "queries"), sorted(PAGES_WITH_THE_THREAD.items()))
def test_the_referral_and_case_pages_show_the_latest_messages_in_one_query_whatever_their_number(
    client, referral, case, referrer_user, advisor_user, private_media, django_assert_num_queries, n, url_name, queries
):
    _fill(referral, referrer_user, advisor_user, n)
    client.force_login(advisor_user)
    url = reverse(url_name, args=[case.pk if url_name == "casework:case" else referral.pk])
    with django_assert_num_queries(queries):
        html = client.get(url).content.decode()
    assert f"Message {n - 1}" in html
    assert ("See the whole conversation" in html) == (n > 5)


def _normalised(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def test_the_empty_message_form_is_written_out_exactly_as_crispy_forms_writes_it(referral):
    form = ReferralMessageForm()
    page = render_to_string(
        "referrals/_thread.html", {"thread_form": form, "referral": referral, "thread_side": ThreadSide.REFERRER}
    )
    written = page[page.index('<div id="div_id_text"') : page.index("<button")]
    crispy = engines["django"].from_string("{% load crispy_forms_tags %}{{ form|crispy }}").render({"form": form})
    assert _normalised(written) == _normalised(crispy)
