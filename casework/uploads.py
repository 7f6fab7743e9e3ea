"""Checks for uploaded medical evidence: type by content (not by name or the browser's word) and size."""

import filetype
from django.core.exceptions import ValidationError

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
ALLOWED_EVIDENCE_TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def check_evidence_file(upload) -> str:
    """Return the file's MIME type, judged from its first bytes; raise ValidationError if it is not a PDF,
    PNG or JPEG or is larger than 10 MB."""
    if upload.size > MAX_EVIDENCE_BYTES:
        raise ValidationError("The file is larger than 10 MB. Send a smaller file or a text answer.")
    upload.seek(0)
    kind = filetype.guess(upload.read(261))
    upload.seek(0)
    if kind is None or kind.mime not in ALLOWED_EVIDENCE_TYPES:
        raise ValidationError("Send a PDF, PNG or JPEG file. This file is not one of those, whatever its name.")
    return kind.mime
