"""Optimistic locking: two people editing the same record never silently overwrite each other.

A versioned model has a positive integer `version`. Its edit form carries the version it was loaded with;
the service locks the row, refuses a stale version with StaleVersionError (a subclass per model words the
message), and moves the version on with every save, so that other open edit forms become stale."""

from hjp.core.errors import DomainError


class StaleVersionError(DomainError):
    """Someone saved the record after this user loaded it. `current` is the record as it is now."""

    message_text = (
        "Someone else changed this while you were editing it. Nothing of yours was saved: "
        "check their change, then save again if yours should still stand."
    )

    def __init__(self, current):
        super().__init__(self.message_text)
        self.current = current


def check_version(locked, version: int | None, *, error=StaleVersionError) -> None:
    """Refuse an edit loaded at `version` of a row locked since (None: an edit that checks no version)."""
    if version is not None and locked.version != version:
        raise error(locked)


def bump_version(obj, *fields: str, exclude=None) -> None:
    """Save the named fields of a locked row and move its version on, so open edit forms become stale."""
    obj.version += 1
    obj.full_clean(exclude=exclude)
    obj.save(update_fields=[*fields, "version", "updated_at"])
