"""Demo casework for `manage.py seed_demo`: a provider directory, and a case for every demo referral the
referrals demo planned to be accepted, in progress or closed, with issues, notes, appointments, deadlines and
evidence requests, split between the demo advisor and supervisor, and two referrals handed over to a partner
advice service in hjp (one accepted, one waiting). The referrals demo leaves those referrals
submitted; each case is opened and moved through the case lifecycle (casework.services.lifecycle), so the
case, its referral and the status the referrer reads agree, then back-dated over the weeks after the referral
was sent. Idempotent."""

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from casework.models import (
    AdviceProvider,
    Appointment,
    Case,
    CaseIssue,
    CaseNote,
    CaseState,
    ClosureReason,
    Deadline,
    EvidenceRequest,
    OnwardReferral,
)
from casework.services import case_open, case_set_business_status, case_transition
from casework.services.common import refresh_next_deadline
from casework.services.providers import ShareConsent, onward_referral_make
from hjp.core import appeal_clock
from referrals.demo import planned_status
from referrals.models import (
    CaseStatus,
    Consent,
    ConsentChange,
    Handover,
    ProblemCategory,
    ProblemSubCategory,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
)
from referrals.services import handover_decide

S = ReferralStatus
# The referral states a case reaches, in the order it reaches them.
CASE_TARGETS = (S.ACCEPTED, S.IN_PROGRESS, S.CLOSED)
PROVIDERS = [
    (
        "City Law Centre",
        "immigration, housing possession",
        "0113 496 0001",
        "Phone the duty line; send the papers by email.",
    ),
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
# The sub-category (by code) a demo problem description points to; otherwise the category's first.
SUBCATEGORY_HINTS = [
    ("PIP", "pip"),
    ("Universal Credit", "universal_credit"),
    ("ESA", "esa"),
    ("Carer's Allowance", "carers_allowance"),
    ("council tax", "council_tax_arrears"),
    ("Energy", "energy_debt"),
    ("eviction", "possession"),
    ("Damp", "disrepair"),
    ("dismissal", "dismissal"),
    ("care package", "care_assessment"),
    ("Leave to remain", "leave_to_remain"),
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
            advice_organisation=world.advice,
            name=name,
            defaults={"specialisms": specialisms, "phone": phone, "how_to_refer": how},
        )
        providers.append(provider)
    # A provider outside hjp with a FHIR server: a referral handed over to it is sent there (api.fhir.partners).
    # The address is an example: in the demo a send to it fails and says so on the handover's page.
    AdviceProvider.objects.get_or_create(
        advice_organisation=world.advice,
        name="Riverside Advice (FHIR)",
        defaults={
            "specialisms": "debt, consumer",
            "how_to_refer": "Hand over with the patient's consent: hjp sends it to Riverside's FHIR server.",
            "fhir_base_url": "https://fhir.riverside-advice.example/R4",
            "fhir_signing_secret": "demo-only-shared-secret",
        },
    )
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
    made = 0
    for i, (referral, target) in enumerate(_referrals_to_take_on(world)):
        advisor = workers[i % len(workers)]
        opened_at, first_contact_at, closed_at = _moments(referral.submitted_at, target, rng, now)
        case = case_open(referral=referral, actor=world.users["advisor"], advisor=advisor)
        if first_contact_at:
            case = case_transition(
                case=case, to_state=CaseState.IN_PROGRESS, actor=advisor, first_contact_at=first_contact_at
            )
        closed = closed_at is not None
        if closed:
            reason = rng.choice([ClosureReason.WORK_COMPLETED, ClosureReason.ADVICE_GIVEN])
            case = case_transition(
                case=case, to_state=CaseState.CLOSED, actor=advisor, reason=reason.label, closure_reason=reason
            )
        _backdate(case, {S.ACCEPTED: opened_at, S.IN_PROGRESS: first_contact_at, S.CLOSED: closed_at})
        if first_contact_at:
            Case.objects.filter(pk=case.pk).update(summary="Patient struggling with a benefit decision; see issues.")
        issues = [
            CaseIssue.objects.create(
                case=case,
                category=category,
                sub_category=_sub_category(category, referral.description),
                description=referral.description[:200],
                status=CaseIssue.Status.RESOLVED if closed else CaseIssue.Status.OPEN,
                resolved_at=closed_at,
                resolution="Award made on reconsideration." if closed else "",
            )
            for category in referral.categories.all()
        ]
        if first_contact_at:
            _seed_work(case, referral, advisor, issues, first_contact_at, closed, rng, now, today, i, providers)
        made += 1
    # The demo writes its deadlines directly, not through the services that keep each case's next one.
    refresh_next_deadline(Case.objects.filter(referral__partnership=world.partnership).values_list("pk", flat=True))
    for referral in Referral.objects.filter(
        partnership=world.partnership, status=S.REDIRECTED, onward_referrals__isnull=True
    ):
        OnwardReferral.objects.create(
            referral=referral,
            provider=providers[0],
            note="Immigration advice is outside our scope.",
            made_by=world.users["advisor"],
            made_at=_changed_at(referral, S.REDIRECTED),
        )
    _seed_handovers(world, now)
    return made


def _seed_handovers(world, now: datetime) -> None:
    """Citywide hands two in-progress cases' referrals over to Northside Law Centre, another advice service in
    this hjp, with the patient's consent to share: Northside (partner@demo.hjp.test) has accepted one and has the
    other waiting in its triage. Once only."""
    partner = world.partner_advice
    if Handover.objects.filter(to_organisation=partner).exists():
        return
    provider, _ = AdviceProvider.objects.get_or_create(
        advice_organisation=world.advice,
        name=partner.name,
        defaults={
            "specialisms": "housing possession, immigration",
            "phone": "0113 496 0099",
            "how_to_refer": "Hand over in hjp (with the patient's consent to share).",
            "partner_organisation": partner,
        },
    )
    cases = [
        case
        for case in Case.objects.filter(referral__partnership=world.partnership, state=CaseState.IN_PROGRESS)
        .select_related("referral__consent", "advisor")
        .order_by("pk")
        if not case.referral.consent.is_withdrawn
    ][:2]
    for accepted, case in zip((True, False), cases, strict=False):
        onward = onward_referral_make(
            case=case,
            actor=case.advisor,
            provider=provider,
            note="Possession hearing coming up: Northside's housing solicitors take it on; we keep the benefits work.",
            share=ShareConsent(
                given_by=Consent.GivenBy.PATIENT,
                method=ConsentChange.Method.PHONE,
                said_at=now - timedelta(hours=2),
            ),
        )
        if accepted:
            handover_decide(
                handover=onward.handover,
                actor=world.users["partner"],
                accept=True,
                note="We will call the patient this week and ask for the court papers.",
            )


def _referrals_to_take_on(world) -> list[tuple[Referral, str]]:
    """The submitted demo referrals the referrals demo planned to be accepted, in progress or closed, each with
    that planned state, in the order they were sent. The referrals demo planned by the order it made them in."""
    made_in_order = Referral.objects.filter(partnership=world.partnership).order_by("pk").values_list("pk", flat=True)
    plan = {pk: planned_status(index) for index, pk in enumerate(made_in_order)}
    referrals = (
        Referral.objects.filter(partnership=world.partnership, status=S.SUBMITTED, case__isnull=True)
        .select_related("consent", "referrer")
        .prefetch_related("categories")
        .order_by("submitted_at", "pk")
    )
    return [(referral, plan[referral.pk]) for referral in referrals if plan[referral.pk] in CASE_TARGETS]


def _moments(sent_at: datetime, target: str, rng: random.Random, now: datetime):
    """When a referral sent at `sent_at` was accepted, first contacted and closed (None for the steps its planned
    state does not reach): a day to a fortnight apart, never in the future."""
    steps = CASE_TARGETS.index(target) + 1
    moments, moment = [], sent_at
    for _ in range(steps):
        moment = min(moment + timedelta(days=rng.randint(1, 12), hours=rng.randint(1, 6)), now)
        moments.append(moment)
    return tuple(moments + [None] * (len(CASE_TARGETS) - steps))


def _backdate(case: Case, moments: dict) -> None:
    """Date the case and its referral's moves as if they happened over the weeks after the referral was sent."""
    for to_status, at in moments.items():
        if at is not None:
            ReferralStatusChange.objects.filter(referral_id=case.referral_id, to_status=to_status).update(at=at)
    Case.objects.filter(pk=case.pk).update(opened_at=moments[S.ACCEPTED], closed_at=moments[S.CLOSED])


def _sub_category(category: ProblemCategory, description: str) -> ProblemSubCategory | None:
    allowed = {sub.code: sub for sub in category.sub_categories.all()}
    for hint, code in SUBCATEGORY_HINTS:
        if hint.lower() in description.lower() and code in allowed:
            return allowed[code]
    return next(iter(allowed.values()), None)


def _changed_at(referral: Referral, status: str):
    change = referral.status_changes.filter(to_status=status).order_by("-at").first()
    return change.at if change else timezone.now()


def _seed_work(case, referral, advisor, issues, first_contact_at, closed, rng, now, today, i, providers) -> None:
    CaseNote.objects.create(
        case=case,
        kind=CaseNote.Kind.CALL,
        author=advisor,
        occurred_at=first_contact_at,
        text=CALL_NOTES[i % len(CALL_NOTES)],
    )
    for step in range(1, rng.randint(2, 4)):
        kind, text = OTHER_NOTES[(i + step) % len(OTHER_NOTES)]
        occurred = min(first_contact_at + timedelta(days=3 * step, hours=step), now)
        CaseNote.objects.create(case=case, kind=kind, author=advisor, occurred_at=occurred, text=text)
    Appointment.objects.create(
        case=case,
        kind=Appointment.Kind.IN_PERSON,
        advisor=advisor,
        place="Riverside Surgery, room 4",
        starts_at=min(first_contact_at + timedelta(days=5), now - timedelta(hours=2)),
        attendance=Appointment.Attendance.ATTENDED,
    )
    if not closed:
        # Open cases: something today or this week, a clock running, perhaps evidence outstanding.
        offset = [0, 1, 2, 3, 6][i % 5]
        Appointment.objects.create(
            case=case,
            kind=[Appointment.Kind.PHONE, Appointment.Kind.VIDEO, Appointment.Kind.IN_PERSON][i % 3],
            advisor=case.advisor,
            starts_at=_at(offset, 10 + i % 6, now),
            place="Citywide Welfare Rights, 12 Park Row" if i % 3 == 2 else "Advisor calls the patient's mobile",
        )
        letter = today - timedelta(days=[5, 12, 20, 27, 33][i % 5])
        Deadline.objects.create(
            case=case,
            issue=issues[0] if issues else None,
            kind=Deadline.Kind.RECONSIDERATION,
            title="Mandatory reconsideration request",
            basis_date=letter,
            due_date=appeal_clock.reconsideration_due(letter),
        )
        Deadline.objects.create(
            case=case,
            kind=Deadline.Kind.TASK,
            title="Chase DWP for the decision",
            due_date=today + timedelta(days=[-2, 1, 4, 9][i % 4]),
        )
        statuses = [CaseStatus.GATHERING_EVIDENCE, CaseStatus.CLAIM_LODGED, CaseStatus.AWAITING_DECISION]
        case_set_business_status(case=case, actor=advisor, business_status=statuses[i % 3])
        if i % 4 == 1:
            OnwardReferral.objects.create(
                referral=referral,
                case=case,
                provider=providers[2],
                made_by=advisor,
                note="Priority debts: asked StepChange to set up a debt management plan.",
            )
    if referral.consent.medical_evidence:
        # Each referrer's first request on an open case waits for their answer, so every demo referrer has one
        # to answer; after that, every other one has been answered.
        waiting = EvidenceRequest.objects.filter(
            requested_from=referral.referrer, state=EvidenceRequest.State.REQUESTED
        )
        answered = closed or (waiting.exists() and i % 2 == 0)
        asked = first_contact_at + timedelta(days=2)
        EvidenceRequest.objects.create(
            case=case,
            requested_from=referral.referrer,
            requested_by=advisor,
            what_is_needed=EVIDENCE_ASKS[i % len(EVIDENCE_ASKS)],
            due_date=(asked + timedelta(days=14)).date() if answered else today + timedelta(days=[-3, 5, 10][i % 3]),
            state=EvidenceRequest.State.ANSWERED if answered else EvidenceRequest.State.REQUESTED,
            answer_text="Letter attached to the patient's record; summary: unable to walk more than 20 metres."
            if answered
            else "",
            answered_at=min(asked + timedelta(days=6), now) if answered else None,
            answered_by=referral.referrer if answered else None,
        )
