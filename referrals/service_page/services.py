"""Writing a partnership's service page: one transaction with its audit entry."""

from django.db import transaction

from hjp.accounts.models import Partnership
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.versioning import StaleVersionError, check_version
from referrals.service_page import permissions
from referrals.service_page.models import ServicePage

Action = AuditEvent.Action
FIELDS = ("helps_with", "eligibility", "how_to_refer", "what_happens_next", "contacts")


class StaleServicePageError(StaleVersionError):
    message_text = (
        "Someone else saved this page while you were editing it. Nothing of yours was saved: the form shows what "
        "you typed; check their change on the page, then save again if yours should still stand."
    )


def _clean(text: str) -> str:
    """Typed text as kept: line endings made one kind, trailing spaces and blank lines at the ends gone."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip()


@transaction.atomic
def service_page_save(*, partnership: Partnership, actor, version: int | None, **texts: str) -> ServicePage:
    """Write the partnership's page (the first save creates it). `version` is the one the form was loaded with
    (None for a page not yet written); a page saved by someone else since is refused (StaleServicePageError)."""
    if not permissions.can_edit(actor, partnership):
        raise DomainError("Only the advice service's supervisors and the partnership's managers edit this page.")
    unknown = set(texts) - set(FIELDS)
    if unknown:
        raise DomainError(f"Not a part of the page: {', '.join(sorted(unknown))}.")
    # Two first saves queue on the partnership's row (NO KEY UPDATE: referrals naming the partnership do not wait),
    # so the second finds the page and is told someone else saved it, rather than meet the unique index.
    list(Partnership.objects.select_for_update(no_key=True).filter(pk=partnership.pk).values_list("pk", flat=True))
    page = ServicePage.objects.select_for_update().filter(partnership=partnership).first()
    if page is None:
        if version is not None:
            raise DomainError("This page was deleted while you were editing it. Save again to write it afresh.")
        page = ServicePage(partnership=partnership)
        action = Action.CREATE
    else:
        check_version(page, version if version is not None else 0, error=StaleServicePageError)
        page.version += 1
        action = Action.UPDATE
    changed = [name for name in FIELDS if _clean(texts.get(name, "")) != getattr(page, name)]
    for name in FIELDS:
        setattr(page, name, _clean(texts.get(name, "")))
    page.updated_by = actor
    page.full_clean()
    page.save()
    audit_record(
        actor=actor,
        action=action,
        obj=page,
        summary="service page "
        + ("written" if action == Action.CREATE else f"changed: {', '.join(changed) or 'no text'}"),
    )
    return page
