"""Demo casework for `manage.py seed_demo`: a provider directory, and a case for every demo referral the
referrals demo accepted, with issues, notes, appointments, deadlines and evidence requests, split between
the demo advisor and supervisor. The referrals demo has already moved those referrals through their
states, so cases are written directly and dated from the referral's timeline. Idempotent."""

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from hjp.core import appeal_clock
from casework.models import (
    SUBCATEGORIES,
    AdviceProvider,
    Appointment,
    Case,
    CaseIssue,
    CaseNote,
    CaseState,
    ClosureReason,
    Deadline,
    EvidenceRequest,
    IssueSubCategory,
    OnwardReferral,
)
from casework.services import new_case_reference
from referrals.models import CaseStatus, Referral, ReferralStatus

S = ReferralStatus
PROVIDERS = [
    ("City Law Centre", "immigration, housing possession", "0113 496 0001",
     "Phone the duty line; send the papers by email."),
    ("Shelter Helpline", "homelessness, housing", "0808 800 4444", "Patient can call directly; we can refer online."),
    ("StepChange Debt Charity", "debt solutions, bankruptcy, DROs", "0800 138 1111", "Online referral form."),
    ("Macmillan Welfare Rights", "benefits for people with cancer", "0808 808 0000", "Phone referral with consent."),
    ("Disability Law Service", "community care, discrimination", "020 7791 9800", "Email referral."),
]
CALL_NOTES = [
    "Spoke to the patient. Went through the decision letter; agreed to ask for a mandatory reconsideration.",
    "Called; no answer. Left no message (patient asked us not to).",
    "Long call: explained how the claim works and what evidence helps. Sending a checklist by post.",
    "Patient called back with the reference number from the DWP letter.",
]
OTHER_NOTES = [
    (CaseNote.Kind.LETTER, "Wrote to DWP asking for a mandatory reconsideration, enclosing the GP's letter."),
    (CaseNote.Kind.INTERNAL, "Checked entitlement: likely eligible for the enhanced daily living rate."),
    (CaseNote.Kind.MEETING, "Met at the surgery. Filled in the form together; patient signed the authority."),
    (CaseNote.Kind.LETTER, "Council confirmed the arrears are on hold while the benefit is reconsidered."),
]
# The sub-category a demo problem description points to; otherwise the category's first.
SUBCATEGORY_HINTS = [
    ("PIP", IssueSubCategory.PIP), ("Universal Credit", IssueSubCategory.UNIVERSAL_CREDIT),
    ("ESA", IssueSubCategory.ESA), ("Carer's Allowance", IssueSubCategory.CARERS_ALLOWANCE),
    ("council tax", IssueSubCategory.COUNCIL_TAX_ARREARS), ("Energy", IssueSubCategory.ENERGY_DEBT),
    ("eviction", IssueSubCategory.POSSESSION), ("Damp", IssueSubCategory.DISREPAIR),
    ("dismissal", IssueSubCategory.DISMISSAL), ("care package", IssueSubCategory.CARE_ASSESSMENT),
    ("Leave to remain", IssueSubCategory.LEAVE_TO_REMAIN),
]
EVIDENCE_ASKS = [
    "A letter describing how COPD affects walking and daily activities, with recent spirometry if you have it.",
    "A summary of the patient's mental health history and current medication.",
    "Confirmation of the hospital admission dates and the discharge summary.",
]


def _seed_providers(world) -> list[AdviceProvider]:
    providers = []
    for name, specialisms, phone, how in PROVIDERS:
        provider, _ = AdviceProvider.objects.get_or_create(
            advice_organisation=world.advice, name=name,
            defaults={"specialisms": specialisms, "phone": phone, "how_to_refer": how},
        )
        providers.append(provider)
    return providers


def _at(day_offset: int, hour: int, now: datetime) -> datetime:
    base = timezone.localtime(now).replace(hour=hour, minute=0, second=0, microsecond=0)
    return base + timedelta(days=day_offset)


@transaction.atomic
def seed_casework(world, *, seed: int = 20261128) -> int:
    """Create the directory and the demo cases unless they exist. Returns how many cases were made."""
    providers = _seed_providers(world)
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    workers = [world.users["advisor"], world.users["advisor"], world.users["supervisor"]]
    referrals = (
        Referral.objects.filter(
            partnership=world.partnership, status__in=[S.ACCEPTED, S.IN_PROGRESS, S.CLOSED], case__isnull=True
        )
        .select_related("consent", "referrer")
        .prefetch_related("categories", "status_changes")
        .order_by("submitted_at", "pk")
    )
    made = 0
    for i, referral in enumerate(referrals):
        advisor = workers[i % len(workers)]
        changes = {c.to_status: c.at for c in referral.status_changes.all()}
        opened_at = changes.get(S.ACCEPTED, referral.submitted_at)
        first_contact_at = changes.get(S.IN_PROGRESS)
        closed = referral.status == S.CLOSED
        case = Case.objects.create(
            referral=referral,
            reference=new_case_reference(),
            advisor=advisor,
            state=(CaseState.CLOSED if closed
                   else CaseState.IN_PROGRESS if first_contact_at else CaseState.AWAITING_CONTACT),
            opened_at=opened_at,
            first_contact_at=first_contact_at,
            closed_at=changes.get(S.CLOSED) if closed else None,
            closure_reason=rng.choice([ClosureReason.WORK_COMPLETED, ClosureReason.ADVICE_GIVEN]) if closed else "",
            summary="Patient struggling with a benefit decision; see issues." if first_contact_at else "",
        )
        issues = [
            CaseIssue.objects.create(
                case=case, category=category, sub_category=_sub_category(category.code, referral.description),
                description=referral.description[:200],
                status=CaseIssue.Status.RESOLVED if closed else CaseIssue.Status.OPEN,
                resolved_at=changes.get(S.CLOSED) if closed else None,
                resolution="Award made on reconsideration." if closed else "",
            )
            for category in referral.categories.all()
        ]
        if first_contact_at:
            _seed_work(case, referral, advisor, issues, first_contact_at, closed, rng, now, today, i, providers)
        made += 1
    for referral in Referral.objects.filter(partnership=world.partnership, status=S.REDIRECTED,
                                            onward_referrals__isnull=True):
        OnwardReferral.objects.create(
            referral=referral, provider=providers[0], note="Immigration advice is outside our scope.",
            made_by=world.users["advisor"], made_at=_changed_at(referral, S.REDIRECTED),
        )
    return made


def _sub_category(category_code: str, description: str) -> str:
    allowed = SUBCATEGORIES.get(category_code, [])
    for hint, sub_category in SUBCATEGORY_HINTS:
        if hint.lower() in description.lower() and sub_category in allowed:
            return sub_category
    return allowed[0] if allowed else ""


def _changed_at(referral: Referral, status: str):
    change = referral.status_changes.filter(to_status=status).order_by("-at").first()
    return change.at if change else timezone.now()


def _seed_work(case, referral, advisor, issues, first_contact_at, closed, rng, now, today, i, providers) -> None:
    CaseNote.objects.create(case=case, kind=CaseNote.Kind.CALL, author=advisor, occurred_at=first_contact_at,
                            text=CALL_NOTES[i % len(CALL_NOTES)])
    for step in range(1, rng.randint(2, 4)):
        kind, text = OTHER_NOTES[(i + step) % len(OTHER_NOTES)]
        occurred = min(first_contact_at + timedelta(days=3 * step, hours=step), now)
        CaseNote.objects.create(case=case, kind=kind, author=advisor, occurred_at=occurred, text=text)
    Appointment.objects.create(
        case=case, kind=Appointment.Kind.IN_PERSON, advisor=advisor, place="Riverside Surgery, room 4",
        starts_at=min(first_contact_at + timedelta(days=5), now - timedelta(hours=2)),
        attendance=Appointment.Attendance.ATTENDED,
    )
    if not closed:
        # Open cases: something today or this week, a clock running, perhaps evidence outstanding.
        offset = [0, 1, 2, 3, 6][i % 5]
        Appointment.objects.create(
            case=case, kind=[Appointment.Kind.PHONE, Appointment.Kind.VIDEO, Appointment.Kind.IN_PERSON][i % 3],
            advisor=case.advisor, starts_at=_at(offset, 10 + i % 6, now),
            place="Citywide Welfare Rights, 12 Park Row" if i % 3 == 2 else "Advisor calls the patient's mobile",
        )
        letter = today - timedelta(days=[5, 12, 20, 27, 33][i % 5])
        Deadline.objects.create(
            case=case, issue=issues[0] if issues else None, kind=Deadline.Kind.RECONSIDERATION,
            title="Mandatory reconsideration request", basis_date=letter,
            due_date=appeal_clock.reconsideration_due(letter),
        )
        Deadline.objects.create(case=case, kind=Deadline.Kind.TASK, title="Chase DWP for the decision",
                                due_date=today + timedelta(days=[-2, 1, 4, 9][i % 4]))
        Referral.objects.filter(pk=referral.pk).update(
            case_status=[CaseStatus.GATHERING_EVIDENCE, CaseStatus.CLAIM_LODGED, CaseStatus.AWAITING_DECISION][i % 3]
        )
        if i % 4 == 1:
            OnwardReferral.objects.create(referral=referral, case=case, provider=providers[2], made_by=advisor,
                                          note="Priority debts: asked StepChange to set up a debt management plan.")
    if referral.consent.medical_evidence:
        answered = closed or i % 2 == 0
        asked = first_contact_at + timedelta(days=2)
        EvidenceRequest.objects.create(
            case=case, requested_from=referral.referrer, requested_by=advisor,
            what_is_needed=EVIDENCE_ASKS[i % len(EVIDENCE_ASKS)],
            due_date=(asked + timedelta(days=14)).date() if answered else today + timedelta(days=[-3, 5, 10][i % 3]),
            state=EvidenceRequest.State.ANSWERED if answered else EvidenceRequest.State.REQUESTED,
            answer_text="Letter attached to the patient's record; summary: unable to walk more than 20 metres."
            if answered else "",
            answered_at=min(asked + timedelta(days=6), now) if answered else None,
            answered_by=referral.referrer if answered else None,
        )
