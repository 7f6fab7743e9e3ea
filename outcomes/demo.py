"""Demo outcomes for `manage.py seed_demo`: money, decisions and wellbeing on the demo's closed cases, and
the feedback their referrers would have had. Written directly and back-dated to each case's closing, so the
dashboard has a year of figures. Idempotent."""

import random
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from casework.models import Case, CaseState, ClosureReason
from hjp.notifications.models import Message, MessageKind
from outcomes import case_studies, services
from outcomes.models import (
    CaseClosure,
    CaseStudy,
    CaseStudyAgreement,
    DecisionOutcome,
    DecisionResult,
    DecisionStage,
    ExperienceAnswer,
    ExperienceSurvey,
    FinancialKind,
    FinancialOutcome,
    NonFinancialKind,
    NonFinancialOutcome,
    NoOutcomeReason,
    PatientLink,
    PatientVoiceAgreement,
    Period,
    WellbeingScore,
    annualise,
)
from outcomes.staff_survey.models import StaffSurveyResponse
from referrals.models import ProblemCategory, ProblemSubCategory, Referral

AWARDS = [  # (benefit, weekly amount)
    ("pip", "108.55"),
    ("pip", "72.65"),
    ("attendance_allowance", "108.55"),
    ("carers_allowance", "83.30"),
    ("universal_credit", "97.37"),
    ("esa", "47.70"),
    ("pension_credit", "81.10"),
    ("council_tax_reduction", "18.50"),
]


@transaction.atomic
def seed_outcomes(world, *, seed: int = 20261128) -> int:
    """Outcomes for closed demo cases that have none yet. Returns how many cases got outcomes."""
    rng = random.Random(seed)
    cases = (
        Case.objects.filter(referral__partnership=world.partnership, state=CaseState.CLOSED)
        .exclude(closure_reason=ClosureReason.CONSENT_WITHDRAWN)
        .filter(outcome_closure__isnull=True)
        .select_related("referral", "advisor")
        .prefetch_related("issues__category")
        .order_by("pk")
    )
    done = 0
    for i, case in enumerate(cases):
        issues = list(case.issues.all())
        if not issues or i % 6 == 5:
            CaseClosure.objects.create(
                case=case,
                no_outcome_reason=NoOutcomeReason.NO_CONTACT,
                no_outcome_note="Several calls and a letter; no reply.",
            )
        else:
            _outcomes_for(case, issues, rng)
            CaseClosure.objects.create(case=case)
        services.queue_outcome_report(case=case)
        done += 1
    _wellbeing_starts(world, rng)
    _case_study(world)
    return done


DEMO_STORY_TITLE = "Back on her feet after a PIP appeal"


def _case_study(world) -> None:
    """One anonymised story, approved by the supervisor and included in the funder report, on a closed case."""
    if CaseStudy.objects.filter(case__referral__partnership=world.partnership, title=DEMO_STORY_TITLE).exists():
        return
    case = (
        Case.objects.filter(referral__partnership=world.partnership, state=CaseState.CLOSED)
        .exclude(closure_reason=ClosureReason.CONSENT_WITHDRAWN)
        .order_by("pk")
        .first()
    )
    if case is None:
        return
    story = case_studies.case_study_write(
        case=case,
        actor=world.users["advisor"],
        title=DEMO_STORY_TITLE,
        story="A woman in her fifties with a long-term lung condition was referred by her GP after her Personal "
        "Independence Payment was stopped. She had fallen behind with her rent and was not sleeping.\n\n"
        "The advisor gathered evidence from the practice, asked for a mandatory reconsideration and, when that "
        "failed, represented her at the tribunal.",
        outcome_summary="PIP awarded at the enhanced daily living rate, with arrears; the rent arrears were cleared.",
        agreement_method=CaseStudyAgreement.WRITTEN,
    )
    case_studies.case_study_review(story=story, actor=world.users["supervisor"], approve=True)
    case_studies.case_study_include(story=story, actor=world.users["manager"], include=True)


def _outcomes_for(case: Case, issues, rng: random.Random) -> None:
    advisor, closed_at = case.advisor, case.closed_at
    for issue in issues:
        if issue.category.code == ProblemCategory.BENEFITS:
            benefit, weekly = AWARDS[rng.randrange(len(AWARDS))]
            won = rng.random() < 0.8
            stage = rng.choice(
                [
                    DecisionStage.INITIAL_CLAIM,
                    DecisionStage.MANDATORY_RECONSIDERATION,
                    DecisionStage.MANDATORY_RECONSIDERATION,
                    DecisionStage.TRIBUNAL_APPEAL,
                ]
            )
            DecisionOutcome.objects.create(
                issue=issue,
                stage=stage,
                result=DecisionResult.AWARDED if won else DecisionResult.REFUSED,
                decided_on=closed_at.date(),
                recorded_by=advisor,
            )
            if won:
                backdated = Decimal(weekly) * rng.randint(4, 20)
                FinancialOutcome.objects.create(
                    issue=issue,
                    kind=FinancialKind.NEW_OR_INCREASED_AWARD,
                    benefit=ProblemSubCategory.objects.filter(code=benefit).first(),
                    recurring_amount=Decimal(weekly),
                    recurring_period=Period.WEEKLY,
                    annual_amount=annualise(Decimal(weekly), Period.WEEKLY),
                    one_off_amount=backdated.quantize(Decimal("0.01")),
                    confirmed=rng.random() < 0.85,
                    recorded_by=advisor,
                )
        elif issue.category.code == "debt":
            FinancialOutcome.objects.create(
                issue=issue,
                kind=FinancialKind.DEBT_WRITTEN_OFF,
                one_off_amount=Decimal(rng.randrange(300, 4000)),
                recorded_by=advisor,
            )
            NonFinancialOutcome.objects.create(issue=issue, kind=NonFinancialKind.DEBT_ARRANGEMENT, recorded_by=advisor)
        elif issue.category.code == "housing":
            NonFinancialOutcome.objects.create(
                issue=issue, kind=NonFinancialKind.EVICTION_PREVENTED, recorded_by=advisor
            )
        else:
            NonFinancialOutcome.objects.create(issue=issue, kind=NonFinancialKind.ACCESS_TO_CARE, recorded_by=advisor)
    # Outcomes count in the month the case closed.
    for model in (FinancialOutcome, DecisionOutcome, NonFinancialOutcome):
        model.objects.filter(issue__case=case).update(created_at=closed_at, updated_at=closed_at)
    if rng.random() < 0.6:
        start = [rng.randint(1, 3) for _ in range(7)]
        close = [min(5, s + rng.randint(0, 2)) for s in start]
        # About half the patients answered themselves, through their own link (outcomes.patient_voice).
        own = case.pk % 2 == 0
        for moment, items, at in (
            (WellbeingScore.Moment.START, start, case.opened_at),
            (WellbeingScore.Moment.CLOSE, close, closed_at),
        ):
            score = WellbeingScore.objects.create(
                case=case,
                moment=moment,
                total=sum(items),
                recorded_by=None if own else case.advisor,
                self_reported=own,
                **{f"item_{n}": v for n, v in enumerate(items, 1)},
            )
            WellbeingScore.objects.filter(pk=score.pk).update(created_at=at, updated_at=at)
        if own:
            answers = list(ExperienceAnswer)
            ExperienceSurvey.objects.create(
                case=case,
                easy_to_get_help=answers[0 if case.pk % 5 else 1],
                made_a_difference=answers[case.pk % 7 // 3],
            )


def _wellbeing_starts(world, rng: random.Random) -> None:
    open_cases = Case.objects.filter(
        referral__partnership=world.partnership, state=CaseState.IN_PROGRESS, wellbeing_scores__isnull=True
    ).order_by("pk")[:6]
    for case in open_cases:
        items = [rng.randint(1, 3) for _ in range(7)]
        WellbeingScore.objects.create(
            case=case,
            moment=WellbeingScore.Moment.START,
            total=sum(items),
            recorded_by=case.advisor,
            **{f"item_{n}": v for n, v in enumerate(items, 1)},
        )


@transaction.atomic
def seed_patient_voice(world) -> str:
    """One open demo case whose patient agreed to their own link, with an unused link for the start (made anew
    when the last one was used or expired): returns its address, for the seed to print."""
    from outcomes.patient_voice import language_for, link_token, link_url, token_hash

    case = (
        Case.objects.filter(referral__partnership=world.partnership, state=CaseState.IN_PROGRESS)
        .select_related("referral__patient", "advisor")
        .order_by("pk")
        .first()
    )
    if case is None:
        return ""
    PatientVoiceAgreement.objects.get_or_create(case=case, defaults={"agreed": True, "recorded_by": case.advisor})
    link = (
        PatientLink.objects.filter(case=case, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-pk")
        .first()
    )
    if link is None:
        nonce = secrets.token_hex(16)
        link = PatientLink.objects.create(
            case=case,
            moment=WellbeingScore.Moment.START,
            channel=PatientLink.Channel.EMAIL,
            nonce=nonce,
            token_hash=token_hash(link_token(nonce)),
            language=language_for(case.referral.patient.language),
            created_by=case.advisor,
            expires_at=timezone.now() + timedelta(days=settings.PATIENT_LINK_DAYS),
            send_status=PatientLink.SendStatus.SENT,
            sent_at=timezone.now(),
        )
    return link_url(link)


# A few referrers' answers about the service, after the demo's outcome reports: (usefulness, would refer again,
# comment).
SURVEY_ANSWERS = [
    (5, "yes", "The patient's PIP was awarded on reconsideration. Clear feedback, thank you."),
    (4, "yes", ""),
    (3, "unsure", "It took a while to hear that the case had been accepted."),
    (5, "yes", "Very helpful to have the adviser in the practice on Tuesdays."),
]


@transaction.atomic
def seed_staff_survey(world) -> int:
    """Answers to the referrers' survey after the first of the demo's outcome reports that have none, up to
    SURVEY_ANSWERS in all. Returns how many were made."""
    answered = StaffSurveyResponse.objects.filter(partnership=world.partnership).count()
    wanted = SURVEY_ANSWERS[answered:]
    if not wanted:
        return 0
    referrals = Referral.objects.filter(partnership=world.partnership, consent__withdrawn_at__isnull=True)
    reports = (
        Message.objects.filter(kind=MessageKind.OUTCOME_REPORT, referral_id__in=referrals.values("pk"))
        .exclude(staff_survey_responses__isnull=False)
        .order_by("pk")[: len(wanted)]
    )
    organisations = dict(referrals.values_list("pk", "referring_organisation_id"))
    for report, (usefulness, again, comment) in zip(reports, wanted, strict=False):
        StaffSurveyResponse.objects.create(
            outcome_report=report,
            partnership=world.partnership,
            referring_organisation_id=organisations[report.referral_id],
            usefulness=usefulness,
            would_refer_again=again,
            comment=comment,
        )
    return min(len(wanted), len(reports))
