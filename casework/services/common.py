"""What every casework service shares: the case lock with its version check, and saving with validation."""

from collections.abc import Iterable

from django.db.models import OuterRef, Subquery

from casework.models import Case, Deadline
from casework.permissions import is_case_worker
from hjp.core import versioning
from hjp.core.errors import DomainError
from hjp.core.references import new_reference


class StaleCaseError(versioning.StaleVersionError):
    """Someone saved the case after this user loaded it. `current` is the case as it is now."""

    message_text = (
        "Someone else changed this case while you were editing it. Nothing of yours was saved: "
        "check their change below, then save again if yours should still stand."
    )


ENTERED_IN_ERROR_REFUSED = (
    "This {record} is already marked as entered in error, or only whoever {author} or a supervisor can mark it."
)


def new_case_reference() -> str:
    return new_reference(Case, "C")


def require_worker(actor, organisation_id: int) -> None:
    if not is_case_worker(actor, organisation_id):
        raise DomainError("Only advisors of the advice service this was sent to can do this.")


def lock_case(case: Case, *, actor, version: int | None = None, must_be_open: bool = True) -> Case:
    """Lock the case row, check the actor works for its organisation, that it is open, and (for edits)
    that nobody saved it since `version` was read."""
    locked = Case.objects.select_for_update(of=("self",)).select_related("referral__consent").get(pk=case.pk)
    require_worker(actor, locked.referral.advice_organisation_id)
    versioning.check_version(locked, version, error=StaleCaseError)
    if must_be_open and not locked.is_open:
        raise DomainError("This case is closed. A supervisor can reopen it.")
    return locked


def bump_version(case: Case, *fields: str) -> None:
    """Save the named fields of a locked case and move its version on, so open edit forms become stale."""
    versioning.bump_version(case, *fields, exclude=["referral", "advisor"])


def clean_and_save(obj) -> None:
    obj.full_clean()
    obj.save()


def refresh_next_deadline(case_ids: Iterable[int]) -> None:
    """Set `Case.next_deadline` of these cases to the due date of their earliest open deadline (none when all
    are settled), in one UPDATE. The one place it is written: every service that adds or settles a deadline,
    or closes or reopens a case, calls it in its own transaction, so the caseload reads a column (indexed)
    instead of working the date out for every case it sorts."""
    earliest_open = Deadline.objects.filter(case=OuterRef("pk"), done_at__isnull=True).order_by("due_date", "pk")
    Case.objects.filter(pk__in=list(case_ids)).update(next_deadline=Subquery(earliest_open.values("due_date")[:1]))
