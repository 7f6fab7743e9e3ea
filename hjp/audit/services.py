from django.db import models
from django.db.models import Subquery

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
    entry = _entry(actor=actor, action=action, obj=obj, object_type=object_type, object_id=object_id, summary=summary)
    entry.save(force_insert=True)
    return entry


def audit_records(*, actor, action: str, objs: list[models.Model], summary: str = "") -> list[AuditEvent]:
    """One audit entry for each of `objs` (each naming its own patient record, like `audit_record`), written in
    one INSERT: for a page that shows several patients' records at once, so that each record's "who has looked"
    lists the page, whatever the number of rows."""
    return AuditEvent.objects.bulk_create(
        [_entry(actor=actor, action=action, obj=obj, summary=summary) for obj in objs]
    )


def _entry(*, actor, action: str, obj=None, object_type: str = "", object_id: str = "", summary: str = ""):
    referral_ref = None
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = str(obj.pk)
        referral_ref = _referral_ref(obj)
    context = current_audit_context()
    return AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary[:255],
        referral_ref=referral_ref,
        ip_address=context.ip_address if context is not None else None,
        path=context.path[:500] if context is not None else "",
    )


def _referral_ref(obj: models.Model):
    """The id of the referral (the patient record) `obj` belongs to, by the path its model names in
    `audit_referral` ("case__referral_id": through its case), or None for a model that names none. Read from the
    objects already loaded where they are (`note.case` given or selected with the note), else by a subquery in
    the entry's INSERT: never a query of its own."""
    path = getattr(type(obj), "audit_referral", None)
    if path is None or obj.pk is None:
        return None
    *steps, attname = path.split("__")
    current = obj
    for step in steps:
        relation = current._meta.get_field(step)
        if not relation.is_cached(current):
            return Subquery(type(obj)._base_manager.filter(pk=obj.pk).values(path)[:1])
        current = relation.get_cached_value(current)
        if current is None:
            return None
    return getattr(current, attname)
