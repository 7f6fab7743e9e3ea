"""The one path that removes what identifies a patient, for a withdrawal of consent and for the end of the
retention period alike, so the two cannot drift.

`referrals_erase` removes, for a batch of referrals: the patient's identifying details (names, date of birth,
NHS number, contact details, address and postcode, language and interpreter need, access needs, sex,
ethnicity), representatives' names (on the consent and its later changes), the free text written about them
in every app (the reasons given for corrections and for records marked entered in error too), the messages
about them (the inbox's and the referral's conversation, with its documents), and their documents. It keeps what reports count: dates, states, categories and sub-categories,
outcomes and money, the deprivation decile, the referring organisation and team. It settles what was left open (the apps' erasers cancel open
evidence requests and booked appointments, and close open deadlines and issues with the case).

This app erases its own rows; the apps above it (casework, then outcomes: the order they load in) register
an eraser for theirs with `register_eraser`, called with the same batch. Every eraser works on the whole batch
with a fixed number of queries, so a batch of 500 costs what a batch of 2 does. Erasing twice is harmless."""

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from hjp.core.file_deletions import stored_files_delete_later
from hjp.core.redaction import ErasureReason, message_body, placeholder
from hjp.notifications.services import messages_stop_for_referrals
from referrals.clinics.services import clinic_bookings_erase
from referrals.models import (
    Consent,
    ConsentChange,
    Handover,
    Patient,
    Referral,
    ReferralMessage,
    ReferralStatusChange,
)
from referrals.services.transitions import CONSENT_WITHDRAWN_REASON

# Called as eraser(referral_ids=, reason=, actor=, now=) inside the erasing transaction. `actor` is None when
# the retention job erases.
Eraser = Callable[..., None]
_erasers: list[Eraser] = []


def register_eraser(eraser: Eraser) -> None:
    """An app above referrals registers, when it loads, the function that erases what it holds about patients."""
    if eraser not in _erasers:
        _erasers.append(eraser)


# Everything that identifies the patient, blank; the deprivation decile stays (reports count reach by it).
PATIENT_ERASED = {
    "given_name": "",
    "family_name": "",
    "date_of_birth": None,
    "nhs_number": "",
    "address": "",
    "postcode": "",
    "phone": "",
    "email": "",
    "preferred_contact_method": "",
    "contact_times": "",
    "may_leave_message": False,
    "language": "",
    "interpreter_needed": False,
    "access_needs": "",
    "sex": "",
    "ethnicity": "",
}


@transaction.atomic
def referrals_erase(*, referral_ids: list[int], reason: str, actor=None, now: datetime | None = None) -> None:
    """Remove what identifies the patients of these referrals, in every app (see the module docstring).
    The caller locks the referrals and writes the audit entry. A patient already erased keeps the date and
    reason of the first erasure."""
    reason = ErasureReason(reason)
    now = now or timezone.now()
    text = placeholder(reason)
    Patient.objects.filter(referral__pk__in=referral_ids).update(
        **PATIENT_ERASED,
        # Both read the row as it was: PostgreSQL and SQLite evaluate every SET against the old values.
        redaction_reason=Case(When(redacted_at__isnull=True, then=Value(reason)), default=F("redaction_reason")),
        redacted_at=Coalesce(F("redacted_at"), Value(now)),
        updated_at=now,
    )
    # A named representative (often a relative) identifies the patient as surely as their own name does.
    Consent.objects.filter(referral_id__in=referral_ids).update(
        representative_name="", representative_authority="", withdrawal_note="", updated_at=now
    )
    # The later changes of scope 2 and 3 keep which scope, given or withdrawn, by whom (patient or
    # representative), how and when; the representative's name and the words typed about the change go.
    changes = ConsentChange.objects.filter(consent__referral_id__in=referral_ids)
    changes.exclude(representative_name="").update(representative_name="")
    changes.exclude(note="").exclude(note=text).update(note=text)
    referrals = Referral.objects.filter(pk__in=referral_ids)
    referrals.exclude(description="").update(description=text)
    referrals.update(known_deadline_note="", duplicate_reason="", version=F("version") + 1, updated_at=now)
    # The timeline keeps who moved the referral and when; the reasons people typed may describe the patient.
    ReferralStatusChange.objects.filter(referral_id__in=referral_ids).exclude(
        Q(reason="") | Q(reason=CONSENT_WITHDRAWN_REASON) | Q(reason=text)
    ).update(reason=text)
    # A handover keeps who handed it to whom, when, and what became of it; the words typed may describe the patient.
    handovers = Handover.objects.filter(referral_id__in=referral_ids)
    handovers.exclude(decision_note="").exclude(decision_note=text).update(decision_note=text)
    handovers.exclude(outcome_note="").exclude(outcome_note=text).update(outcome_note=text)
    # The conversation keeps who wrote when, and so its length; what was said and the documents sent go.
    thread = ReferralMessage.objects.filter(referral_id__in=referral_ids)
    documents = list(thread.exclude(attachment="").values_list("attachment", flat=True))
    thread.exclude(text=text).update(text=text, attachment="", attachment_type="", updated_at=now)
    stored_files_delete_later(names=documents)  # once the erasure has committed; a periodic job retries
    # A withdrawn or expired patient's clinic bookings are cancelled: their slots are free for others.
    clinic_bookings_erase(referral_ids=referral_ids, reason=reason, actor=actor, now=now)
    messages_stop_for_referrals(referral_ids=referral_ids, body=message_body(reason))
    for eraser in _erasers:
        eraser(referral_ids=referral_ids, reason=reason, actor=actor, now=now)
