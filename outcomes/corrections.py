"""Writes that correct a case's recorded outcomes: an edit (optimistic locking on the outcome's own `version`),
an expected gain confirmed when the decision arrives, and a marking as entered in error. Nothing is deleted and
nothing silently overwritten: each change is kept as an OutcomeChange (who, when, each field's old and new
value, why) with its audit entry, in one transaction. Who may: outcomes.permissions.

Every figure reads outcomes through `OutcomeQuerySet.counted()`, so a correction shows in the dashboard, the
funder report and its CSV, and the digests and outcome reports composed after it."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from casework.models import Case
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core import versioning
from hjp.core.dates import format_date
from hjp.core.errors import DomainError
from hjp.core.models import mark_entered_in_error
from hjp.core.money import format_money
from outcomes import permissions
from outcomes.models import (
    OUTCOME_MODELS,
    CorrectableOutcome,
    FinancialOutcome,
    OutcomeChange,
    OutcomeKind,
    annualise,
)

Action = AuditEvent.Action

# What an edit may change, per kind of outcome, in the order the history lists them.
EDITABLE_FIELDS = {
    OutcomeKind.FINANCIAL: (
        "kind",
        "benefit",
        "recurring_amount",
        "recurring_period",
        "one_off_amount",
        "confirmed",
    ),
    OutcomeKind.DECISION: ("stage", "result", "decided_on"),
    OutcomeKind.NON_FINANCIAL: ("kind", "note"),
}
FIELD_LABELS = {
    "kind": "kind",
    "benefit": "benefit",
    "recurring_amount": "regular amount",
    "recurring_period": "paid",
    "one_off_amount": "one-off amount",
    "confirmed": "confirmed or expected",
    "stage": "stage",
    "result": "result",
    "decided_on": "decided on",
    "note": "note",
}


class StaleOutcomeError(versioning.StaleVersionError):
    message_text = (
        "Someone else changed this outcome while you were editing it. Nothing of yours was saved: "
        "check their change below, then save again if yours should still stand."
    )


def outcome_kind_of(outcome: CorrectableOutcome) -> OutcomeKind:
    return next(kind for kind, model in OUTCOME_MODELS.items() if isinstance(outcome, model))


def shown_value(outcome: CorrectableOutcome, name: str) -> str:
    """A field's value as people read it on the page: labels for codes, £ for money, the house date format."""
    value = getattr(outcome, name)
    if name == "confirmed":
        return "confirmed" if value else "expected"
    if outcome._meta.get_field(name).choices:
        return getattr(outcome, f"get_{name}_display")() or "none"
    if value is None or value == "":
        return "none"
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, date):
        return format_date(value)
    return str(getattr(value, "name", value))


def _lock(outcome: CorrectableOutcome) -> tuple[Case, CorrectableOutcome]:
    """Lock the outcome's case (so it cannot close or reopen meanwhile), then the outcome."""
    model = type(outcome)
    case_id = model.objects.filter(pk=outcome.pk).values_list("issue__case_id", flat=True).get()
    case = Case.objects.select_for_update(of=("self",)).select_related("referral").get(pk=case_id)
    locked = model.objects.select_for_update(of=("self",)).select_related("issue").get(pk=outcome.pk)
    return case, locked


def _refuse(case: Case) -> DomainError:
    if case.is_open:
        return DomainError("Only advisors of this case's advice service can correct its outcomes.")
    return DomainError(
        "This case is closed: a supervisor corrects its outcomes. (The advisor it was with can confirm money "
        "that was expected, when the decision arrives.)"
    )


@transaction.atomic
def outcome_update(*, outcome: CorrectableOutcome, actor, version: int, reason: str = "", **fields) -> OutcomeChange:
    """Correct an outcome's fields (EDITABLE_FIELDS of its kind). Refused when someone saved it since `version`
    (StaleOutcomeError), when it is marked entered in error, when nothing changes, and when the actor may not
    (outcomes.permissions): an expected gain becoming confirmed is allowed to the advisor the closed case was
    with. Returns the change kept in its history."""
    kind = outcome_kind_of(outcome)
    case, locked = _lock(outcome)
    versioning.check_version(locked, version, error=StaleOutcomeError)
    if locked.is_entered_in_error:
        raise DomainError("This outcome is marked as entered in error. Record the right one as a new outcome.")
    names = EDITABLE_FIELDS[kind]
    if unknown := set(fields) - set(names):
        raise ValueError(f"Not editable: {sorted(unknown)}")
    before = {name: shown_value(locked, name) for name in names}
    was_expected = kind == OutcomeKind.FINANCIAL and not locked.confirmed
    for name, value in fields.items():
        setattr(locked, name, value)
    if isinstance(locked, FinancialOutcome):
        locked.recurring_period = locked.recurring_period or ""
        locked.one_off_amount = locked.one_off_amount or Decimal("0.00")
        locked.annual_amount = annualise(locked.recurring_amount, locked.recurring_period)
    changes = [
        {"field": FIELD_LABELS[name], "old": before[name], "new": shown_value(locked, name)}
        for name in names
        if shown_value(locked, name) != before[name]
    ]
    if not changes:
        raise DomainError("Nothing was changed.")
    confirming = was_expected and locked.confirmed
    allowed = permissions.can_correct_outcomes(actor, case) or (
        confirming and permissions.can_confirm_expected_gain(actor, case)
    )
    if not allowed:
        raise _refuse(case)
    changed = [name for name in names if name in fields]
    if isinstance(locked, FinancialOutcome):
        changed.append("annual_amount")
    versioning.bump_version(locked, *changed)
    change = OutcomeChange.objects.create(
        case=case,
        outcome_kind=kind,
        outcome_id=locked.pk,
        action=OutcomeChange.Action.CONFIRMED if confirming else OutcomeChange.Action.EDITED,
        changes=changes,
        reason=reason.strip(),
        actor=actor,
        at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        obj=locked,
        summary=f"case {case.pk}: corrected {', '.join(c['field'] for c in changes)}",
    )
    return change


@transaction.atomic
def outcome_mark_entered_in_error(
    *, outcome: CorrectableOutcome, actor, version: int, reason: str
) -> CorrectableOutcome:
    """Mark an outcome as entered in error, with the reason: it stays on the case's outcomes page, struck
    through, and counts in no figure (`counted()`)."""
    kind = outcome_kind_of(outcome)
    case, locked = _lock(outcome)
    versioning.check_version(locked, version, error=StaleOutcomeError)
    if not permissions.can_correct_outcomes(actor, case):
        raise _refuse(case)
    now = timezone.now()
    mark_entered_in_error(locked, actor=actor, reason=reason, now=now)
    versioning.bump_version(locked, "entered_in_error_at", "entered_in_error_by", "entered_in_error_reason")
    OutcomeChange.objects.create(
        case=case,
        outcome_kind=kind,
        outcome_id=locked.pk,
        action=OutcomeChange.Action.ENTERED_IN_ERROR,
        reason=locked.entered_in_error_reason,
        actor=actor,
        at=now,
    )
    audit_record(actor=actor, action=Action.UPDATE, obj=locked, summary=f"case {case.pk}: entered in error")
    return locked


def outcome_changes_erase(*, referral_ids: list[int], text: str) -> None:
    """Outcomes' eraser (`outcomes.services.outcomes_erase`) calls this: the reasons typed for corrections, and
    the old and new text of corrected outcome notes, may describe the patient. Who changed what and when, and
    the amounts, stay. A fixed number of queries however many changes the batch has."""
    changes = OutcomeChange.objects.filter(case__referral_id__in=referral_ids)
    changes.exclude(reason="").exclude(reason=text).update(reason=text)
    note = FIELD_LABELS["note"]
    erased = []
    for change in changes.filter(outcome_kind=OutcomeKind.NON_FINANCIAL).only("pk", "changes"):
        values = [c | {"old": text, "new": text} if c["field"] == note else c for c in change.changes]
        if values != change.changes:
            change.changes = values
            erased.append(change)
    OutcomeChange.objects.bulk_update(erased, ["changes"])
