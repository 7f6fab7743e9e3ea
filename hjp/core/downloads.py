"""The download of a private document (an evidence file, a document sent in a conversation), written once.

Each app checks the user's right to the object first (its own permissions: 404 for missing and forbidden alike)
and then hands the file here: it is opened (decrypted), the download is audited, and it goes out as an
attachment with its stored type, never sniffed and never cached. A document no configured key opens is logged
for the service and explained to the user with the app's own page."""

import logging

from django.db import models
from django.http import FileResponse, HttpResponse
from django.shortcuts import render

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.storage import UnreadableFile

logger = logging.getLogger(__name__)


def private_file_response(
    request,
    *,
    file: models.fields.files.FieldFile,
    content_type: str,
    filename: str,
    audit_obj: models.Model,
    audit_summary: str,
    unreadable_template: str,
    unreadable_context: dict,
) -> HttpResponse:
    """`file` of `audit_obj`, downloaded as `filename` + its stored extension, audited; or the app's page saying
    the document cannot be opened (503). The caller has checked the user may download it."""
    try:
        document = file.open("rb")
    except UnreadableFile:
        logger.error(
            "Document of %s %s (%s) cannot be decrypted with EVIDENCE_ENCRYPTION_KEYS",
            audit_obj._meta.verbose_name,
            audit_obj.pk,
            file.name,
        )
        return render(request, unreadable_template, unreadable_context, status=503)
    audit_record(actor=request.user, action=AuditEvent.Action.DOWNLOAD, obj=audit_obj, summary=audit_summary)
    extension = file.name.rsplit(".", 1)[-1]
    response = FileResponse(document, as_attachment=True, filename=f"{filename}.{extension}", content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    return response
