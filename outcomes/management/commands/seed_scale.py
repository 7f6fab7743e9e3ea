"""A large, realistic history for measuring hjp at scale: `manage.py seed_scale --referrals 100000`.

Referrals submitted evenly over the last `--years` years (12 by default, so with a six-year retention period
about 40% have finished longer ago), across two partnerships, each with a patient, consent, a timeline, and,
when accepted, a case with an issue, notes, a deadline, an appointment, an evidence request, money gained and
a status notice in the referrer's inbox. Everything is written with bulk_create in batches; nothing is sent.
Invented people only. Refuses to run without DEBUG, like seed_demo."""

import random
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from casework.models import (
    Appointment,
    Case,
    CaseIssue,
    CaseNote,
    CaseState,
    ClosureReason,
    Deadline,
    EvidenceRequest,
    IssueStatus,
)
from casework.services.common import refresh_next_deadline
from hjp.accounts.models import Membership, Organisation, Partnership, Profession, Role, User
from hjp.notifications.models import Delivery, Message, MessageKind
from outcomes.models import FinancialOutcome, annualise
from outcomes.services import figures_rebuild
from referrals.models import Consent, Patient, ProblemCategory, Referral, ReferralStatus, ReferralStatusChange

S = ReferralStatus
BATCH = 2000
# How referrals end, in proportion: most are accepted and worked to a close; some still open.
OUTCOMES = [
    (S.CLOSED, 60),
    (S.DECLINED, 12),
    (S.REDIRECTED, 5),
    (S.CANCELLED, 8),
    (S.ENTERED_IN_ERROR, 2),
    (S.IN_PROGRESS, 8),
    (S.SUBMITTED, 5),
]
GIVEN = ["Aisha", "Brian", "Carys", "Dev", "Elena", "Farid", "Grace", "Hamza", "Iwona", "Jack", "Kemi", "Liam"]
FAMILY = ["Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal", "Jones", "Khan"]


class Command(BaseCommand):
    help = "Bulk-create a large history of referrals, cases and outcomes (for measuring at scale)."

    def add_arguments(self, parser):
        parser.add_argument("--referrals", type=int, default=100_000)
        parser.add_argument("--years", type=int, default=12, help="Spread the referrals over this many years.")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, referrals: int, years: int, seed: int, **options):
        if not settings.DEBUG:
            raise CommandError("seed_scale invents data: it runs only with DEBUG on, never on a live database.")
        if not ProblemCategory.objects.filter(code="benefits").exists():
            raise CommandError("Migrate first: the problem categories come with the migrations.")
        rng = random.Random(seed)
        run = Referral.objects.count()  # a second run adds to the first without clashing references
        people = [self._partnership(f"Scale partnership {run}-{i}") for i in range(2)]
        now = timezone.now()
        span = timedelta(days=365 * years)
        made = 0
        while made < referrals:
            size = min(BATCH, referrals - made)
            with transaction.atomic():
                self._batch(rng, people, first=run + made, size=size, now=now, span=span)
            made += size
            self.stdout.write(f"{made} referrals", ending="\r")
        # Bulk inserts bypass the receivers that keep the dashboard's running totals: count them afresh.
        figures_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Created {referrals} referrals over {years} years."))

    def _partnership(self, name: str) -> dict:
        advice = Organisation.objects.create(name=f"{name} advice", kind=Organisation.Kind.ADVICE)
        health = Organisation.objects.create(name=f"{name} practice", kind=Organisation.Kind.HEALTH)
        partnership = Partnership.objects.create(
            name=name, advice_organisation=advice, start_date=timezone.localdate() - timedelta(days=365 * 12)
        )
        partnership.health_organisations.add(health)
        slug = name.lower().replace(" ", "-")
        referrer = User.objects.create_user(email=f"referrer@{slug}.scale.test", full_name="Scale Referrer")
        advisor = User.objects.create_user(email=f"advisor@{slug}.scale.test", full_name="Scale Advisor")
        Membership.objects.create(user=referrer, role=Role.REFERRER, organisation=health, profession=Profession.GP)
        Membership.objects.create(user=advisor, role=Role.ADVISOR, organisation=advice)
        return {
            "partnership": partnership,
            "advice": advice,
            "health": health,
            "referrer": referrer,
            "advisor": advisor,
        }

    def _batch(self, rng, people, *, first: int, size: int, now, span) -> None:
        statuses, weights = zip(*OUTCOMES, strict=True)
        benefits = ProblemCategory.objects.get(code="benefits")
        rows = []
        for n in range(first, first + size):
            side = people[n % len(people)]
            submitted = now - span + span * rng.random()
            status = rng.choices(statuses, weights)[0]
            finished = min(submitted + timedelta(days=rng.randint(20, 200)), now)
            rows.append((n, side, submitted, status, finished))

        patients = Patient.objects.bulk_create(
            Patient(
                given_name=rng.choice(GIVEN),
                family_name=f"{rng.choice(FAMILY)}{n}",
                date_of_birth=(now - timedelta(days=rng.randint(18 * 365, 90 * 365))).date(),
                address=f"{n % 200 + 1} Scale Street",
                postcode="LS1 1AA",
                phone="07700 900000",
                sex=rng.choice(["female", "male", ""]),
                deprivation_decile=rng.randint(1, 10),
            )
            for n, *_ in rows
        )
        referrals = Referral.objects.bulk_create(
            Referral(
                reference=f"S{n:08d}",
                patient=patient,
                referrer=side["referrer"],
                referring_organisation=side["health"],
                referrer_profession=Profession.GP,
                partnership=side["partnership"],
                advice_organisation=side["advice"],
                status=status,
                description=f"Help with benefits for patient {n}.",
                submitted_at=submitted,
            )
            for patient, (n, side, submitted, status, _) in zip(patients, rows, strict=True)
        )
        Referral.categories.through.objects.bulk_create(
            Referral.categories.through(referral=r, problemcategory=benefits) for r in referrals
        )
        Consent.objects.bulk_create(
            Consent(
                referral=r,
                method=Consent.Method.VERBAL,
                given_at=r.submitted_at,
                recorded_by=r.referrer,
                share_with_advice_service=True,
                medical_evidence=True,
                outcome_feedback=True,
            )
            for r in referrals
        )
        changes, cases = [], []
        for referral, (n, side, submitted, status, finished) in zip(referrals, rows, strict=True):
            changes.append(
                ReferralStatusChange(referral=referral, to_status=S.SUBMITTED, actor=side["referrer"], at=submitted)
            )
            if status in (S.CLOSED, S.IN_PROGRESS):
                changes.append(
                    ReferralStatusChange(
                        referral=referral,
                        from_status=S.SUBMITTED,
                        to_status=S.ACCEPTED,
                        actor=side["advisor"],
                        at=submitted + timedelta(days=1),
                    )
                )
                closed = status == S.CLOSED
                cases.append(
                    Case(
                        referral=referral,
                        reference=f"SC{n:08d}",
                        advisor=side["advisor"],
                        state=CaseState.CLOSED if closed else CaseState.IN_PROGRESS,
                        summary=f"Benefits case {n}.",
                        opened_at=submitted + timedelta(days=1),
                        first_contact_at=submitted + timedelta(days=3),
                        closed_at=finished if closed else None,
                        closure_reason=ClosureReason.WORK_COMPLETED if closed else "",
                    )
                )
            if status != S.SUBMITTED:
                changes.append(
                    ReferralStatusChange(
                        referral=referral,
                        from_status=S.IN_PROGRESS if status == S.CLOSED else S.SUBMITTED,
                        to_status=status,
                        actor=side["advisor"] if status != S.CANCELLED else side["referrer"],
                        reason="" if status in (S.CLOSED, S.IN_PROGRESS) else f"Reason about patient {n}.",
                        at=finished if status != S.IN_PROGRESS else submitted + timedelta(days=3),
                    )
                )
        ReferralStatusChange.objects.bulk_create(changes)
        cases = Case.objects.bulk_create(cases)
        self._casework(rng, cases, benefits)
        messages = Message.objects.bulk_create(
            Message(
                recipient=r.referrer,
                kind=MessageKind.STATUS_NOTICE,
                key=f"seed_scale:{r.reference}",
                subject=f"Referral {r.reference}",
                body=f"Your referral {r.reference} for {r.patient.initials} was received.",
                referral_id=r.pk,
                status=Message.Status.DELIVERED,
                delivered_at=r.submitted_at,
            )
            for r in referrals
        )
        Delivery.objects.bulk_create(
            Delivery(
                message=m,
                channel=Delivery.Channel.INBOX,
                status=Delivery.Status.SENT,
                attempts=1,
                sent_at=m.delivered_at,
                last_attempt_at=m.delivered_at,
            )
            for m in messages
        )

    def _casework(self, rng, cases, benefits) -> None:
        issues = CaseIssue.objects.bulk_create(
            CaseIssue(
                case=c,
                category=benefits,
                description=f"Issue of case {c.reference}.",
                status=IssueStatus.CLOSED_WITH_CASE if c.closed_at else IssueStatus.OPEN,
                resolved_at=c.closed_at,
            )
            for c in cases
        )
        CaseNote.objects.bulk_create(
            CaseNote(case=c, kind=kind, text=f"{kind} about case {c.reference}.", author=c.advisor, occurred_at=at)
            for c in cases
            for kind, at in ((CaseNote.Kind.CALL, c.first_contact_at), (CaseNote.Kind.INTERNAL, c.first_contact_at))
        )
        Deadline.objects.bulk_create(
            Deadline(
                case=c,
                title=f"Chase the DWP for {c.reference}",
                due_date=(c.opened_at + timedelta(days=30)).date(),
                done_at=c.closed_at,
                done_by=c.advisor if c.closed_at else None,
                settlement=Deadline.Settlement.DONE if c.closed_at else "",
            )
            for c in cases
        )
        refresh_next_deadline(c.pk for c in cases)
        Appointment.objects.bulk_create(
            Appointment(
                case=c,
                kind=Appointment.Kind.IN_PERSON,
                starts_at=c.opened_at + timedelta(days=7),
                place="Room 2, Scale Street surgery",
                advisor=c.advisor,
                attendance=Appointment.Attendance.ATTENDED,
                note="Brought the letters.",
            )
            for c in cases
        )
        EvidenceRequest.objects.bulk_create(
            EvidenceRequest(
                case=c,
                requested_from=c.referral.referrer,
                requested_by=c.advisor,
                what_is_needed="A letter about mobility.",
                due_date=(c.opened_at + timedelta(days=14)).date(),
                state=EvidenceRequest.State.ANSWERED,
                answer_text="Letter attached in the notes.",
                answered_at=c.opened_at + timedelta(days=10),
                answered_by=c.referral.referrer,
            )
            for c in cases[::3]
        )
        FinancialOutcome.objects.bulk_create(
            FinancialOutcome(
                issue=issue,
                kind="new_or_increased_award",
                recurring_amount=amount,
                recurring_period="weekly",
                annual_amount=annualise(amount, "weekly"),
                one_off_amount=Decimal("0.00"),
                recorded_by=issue.case.advisor,
            )
            for issue in issues
            if issue.case.closed_at and (amount := Decimal(rng.randint(20, 120))) and rng.random() < 0.5
        )
