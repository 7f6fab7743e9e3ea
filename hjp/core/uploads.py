"""Checks for uploaded documents (medical evidence, attachments to the messages on a referral), before anything is
stored: a virus scan (hjp/core/virus_scan.py), then size, type by content (not by name or the
browser's word), no web-page code hidden in the file, PDFs that a real parser opens and that carry nothing
that runs, and pictures redrawn by Pillow (which drops their metadata and anything after the picture)."""

import io
import logging
import re
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.db import transaction
from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from hjp.core.errors import DomainError
from hjp.core.virus_scan import ScannerUnavailable, VirusFound, virus_scan

logger = logging.getLogger(__name__)

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
ALLOWED_EVIDENCE_TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
TYPE_NAMES = {"application/pdf": "a PDF", "image/png": "a PNG picture", "image/jpeg": "a JPEG picture"}
PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}

# What a browser would run if it took the file for a web page. The tags need what follows a tag name, so
# that random bytes in a compressed picture are practically never mistaken for one.
MARKUP = re.compile(rb"<\s*(?:script|iframe|html|body)[\s>/]|<!doctype\s+html|javascript:", re.IGNORECASE)

# PDF entries that make a reader run something, and how the refusal names them.
PDF_ACTIVE_KEYS = {
    "/JavaScript": "JavaScript",
    "/JS": "JavaScript",
    "/Launch": "a command that starts a program",
    "/EmbeddedFile": "an attached file",
    "/EmbeddedFiles": "an attached file",
    "/XFA": "a form that runs scripts (XFA)",
    "/RichMedia": "embedded media that runs on its own",
}
PDF_ACTIVE_ACTIONS = {
    "/JavaScript": "JavaScript",
    "/Launch": "a command that starts a program",
    "/SubmitForm": "an action that sends what is typed in it elsewhere",
    "/ImportData": "an action that reads other files",
    "/GoToR": "a link that opens another file",
    "/GoToE": "a link that opens another file",
    "/RichMediaExecute": "embedded media that runs on its own",
}
PDF_OPEN_ACTION = "an action that runs when it is opened"
SAVE_AGAIN = "Print it to a new PDF (choose Save as PDF) and send that, or write your answer instead."


@dataclass(frozen=True)
class EvidenceDocument:
    """A checked upload, ready to store: `content` is what was sent (a PDF) or the picture redrawn."""

    content: bytes
    mime: str

    @property
    def extension(self) -> str:
        return ALLOWED_EVIDENCE_TYPES[self.mime]


def read_evidence_upload(upload) -> bytes:
    """The upload's bytes; raise ValidationError if it is larger than 10 MB (before reading it)."""
    if upload.size > MAX_EVIDENCE_BYTES:
        raise ValidationError("The file is larger than 10 MB. Send a smaller file or a text answer.")
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    return content


def evidence_document(content: bytes) -> EvidenceDocument:
    """Check an upload's bytes (see the module docstring) and return what to store; raise ValidationError
    with a message that says what to do instead."""
    kind = filetype.guess(content[:261])
    if kind is None or kind.mime not in ALLOWED_EVIDENCE_TYPES:
        raise ValidationError("Send a PDF, PNG or JPEG file. This file is not one of those, whatever its name.")
    mime = kind.mime
    if MARKUP.search(content):
        raise ValidationError(
            f"The file starts like {TYPE_NAMES[mime]} but also holds web page code (HTML or script), so it was "
            "not accepted. Save the document again as a new file and send that."
        )
    if mime == "application/pdf":
        _check_pdf(content)
        return EvidenceDocument(content=content, mime=mime)
    return EvidenceDocument(content=_redrawn_picture(content, mime), mime=mime)


def _check_pdf(content: bytes) -> None:
    # A PDF is untrusted input: whatever pypdf raises while reading it means that it is not one we can check.
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise ValidationError("The PDF is protected by a password. Send a copy without a password.")
        pages = len(reader.pages)
        found = _pdf_active_content(reader)
    except ValidationError:
        raise
    except Exception:
        raise ValidationError(f"The PDF could not be opened: it may be damaged. {SAVE_AGAIN}") from None
    if pages < 1:
        raise ValidationError(f"The PDF has no pages. {SAVE_AGAIN}")
    if found:
        listed = " and ".join(sorted(found))
        raise ValidationError(f"The PDF contains {listed}, which cannot be accepted. {SAVE_AGAIN}")


def _pdf_active_content(reader: PdfReader) -> set[str]:
    """What the document holds that a reader would run or unpack, walking every object reachable from its
    trailer. An /OpenAction that is only a page to show first is harmless; one that is an action is not."""
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    pending = [reader.trailer]
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in PDF_ACTIVE_KEYS:
                    found.add(PDF_ACTIVE_KEYS[key])
                elif key == "/S" and value in PDF_ACTIVE_ACTIONS:
                    found.add(PDF_ACTIVE_ACTIONS[value])
                elif key == "/OpenAction" and isinstance(value.get_object(), DictionaryObject):
                    found.add(PDF_OPEN_ACTION)
                pending.append(value)
        elif isinstance(item, ArrayObject):
            pending.extend(item)
    return found


def _redrawn_picture(content: bytes, mime: str) -> bytes:
    """The picture alone, turned upright (its EXIF orientation applied) and saved anew: no metadata (EXIF,
    GPS, comments, colour profile) and nothing after the picture. Refuse more pixels than Pillow's
    decompression-bomb limit (Image.MAX_IMAGE_PIXELS), before they are decoded."""
    form = PILLOW_FORMATS[mime]
    too_large = ValidationError(
        f"The picture is too large (more than {Image.MAX_IMAGE_PIXELS // 1_000_000} million pixels). "
        "Send a smaller picture or a PDF."
    )
    try:
        with Image.open(io.BytesIO(content), formats=[form]) as picture:
            if picture.width * picture.height > Image.MAX_IMAGE_PIXELS:
                raise too_large
            upright = ImageOps.exif_transpose(picture)
            upright.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None
    except ValidationError:
        raise
    except Exception:  # an untrusted file: any failure to decode it means that it cannot be used
        raise ValidationError(
            f"The picture could not be opened: it may be damaged. Save it again as {form} and send that."
        ) from None
    upright.info = {key: upright.info[key] for key in ("transparency",) if key in upright.info}
    out = io.BytesIO()
    if form == "JPEG":
        upright.save(out, "JPEG", quality=90)
    else:
        upright.save(out, "PNG")
    return out.getvalue()


class DocumentRefused(DomainError):
    """The attached document was refused; the message says why and what to do (the page shows it on the
    document field)."""


def checked_document(*, upload, actor, obj, what: str, instead: str) -> EvidenceDocument:
    """The upload scanned for viruses and checked (above), or DocumentRefused saying why and, in `instead`,
    what else to do ("write your answer instead"); `what` names the document in the log ("evidence document").
    A virus found is written to the audit log (against `obj`,
    the record the document was for) at once, outside the transaction that the refusal rolls back. Call it
    before any row is locked: a scan takes time."""
    from hjp.audit.models import AuditEvent
    from hjp.audit.services import audit_record

    label = f"{obj._meta.label_lower} {obj.pk}"
    try:
        content = read_evidence_upload(upload)
        virus_scan(content)
        return evidence_document(content)
    except ValidationError as exc:
        raise DocumentRefused(exc.messages[0]) from None
    except VirusFound as exc:
        logger.warning("%s for %s refused: virus %s", what, label, exc.signature)
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=AuditEvent.Action.REFUSE,
                obj=obj,
                summary=f"{what} refused: virus found ({exc.signature})",
            )
        raise DocumentRefused(
            f"The file contains a virus, so it was not sent. Do not open it again; send a clean copy, or {instead}."
        ) from None
    except ScannerUnavailable as exc:
        logger.error("%s for %s not accepted: no virus scan (%s)", what, label, exc)
        raise DocumentRefused(
            f"The file could not be checked for viruses, so it was not sent. Try again later, or {instead}."
        ) from None
