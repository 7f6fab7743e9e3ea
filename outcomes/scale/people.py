"""The people and referrals of a generated history, as Python decides them: the world (partnerships,
organisations, referrers, advisors) made with the ORM, and each referral's rows loaded through COPY."""

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from django.db import connection

from hjp.accounts.demo import seed_world
from hjp.accounts.models import Funding, Membership, Organisation, Partnership, Profession, Role, User
from referrals.demo import GIVEN as DEMO_GIVEN
from referrals.models import ReferralStatus
from referrals.validators import NHS_NUMBER_WEIGHTS

S = ReferralStatus
CHUNK = 20_000
# How referrals end, in proportion: 60% accepted (a case), most of those worked to a close.
STATUSES = [
    (S.CLOSED, 53),
    (S.IN_PROGRESS, 5),
    (S.ACCEPTED, 2),
    (S.DECLINED, 13),
    (S.REDIRECTED, 6),
    (S.CANCELLED, 10),
    (S.ENTERED_IN_ERROR, 3),
    (S.SUBMITTED, 8),
]
DEMO_FIRST = [S.CLOSED, S.IN_PROGRESS, S.SUBMITTED, S.ACCEPTED]
OPEN = {S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS}
WITH_CASE = {S.ACCEPTED, S.IN_PROGRESS, S.CLOSED}
CATEGORIES = [("benefits", 70), ("debt", 25), ("housing", 15), ("employment", 5), ("community_care", 5)]
CLOSURES = [
    ("work_completed", 70),
    ("advice_given", 15),
    ("referred_on", 5),
    ("no_contact", 5),
    ("patient_withdrew", 5),
]
DECLINES = ["out_of_scope", "out_of_area", "already_helped", "not_enough_information", "no_capacity"]
CASE_STATUSES = ["gathering_evidence", "claim_lodged", "appeal_lodged", "awaiting_decision", "on_hold"]
PROFESSIONS = [
    Profession.GP,
    Profession.NURSE,
    Profession.ALLIED_HEALTH,
    Profession.MENTAL_HEALTH,
    Profession.ADMIN_STAFF,
]
# The demo's given names (referrals.demo), and more, so that a large history repeats them less.
GIVEN = [
    *DEMO_GIVEN,
    "Amira",
    "Callum",
    "Deborah",
    "Emeka",
    "Fiona",
    "Gareth",
    "Hannah",
    "Ibrahim",
    "Jasmine",
    "Kieran",
    "Leah",
    "Marek",
    "Nadia",
    "Owen",
    "Priya",
    "Rhys",
    "Shauna",
    "Tariq",
    "Uma",
    "Victor",
    "Wendy",
    "Yusuf",
    "Zofia",
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
    "Hussain",
    "Wright",
    "Nowak",
    "Evans",
    "Patel",
    "Campbell",
    "Okafor",
    "Murphy",
    "Ali",
    "Roberts",
    "Walker",
    "Nguyen",
    "Robinson",
    "Thompson",
    "White",
    "Khan",
    "Wilson",
    "Kaur",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Wood",
    "Clarke",
    "Jackson",
    "Harris",
    "Martin",
    "Cooper",
    "Ward",
    "Morgan",
    "Bailey",
    "Singh",
    "Rahman",
    "Chowdhury",
    "Davies",
    "Price",
]
STREETS = [
    "High Street",
    "Station Road",
    "Church Lane",
    "Park Avenue",
    "Mill Road",
    "Victoria Street",
    "Albert Terrace",
    "Queens Road",
]


def nhs_number(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, NHS_NUMBER_WEIGHTS, strict=False)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, digits)) + str(check)


@dataclass
class Referrer:
    user_id: int
    organisation_id: int
    team_id: int | None
    profession: str


@dataclass
class Side:
    """A partnership as the generator sees it: who refers to it and who works its cases."""

    partnership_id: int
    advice_id: int
    referrers: list[Referrer] = field(default_factory=list)
    # (advisor id, weight): the demo advisor holds half the demo service's cases.
    advisors: list[tuple[int, int]] = field(default_factory=list)
    # Cumulative weights of `referrers`: random.choices then bisects instead of adding up thousands a referral.
    cumulative_weights: list[float] = field(default_factory=list)


def copy_rows(table: str, columns: list[str], rows) -> None:
    """COPY `rows` (tuples; None is NULL) into `table` through a CSV stream."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_NOTNULL).writerows(rows)
    buffer.seek(0)
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if hasattr(raw, "copy_expert"):  # psycopg2
            raw.copy_expert(sql, buffer)
        else:  # psycopg 3
            with raw.copy(sql) as copy:
                copy.write(buffer.getvalue())


def make_world(referral_count: int, run: int, now, years: int) -> tuple[Side, list[Side]]:
    """The demo world plus the scale partnerships, organisations and people, made with the ORM (thousands of
    rows at most)."""
    world = seed_world()
    start = (now - timedelta(days=365 * years + 30)).date()
    Partnership.objects.filter(pk=world.partnership.pk, start_date__gt=start).update(start_date=start)
    demo = Side(world.partnership.pk, world.advice.pk)
    demo.advisors = [(world.users["advisor"].pk, 50), (world.users["supervisor"].pk, 5)]
    demo_referrers = [
        (world.users["referrer"], world.practices[0], None, Profession.GP, 40),
        (world.users["nurse"], world.practices[1], None, Profession.NURSE, 10),
        (world.users["ward"], world.hospital, world.ward, Profession.SOCIAL_WORKER, 10),
    ]
    tag = f"scale{run}"
    partnership_count = max(2, -(-referral_count // 50_000))
    sides = [demo]
    for i in range(partnership_count):
        advice = Organisation.objects.create(name=f"Scale advice service {run}-{i}", kind=Organisation.Kind.ADVICE)
        partnership = Partnership.objects.create(
            name=f"Scale partnership {run}-{i}", advice_organisation=advice, start_date=start
        )
        Funding.objects.create(
            partnership=partnership,
            funder=f"Scale funder {run}-{i}",
            amount=80_000,
            period_start=start,
            period_end=(now + timedelta(days=365)).date(),
        )
        sides.append(Side(partnership.pk, advice.pk))
    practices = Organisation.objects.bulk_create(
        Organisation(name=f"Scale practice {run}-{j}", kind=Organisation.Kind.HEALTH, ods_code=f"S{j:05d}")
        for j in range(max(4, referral_count // 250))
    )
    links = Partnership.health_organisations.through
    links.objects.bulk_create(
        links(partnership_id=sides[1 + j % partnership_count].partnership_id, organisation_id=org.pk)
        for j, org in enumerate(practices)
    )
    users = User.objects.bulk_create(
        User(
            email=f"referrer{k}@{tag}.hjp.test",
            full_name=f"{GIVEN[k % len(GIVEN)]} {FAMILY[k // len(GIVEN) % len(FAMILY)]}",
            password="!",
        )
        for k in range(max(8, referral_count // 50))
    )
    memberships, demo_orgs = [], [world.practices[0], world.practices[1], world.hospital]
    in_demo_orgs = max(1, len(users) // 20)  # one referrer in twenty works in a demo practice or the hospital
    for k, user in enumerate(users):
        profession = PROFESSIONS[k % len(PROFESSIONS)]
        if k < in_demo_orgs:
            org, side = demo_orgs[k % 3], demo
        else:  # the others round the practices, and so round the partnerships: each has its referrers
            j = (k - in_demo_orgs) % len(practices)
            org, side = practices[j], sides[1 + j % partnership_count]
        memberships.append(Membership(user=user, role=Role.REFERRER, organisation=org, profession=profession))
        side.referrers.append(Referrer(user.pk, org.pk, None, profession))
    # The demo referrers' weights are per cent of the demo partnership's referrals; the others share the rest.
    others = demo.referrers
    demo.referrers = [Referrer(u.pk, o.pk, t.pk if t else None, p) for u, o, t, p, _ in demo_referrers] + others
    share = (100 - sum(w for *_, w in demo_referrers)) / len(others)
    demo.cumulative_weights = list(accumulate([w for *_, w in demo_referrers] + [share] * len(others)))
    advisers = User.objects.bulk_create(
        User(email=f"advisor{k}@{tag}.hjp.test", full_name=f"Advisor {FAMILY[k % len(FAMILY)]}", password="!")
        for k in range(8 * len(sides))
    )
    for k, user in enumerate(advisers):
        side = sides[k % len(sides)]
        supervisor = k < len(sides) and side is not demo
        memberships.append(
            Membership(user=user, role=Role.SUPERVISOR if supervisor else Role.ADVISOR, organisation_id=side.advice_id)
        )
        side.advisors.append((user.pk, 5 if side is demo else 10))
    Membership.objects.bulk_create(memberships)
    for side in sides[1:]:
        side.cumulative_weights = list(range(1, len(side.referrers) + 1))
    return demo, sides[1:]


@dataclass
class Plan:
    """One referral as Python decides it."""

    id: int
    side: Side
    referrer: Referrer
    advisor_id: int
    status: str
    submitted: object
    finished: object


def plan_referrals(
    rng, first_id: int, count: int, demo: Side, others: list[Side], now, span, run_first: int
) -> list[Plan]:
    statuses, status_weights = zip(*STATUSES, strict=True)
    plans = []
    for referral_id in range(first_id, first_id + count):
        side = demo if rng.random() < 0.25 else others[rng.randrange(len(others))]
        referrer = rng.choices(side.referrers, cum_weights=side.cumulative_weights)[0]
        advisor_ids, advisor_weights = zip(*side.advisors, strict=True)
        status = rng.choices(statuses, status_weights)[0]
        guaranteed = first_id == run_first and referral_id - first_id < len(DEMO_FIRST)
        if guaranteed:
            # However small the history, the demo GP and advisor have a referral in each of these states, made
            # in the last hour so that the current period (the dashboard's default) has them too.
            side, referrer, status = demo, demo.referrers[0], DEMO_FIRST[referral_id - first_id]
            advisor_ids, advisor_weights = (demo.advisors[0][0],), (1,)
        if status in OPEN:
            submitted = now - timedelta(days=120) * rng.random()
        else:
            submitted = now - timedelta(days=30) - (span - timedelta(days=30)) * rng.random()
        finished = min(submitted + timedelta(days=rng.randint(20, 200)), now - timedelta(hours=1))
        if guaranteed:
            submitted, finished = now - timedelta(minutes=40), now - timedelta(minutes=5)
        plans.append(
            Plan(referral_id, side, referrer, rng.choices(advisor_ids, advisor_weights)[0], status, submitted, finished)
        )
    return plans


def load_referrals(rng, plans: list[Plan], categories: dict[str, int], now, *, patient_offset: int) -> None:
    """Patients, referrals, categories, consent, timelines and cases: COPY from Python. A referral's patient has
    the id of the referral plus `patient_offset`."""
    patient_rows, referral_rows, category_rows, consent_rows, change_rows, case_rows = [], [], [], [], [], []
    category_codes, category_weights = zip(*CATEGORIES, strict=True)
    closures, closure_weights = zip(*CLOSURES, strict=True)
    for plan in plans:
        n, at = plan.id, plan.submitted
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        patient_rows.append(
            (
                n + patient_offset,
                at,
                at,
                given,
                family,
                date(1935, 1, 1) + timedelta(days=rng.randint(0, 365 * 70)),
                nhs_number(rng) if rng.random() < 0.7 else "",
                f"{rng.randint(1, 240)} {rng.choice(STREETS)}, Leeds",
                f"LS{rng.randint(1, 29)} {rng.randint(1, 9)}AB",
                f"07700 9{rng.randint(0, 99999):05d}",
                "",
                "phone",
                "",
                rng.random() < 0.5,
                "English",
                False,
                "",
                rng.choice(["female", "male", "", "prefer_not_to_say"]),
                "",
                rng.randint(1, 10),
                None,
                "",
            )
        )
        urgent = rng.random() < 0.2
        known = rng.random() < 0.15
        referral_rows.append(
            (
                n,
                at,
                plan.finished if plan.status not in OPEN else at,
                f"S{n:09d}",
                plan.referrer.profession,
                plan.status,
                rng.choice(CASE_STATUSES)
                if plan.status == S.IN_PROGRESS
                else ("awaiting_first_contact" if plan.status == S.ACCEPTED else ""),
                f"{given} needs help with a benefit claim and rent arrears.",
                "urgent" if urgent else "routine",
                (at + timedelta(days=rng.randint(5, 40))).date() if known else None,
                "",
                "inpatient" if plan.referrer.team_id else "primary_care",
                None,
                "",
                at,
                plan.side.advice_id,
                plan.side.partnership_id,
                n + patient_offset,
                plan.referrer.user_id,
                plan.referrer.organisation_id,
                plan.referrer.team_id,
                "due" if known else "",
                1,
            )
        )
        for code in {rng.choices(category_codes, category_weights)[0] for _ in range(rng.choice((1, 1, 2)))}:
            category_rows.append((n, categories[code]))
        consent_rows.append(
            (
                at,
                at,
                "patient",
                "",
                "",
                rng.choice(("verbal", "written")),
                at,
                True,
                rng.random() < 0.85,
                rng.random() < 0.8,
                None,
                "",
                plan.referrer.user_id,
                None,
                n,
            )
        )
        referrer, advisor = plan.referrer.user_id, plan.advisor_id
        steps = [("", S.SUBMITTED, referrer, at, "", "")]
        # Accepted a day later and first contact two days after that, or sooner for the newest.
        accepted_at = at + min(timedelta(days=1), (now - at) / 4)
        contact_at = at + min(timedelta(days=3), (now - at) / 2)
        if plan.status in WITH_CASE:
            steps.append((S.SUBMITTED, S.ACCEPTED, advisor, accepted_at, "", ""))
        if plan.status in (S.IN_PROGRESS, S.CLOSED):
            steps.append((S.ACCEPTED, S.IN_PROGRESS, advisor, contact_at, "", ""))
        if plan.status == S.CLOSED:
            steps.append((S.IN_PROGRESS, S.CLOSED, advisor, plan.finished, "", ""))
        elif plan.status == S.DECLINED:
            steps.append(
                (S.SUBMITTED, S.DECLINED, advisor, plan.finished, "The advisor explained why.", rng.choice(DECLINES))
            )
        elif plan.status == S.REDIRECTED:
            steps.append((S.SUBMITTED, S.REDIRECTED, advisor, plan.finished, "Passed to a specialist provider.", ""))
        elif plan.status == S.CANCELLED:
            steps.append((S.SUBMITTED, S.CANCELLED, referrer, plan.finished, "No longer needed.", ""))
        elif plan.status == S.ENTERED_IN_ERROR:
            steps.append((S.SUBMITTED, S.ENTERED_IN_ERROR, referrer, at + timedelta(hours=2), "Sent by mistake.", ""))
        change_rows.extend(
            (frm, to, reason, when, actor, n, decline) for frm, to, actor, when, reason, decline in steps
        )
        if plan.status in WITH_CASE:
            closed = plan.status == S.CLOSED
            case_rows.append(
                (
                    accepted_at,
                    plan.finished if closed else now,
                    f"SC{n:09d}",
                    {S.ACCEPTED: "awaiting_contact", S.IN_PROGRESS: "in_progress", S.CLOSED: "closed"}[plan.status],
                    "Benefits and arrears.",
                    accepted_at,
                    None if plan.status == S.ACCEPTED else contact_at,
                    plan.finished if closed else None,
                    rng.choices(closures, closure_weights)[0] if closed else "",
                    "",
                    1,
                    advisor,
                    n,
                    plan.side.advice_id,
                )
            )
    copy_rows(
        "referrals_patient",
        [
            "id",
            "created_at",
            "updated_at",
            "given_name",
            "family_name",
            "date_of_birth",
            "nhs_number",
            "address",
            "postcode",
            "phone",
            "email",
            "preferred_contact_method",
            "contact_times",
            "may_leave_message",
            "language",
            "interpreter_needed",
            "access_needs",
            "sex",
            "ethnicity",
            "deprivation_decile",
            "redacted_at",
            "redaction_reason",
        ],
        patient_rows,
    )
    copy_rows(
        "referrals_referral",
        [
            "id",
            "created_at",
            "updated_at",
            "reference",
            "referrer_profession",
            "status",
            "case_status",
            "description",
            "urgency",
            "known_deadline",
            "known_deadline_note",
            "setting",
            "expected_discharge_date",
            "duplicate_reason",
            "submitted_at",
            "advice_organisation_id",
            "partnership_id",
            "patient_id",
            "referrer_id",
            "referring_organisation_id",
            "referring_team_id",
            "known_deadline_kind",
            "version",
        ],
        referral_rows,
    )
    copy_rows("referrals_referral_categories", ["referral_id", "problemcategory_id"], category_rows)
    copy_rows(
        "referrals_consent",
        [
            "created_at",
            "updated_at",
            "given_by",
            "representative_name",
            "representative_authority",
            "method",
            "given_at",
            "share_with_advice_service",
            "medical_evidence",
            "outcome_feedback",
            "withdrawn_at",
            "withdrawal_note",
            "recorded_by_id",
            "withdrawn_by_id",
            "referral_id",
        ],
        consent_rows,
    )
    copy_rows(
        "referrals_referralstatuschange",
        ["from_status", "to_status", "reason", "at", "actor_id", "referral_id", "decline_reason"],
        change_rows,
    )
    copy_rows(
        "casework_case",
        [
            "created_at",
            "updated_at",
            "reference",
            "state",
            "summary",
            "opened_at",
            "first_contact_at",
            "closed_at",
            "closure_reason",
            "closure_note",
            "version",
            "advisor_id",
            "referral_id",
            "advice_organisation_id",
        ],
        case_rows,
    )
