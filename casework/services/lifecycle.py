"""The case lifecycle, owned here: a case's state, its referral's state and the business status the referrer
reads (FHIR Task.status and Task.businessStatus) change together, and only through this module.

TRANSITIONS is the one table: for each case state, the referral state and business status it implies and
the states a case may move to from it. `case_open` starts a case in OPENING_STATE when a referral is accepted;
`case_transition` makes every later move (first contact, closing, reopening, withdrawal of consent);
`case_set_business_status` sets the finer status of an open case. The referrals app keeps its own table of
referral moves (who may make each, the timeline, the notices, the audit): the moves of a referral that has a
case are made from here, through `referrals.services.referral_transition`."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from casework.models import Case, CaseState, ClosureReason
from casework.services.common import bump_version, clean_and_save, new_case_reference, require_worker
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from referrals.models import CaseStatus, Referral, ReferralStatus
from referrals.services import referral_set_case_status, referral_transition

S = ReferralStatus
BUSINESS_STATUSES = frozenset(CaseStatus.values)


@dataclass(frozen=True)
class Stage:
    """What a case state implies, and where a case may go from it."""

    referral_status: str
    # The business status a case takes on entering the state, unless it holds one the state allows already
    # (an advisor who set "claim lodged" before the first contact keeps it); "" for none.
    business_status: str
    # The business statuses a case may hold while in the state.
    business_statuses: frozenset[str]
    next_states: frozenset[str]


TRANSITIONS: dict[str, Stage] = {
    # Accepted at triage; nobody has spoken to the patient yet.
    CaseState.AWAITING_CONTACT: Stage(
        referral_status=S.ACCEPTED,
        business_status=CaseStatus.AWAITING_FIRST_CONTACT,
        business_statuses=BUSINESS_STATUSES,
        next_states=frozenset({CaseState.IN_PROGRESS, CaseState.CLOSED}),
    ),
    # The first contact is recorded: the case is worked.
    CaseState.IN_PROGRESS: Stage(
        referral_status=S.IN_PROGRESS,
        business_status=CaseStatus.GATHERING_EVIDENCE,
        business_statuses=BUSINESS_STATUSES - {CaseStatus.AWAITING_FIRST_CONTACT},
        next_states=frozenset({CaseState.CLOSED}),
    ),
    # Closed with a reason. A supervisor may reopen it: to in progress, or to awaiting contact when nobody
    # ever reached the patient.
    CaseState.CLOSED: Stage(
        referral_status=S.CLOSED,
        business_status="",
        business_statuses=frozenset({""}),
        next_states=frozenset({CaseState.AWAITING_CONTACT, CaseState.IN_PROGRESS}),
    ),
}
OPENING_STATE = CaseState.AWAITING_CONTACT
# A withdrawal of consent cancels the referral (the referrals app does that, before it tells casework), so a
# case closed for that reason sits beside a cancelled referral, not a closed one.
CONSENT_WITHDRAWN_REFERRAL_STATUS = S.CANCELLED


def referral_status_for(state: str, closure_reason: str = "") -> str:
    """The referral state a case in `state` (closed for `closure_reason`) implies."""
    if state == CaseState.CLOSED and closure_reason == ClosureReason.CONSENT_WITHDRAWN:
        return CONSENT_WITHDRAWN_REFERRAL_STATUS
    return TRANSITIONS[state].referral_status


def _entry_business_status(stage: Stage, current: str) -> str:
    return current if current in stage.business_statuses else stage.business_status


def _label(state: str) -> str:
    return CaseState(state).label.lower()


@transaction.atomic
def case_open(*, referral: Referral, actor, advisor) -> Case:
    """Accept a submitted referral (the referrals app checks the actor may) and open its case in OPENING_STATE,
    with the business status that state implies. The caller adds the case's issues and deadlines."""
    stage = TRANSITIONS[OPENING_STATE]
    referral_transition(referral=referral, to_status=stage.referral_status, actor=actor)
    case = Case(
        referral=referral,
        reference=new_case_reference(),
        advisor=advisor,
        state=OPENING_STATE,
        opened_at=timezone.now(),
    )
    clean_and_save(case)
    referral_set_case_status(referral=referral, case_status=stage.business_status, actor=actor)
    return case


@transaction.atomic
def case_transition(
    *,
    case: Case,
    to_state: str,
    actor,
    reason: str = "",
    closure_reason: str = "",
    closure_note: str = "",
    first_contact_at: datetime | None = None,
) -> Case:
    """Move a case to `to_state` if TRANSITIONS allows it, and its referral with it: the referral's state
    through `referral_transition` (which checks the actor's right to that move and records it on the timeline,
    with `reason`), and the business status the new state implies. Returns the case, saved with its version
    moved on.

    Closing needs a `closure_reason` (a ClosureReason) and takes a `closure_note`; closing for a withdrawal of
    consent expects the referral cancelled already (`referrals.services.consent_withdraw` does that). The
    first move to in progress needs `first_contact_at`. Reopening clears the closure.

    Raises DomainError with a message for the user when the move is not allowed; nothing changes then."""
    locked = Case.objects.select_for_update(of=("self",)).select_related("referral").get(pk=case.pk)
    from_state, to_state = locked.state, CaseState(to_state)
    if from_state == to_state:
        raise DomainError(f"This case is already {_label(to_state)}.")
    if to_state not in TRANSITIONS[from_state].next_states:
        raise DomainError(f"A case that is {_label(from_state)} cannot become {_label(to_state)}.")
    if to_state == CaseState.CLOSED and closure_reason not in ClosureReason.values:
        raise DomainError("Choose why the case is closing.")
    if to_state != CaseState.CLOSED and closure_reason:
        raise DomainError("Only a case that is closing has a closure reason.")
    if to_state == CaseState.IN_PROGRESS and not (first_contact_at or locked.first_contact_at):
        raise DomainError("Record the first contact with the patient to move the case to in progress.")
    if to_state == CaseState.AWAITING_CONTACT and locked.first_contact_at:
        raise DomainError("The first contact with this patient is recorded: the case is in progress.")
    if first_contact_at and locked.first_contact_at:
        raise DomainError("The first contact with this patient is already recorded.")

    referral = locked.referral
    referral_status = referral_status_for(to_state, closure_reason)
    if referral.status != referral_status:
        if referral_status == CONSENT_WITHDRAWN_REFERRAL_STATUS:
            raise DomainError("Record a withdrawal of consent with 'Record consent withdrawal', not by closing.")
        referral_transition(referral=referral, to_status=referral_status, actor=actor, reason=reason)

    fields = ["state"]
    locked.state = to_state
    if to_state == CaseState.CLOSED:
        locked.closed_at = timezone.now()
        locked.closure_reason = ClosureReason(closure_reason)
        locked.closure_note = closure_note.strip()
        fields += ["closed_at", "closure_reason", "closure_note"]
    elif from_state == CaseState.CLOSED:
        locked.closed_at = None
        locked.closure_reason = ""
        locked.closure_note = ""
        fields += ["closed_at", "closure_reason", "closure_note"]
    if first_contact_at:
        locked.first_contact_at = first_contact_at
        fields.append("first_contact_at")
    bump_version(locked, *fields)
    referral_set_case_status(
        referral=referral,
        case_status=_entry_business_status(TRANSITIONS[to_state], referral.case_status),
        actor=actor,
    )
    audit_record(actor=actor, action=AuditEvent.Action.TRANSITION, obj=locked, summary=f"{from_state} -> {to_state}")
    return locked


def business_statuses_for(case: Case) -> frozenset[str]:
    """The business statuses a case may be given now: those its state allows, none once it is closed."""
    return TRANSITIONS[case.state].business_statuses - {""}


@transaction.atomic
def case_set_business_status(*, case: Case, business_status: str, actor) -> Case:
    """Set the finer status the referrer reads (FHIR Task.businessStatus) of an open case, to one its state
    allows. Only the advice service's side may set it."""
    locked = Case.objects.select_for_update(of=("self",)).select_related("referral").get(pk=case.pk)
    require_worker(actor, locked.referral.advice_organisation_id)
    if not locked.is_open:
        raise DomainError("The case status can only be set while the case is open.")
    business_status = CaseStatus(business_status)
    if business_status not in TRANSITIONS[locked.state].business_statuses:
        raise DomainError(
            f"A case that is {_label(locked.state)} cannot have the status '{business_status.label.lower()}'."
        )
    referral_set_case_status(referral=locked.referral, case_status=business_status, actor=actor)
    return locked
