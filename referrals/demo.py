"""About fifty demo referrals over the last twelve months, spread over the states. Made through the
services, then back-dated, so the demo has the same shape as real data. The states of a referral with a case
(accepted, in progress, closed) are reached in casework.demo, through the case lifecycle."""

import random
from datetime import date, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from referrals import services
from referrals.clinics import services as clinic_services
from referrals.clinics.models import ClinicSession
from referrals.deprivation import load_imd
from referrals.models import (
    Consent,
    ContactMethod,
    DeclineReason,
    KnownDeadlineKind,
    ProblemCategory,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    Setting,
    Urgency,
)
from referrals.service_page.models import ServicePage
from referrals.service_page.services import service_page_save
from referrals.validators import NHS_NUMBER_WEIGHTS

# How many days before the referral each demo patient's benefit decision letter is dated.
LETTER_AGES = (6, 12, 20, 38)

S = ReferralStatus
GIVEN = [
    "Maria",
    "John",
    "Aisha",
    "Peter",
    "Fatima",
    "David",
    "Olena",
    "Kwame",
    "Helen",
    "Mohammed",
    "Sarah",
    "Tomasz",
    "Grace",
    "Imran",
    "Linda",
    "Chen",
    "Bridget",
    "Ravi",
    "Joan",
    "Samuel",
]
FAMILY = [
    "Kowalski",
    "Smith",
    "Begum",
    "O'Neill",
    "Ahmed",
    "Jones",
    "Shevchenko",
    "Mensah",
    "Taylor",
    "Khan",
    "Evans",
    "Nowak",
    "Brown",
    "Hussain",
    "Walsh",
    "Li",
    "Murphy",
    "Patel",
    "Davies",
    "Adeyemi",
]
PROBLEMS = [
    ("benefits", "PIP refused after assessment; patient has COPD and cannot walk far. Decision letter received."),
    ("benefits", "Universal Credit sanction; patient in hospital at the time of the appointment."),
    ("debt", "Rent and council tax arrears after losing work through illness; bailiff letters."),
    ("housing", "Damp flat making asthma worse; landlord not responding. Threat of eviction."),
    ("benefits", "Carer for husband with dementia; not claiming Carer's Allowance or Attendance Allowance."),
    ("employment", "Off sick for six months; employer threatening dismissal, statutory sick pay ending."),
    ("community_care", "Discharge planned but no care package; needs assessment under the Care Act."),
    ("immigration", "Leave to remain expiring; worried about charges for treatment."),
    ("debt", "Energy debt on prepayment meter; self-disconnecting in winter."),
    ("benefits", "ESA stopped after missed medical; mental health crisis."),
]
# Weighted so every state has some and the open states most.
STATE_PLAN = (
    [S.SUBMITTED] * 8
    + [S.ACCEPTED] * 6
    + [S.IN_PROGRESS] * 14
    + [S.CLOSED] * 12
    + [S.DECLINED] * 3
    + [S.REDIRECTED] * 2
    + [S.CANCELLED] * 2
    + [S.ENTERED_IN_ERROR] * 1
    + [S.DRAFT] * 2
)


def planned_status(index: int) -> str:
    """The state planned for the demo referral made `index`-th (from 0). Referrals planned to be accepted, in
    progress or closed are left submitted here: those are the states of a case, which casework.demo opens and
    moves through the case lifecycle."""
    return STATE_PLAN[index % len(STATE_PLAN)]


def valid_nhs_number(rng: random.Random) -> str:
    while True:
        first = [rng.randint(0, 9) for _ in range(9)]
        first[0] = rng.randint(4, 6)
        check = 11 - sum(d * w for d, w in zip(first, NHS_NUMBER_WEIGHTS, strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, first)) + str(check)


def _path_to(target: str) -> list[tuple[str, str]]:
    """The referral's own steps, and whose they are, from submitted to the target state."""
    paths = {
        S.SUBMITTED: [],
        # Accepted, in progress and closed are the states of a case: casework.demo takes these referrals on.
        S.ACCEPTED: [],
        S.IN_PROGRESS: [],
        S.CLOSED: [],
        S.DECLINED: [(S.DECLINED, "advisor")],
        S.REDIRECTED: [(S.REDIRECTED, "advisor")],
        S.CANCELLED: [(S.CANCELLED, "referrer")],
        S.ENTERED_IN_ERROR: [(S.ENTERED_IN_ERROR, "referrer")],
    }
    return paths[target]


REASONS = {
    S.DECLINED: "A private pension dispute. Suggest the Pensions Ombudsman.",
    S.REDIRECTED: "Passed to City Law Centre's immigration team, who can act for the patient.",
    S.CANCELLED: "Patient has found help through their union.",
    S.ENTERED_IN_ERROR: "Sent for the wrong patient.",
}


DEMO_DATA = Path(__file__).resolve().parent / "demo_data"


def seed_deprivation_sample() -> tuple[int, int]:
    """A tiny postcode-to-decile table in the published files' layout (made-up areas), so demo patients get deciles
    from their postcodes as they would with `manage.py load_imd` and the real files."""
    return load_imd(imd_path=DEMO_DATA / "imd2019_file1_sample.csv", postcodes_path=DEMO_DATA / "postcodes_sample.csv")


@transaction.atomic
def seed_referrals(world, *, count: int = 50, seed: int = 20261128) -> int:
    """Create the demo referrals unless the partnership already has them. Returns how many were made."""
    if Referral.objects.filter(partnership=world.partnership).exists():
        return 0
    rng = random.Random(seed)
    categories = {c.code: c for c in ProblemCategory.objects.all()}
    referrers = [world.users["referrer"], world.users["nurse"], world.users["ward"]]
    advisor = world.users["advisor"]
    now = timezone.now()
    made = 0
    for i in range(count):
        target = planned_status(i)
        referrer = referrers[i % len(referrers)] if i >= 3 else world.users["referrer"]
        code, description = PROBLEMS[i % len(PROBLEMS)]
        inpatient = referrer == world.users["ward"]
        # Older referrals are further along; open ones are recent.
        days_ago = rng.randint(1, 40) if target in (S.SUBMITTED, S.ACCEPTED, S.DRAFT) else rng.randint(20, 360)
        sent_at = now - timedelta(days=days_ago, hours=rng.randint(0, 8))
        given, family = GIVEN[i % len(GIVEN)], FAMILY[(i * 7) % len(FAMILY)]
        referral = services.referral_save(
            actor=referrer,
            patient_data={
                "given_name": given,
                "family_name": family,
                "date_of_birth": date(rng.randint(1940, 2000), rng.randint(1, 12), rng.randint(1, 28)),
                "nhs_number": valid_nhs_number(rng),
                "address": f"{rng.randint(1, 120)} {rng.choice(['Mill Lane', 'Station Road', 'Park View', 'Church Street'])}",
                # Deciles come from these through the sample table (seed_deprivation_sample).
                "postcode": rng.choice(["LS6 2AB", "LS7 3CD", "LS9 8EF", "LS11 5GH", "LS12 1JK"]),
                "phone": f"07700 900{rng.randint(100, 999)}",
                "preferred_contact_method": rng.choice([ContactMethod.PHONE, ContactMethod.TEXT]),
                "contact_times": rng.choice(["Mornings", "After 2pm", "Any time"]),
                "may_leave_message": rng.random() < 0.7,
                "language": rng.choice(["English"] * 4 + ["Polish", "Urdu", "Ukrainian"]),
                "interpreter_needed": rng.random() < 0.15,
            },
            consent_data={
                "given_by": Consent.GivenBy.PATIENT,
                "method": rng.choice([Consent.Method.VERBAL, Consent.Method.WRITTEN]),
                "given_at": sent_at - timedelta(minutes=10),
                "share_with_advice_service": True,
                "medical_evidence": rng.random() < 0.8,
                "outcome_feedback": rng.random() < 0.85,
            },
            referral_data={
                "partnership": world.partnership,
                "categories": [categories[code]],
                "description": description,
                "urgency": Urgency.URGENT if rng.random() < 0.25 else Urgency.ROUTINE,
                "setting": Setting.INPATIENT if inpatient else Setting.PRIMARY_CARE,
                "expected_discharge_date": (now + timedelta(days=rng.randint(2, 10))).date() if inpatient else None,
                # The decision letter came before the referral; some came so long before that the month is up.
                "known_deadline": (sent_at - timedelta(days=LETTER_AGES[i % len(LETTER_AGES)])).date()
                if code == ProblemCategory.BENEFITS
                else None,
                "known_deadline_kind": KnownDeadlineKind.DECISION_LETTER if code == ProblemCategory.BENEFITS else "",
                "known_deadline_note": "PIP decision letter" if code == ProblemCategory.BENEFITS else "",
            },
            submit=target != S.DRAFT,
        )
        for to_status, side in _path_to(target) if target != S.DRAFT else []:
            services.referral_transition(
                referral=referral,
                to_status=to_status,
                actor=advisor if side == "advisor" else referrer,
                reason=REASONS.get(to_status, ""),
                decline_reason=DeclineReason.OUT_OF_SCOPE if to_status == S.DECLINED else "",
            )
        _backdate(referral, sent_at, rng)
        made += 1
    return made


def _backdate(referral: Referral, sent_at, rng: random.Random) -> None:
    Referral.objects.filter(pk=referral.pk).update(
        created_at=sent_at - timedelta(minutes=5),
        submitted_at=sent_at if referral.status != S.DRAFT else None,
    )
    moment = sent_at
    for change in ReferralStatusChange.objects.filter(referral=referral).order_by("at", "pk"):
        ReferralStatusChange.objects.filter(pk=change.pk).update(at=moment)
        moment = min(moment + timedelta(days=rng.randint(1, 12), hours=rng.randint(1, 6)), timezone.now())


# The advice clinics of the demo: (days from today, hour, minute, mode, place, slots, minutes, whose).
CLINICS = [
    (1, 9, 30, "practice", "Riverside Surgery, room 4", 6, 30, "advisor"),
    (2, 14, 0, "ward", "St Luke's Hospital, Ward 7 day room", 4, 30, "advisor"),
    (3, 10, 0, "phone", "", 8, 20, "supervisor"),
]


@transaction.atomic
def seed_clinics(world) -> int:
    """Publish the demo's advice clinic sessions, from tomorrow, unless upcoming ones exist; book two of the
    waiting referrals into the first (one with an interpreter). Returns how many sessions were published."""
    partnership = world.partnership
    if ClinicSession.objects.filter(partnership=partnership, starts_at__gt=timezone.now()).exists():
        return 0
    today = timezone.localtime()
    sessions = []
    for days, hour, minute, mode, place, slots, minutes, whose in CLINICS:
        advisor = world.users[whose]
        sessions.append(
            clinic_services.clinic_session_publish(
                actor=advisor,
                partnership=partnership,
                advisor=advisor,
                mode=mode,
                place=place,
                starts_at=(today + timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0),
                slot_minutes=minutes,
                slot_count=slots,
                notes="Ask at reception for the welfare rights adviser." if mode == "practice" else "",
            )
        )
    waiting = Referral.objects.filter(
        partnership=partnership, status=S.SUBMITTED, referrer=world.users["referrer"]
    ).order_by("pk")[:2]
    for slot, (referral, interpreter) in enumerate(zip(waiting, [("language", "Polish"), ("", "")], strict=False)):
        clinic_services.clinic_booking_make(
            referral=referral,
            actor=referral.referrer,
            session_id=sessions[0].pk,
            slot=slot * 2,
            interpreter=interpreter[0],
            interpreter_language=interpreter[1],
        )
    return len(sessions)


SERVICE_PAGE = {
    "helps_with": "Welfare benefits: PIP, Universal Credit, ESA, Attendance Allowance, Carer's Allowance, Pension "
    "Credit, Council Tax Reduction; claims, mandatory reconsiderations and tribunal appeals.\n"
    "Debt, housing (rent arrears, disrepair, homelessness), employment and community care.",
    "eligibility": "Adults registered at a partner practice or on a partner ward, and their carers.\n"
    "No means test. We cannot help with criminal or family law matters: we will say where to go instead.",
    "how_to_refer": "Ask the patient whether they agree to be referred and record their consent.\n"
    "Refer in hjp (New referral): say what the problem is and any deadline on a letter the patient has.\n"
    "Book a clinic slot in the form when the patient can come to the practice or the ward.",
    "what_happens_next": "An advisor calls the patient within five working days (two for urgent referrals).\n"
    "You hear whether the referral was accepted and, when the case closes, what it achieved (if the patient "
    "agrees). We may ask you for medical evidence.",
    "contacts": "Welfare rights duty line: 0161 496 0000 (weekdays 9:00 to 17:00)\n"
    "advice-team@demo.hjp.test (no patient details by email, please)",
}


def seed_service_page(world) -> bool:
    """The demo partnership's service page, written by its supervisor, unless there is one. Whether it was made."""
    if ServicePage.objects.filter(partnership=world.partnership).exists():
        return False
    service_page_save(partnership=world.partnership, actor=world.users["supervisor"], version=None, **SERVICE_PAGE)
    return True
