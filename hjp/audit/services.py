from django.db import models

from hjp.audit.context import current_audit_context
from hjp.audit.models import AuditEvent


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    summary: str = "",
) -> AuditEvent:
    """Write one audit entry. Call it inside the transaction of the change it records. Where the change came
    from (client address and path, or the Celery task) is read from the audit context its entry point set
    (`hjp.audit.context`); outside every entry point there is none, and the entry carries no address."""
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = str(obj.pk)
    context = current_audit_context()
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary[:255],
        ip_address=context.ip_address if context is not None else None,
        path=context.path[:500] if context is not None else "",
    )
