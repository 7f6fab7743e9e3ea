from django.db import models

from hjp.audit.models import AuditEvent


def client_ip(request) -> str | None:
    """The address the request came from (REMOTE_ADDR; a proxy in front must set it correctly)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    summary: str = "",
    request=None,
) -> AuditEvent:
    """Write one audit entry. Call it inside the transaction of the change it records."""
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = str(obj.pk)
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary[:255],
        ip_address=client_ip(request),
        # The path only: a query string can hold what was searched for (a patient's name, an NHS number),
        # and the audit log is read by admins, who see no patient data.
        path=(request.path[:500] if request is not None else ""),
    )
