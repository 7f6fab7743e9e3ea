"""The figures of the managers' dashboard worked out from the raw tables, as the dashboard did before it read
running totals (outcomes.running_figures): the reference the tests hold the running totals to. The one
difference by design: the median wait is worked out here from the exact waits; tests that compare medians use
waits in whole hours. The querysets that count each figure from the raw tables (referrals received, cases
closed, and their totals) live here too: the app reads none of them any more."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from casework.models import Case, OnwardReferral
from hjp.accounts.models import Organisation, Profession, Team
from hjp.core.money import pennies
from outcomes.models import (
    DecisionOutcome,
    DecisionStage,
    ExperienceAnswer,
    ExperienceSurvey,
    FinancialOutcome,
    WellbeingScore,
)
from outcomes.selectors.dashboard import (
    DEPRIVATION_DECILES,
    EXPERIENCE_QUESTIONS,
    NOT_KNOWN,
    AdvisorCaseload,
    Breakdown,
    BreakdownRow,
    DecileOutcomes,
    ExperienceRow,
    Month,
    PartnershipSummary,
    PatientReported,
    Totals,
    Wellbeing,
    onward_rows,
    support_in_period,
    value_for_money,
)
from outcomes.selectors.digest import DigestFigures
from outcomes.selectors.figures import (
    ALL_STAGES,
    DECISION_DECIDED,
    DECISION_WON,
    ZERO,
    DecisionSuccess,
    MoneyGain,
    MoneyTotals,
    Period,
    ReferralTotals,
    one_decimal,
    onward_result,
)
from referrals.models import DeclineReason, Referral, ReferralStatus, Setting

S = ReferralStatus
Moment = WellbeingScore.Moment


# The definitions of record of the figures (the counting rules in outcomes/selectors/figures.py's docstring),
# as querysets over the raw tables.
# Of referrals received: accepted once a case was opened for it (so one cancelled later, when the patient
# withdrew consent, still counts); decided when accepted, declined or redirected; contacted once the advisor
# first reached the patient.
ACCEPTED = Q(case__isnull=False)
DECIDED = ACCEPTED | Q(status__in=[S.DECLINED, S.REDIRECTED])
CONTACTED = Q(case__first_contact_at__isnull=False)


def _scoped(prefix: str, scope: dict) -> dict:
    return {f"{prefix}{field}": value for field, value in scope.items()}


def referrals_received(*, period: Period, **scope) -> QuerySet[Referral]:
    """Referrals submitted in the period, less those entered in error. `scope` says whose: `partnership=`
    (dashboard, funder report) or `referring_organisation=` (a referring organisation's digest)."""
    return Referral.objects.filter(
        **scope, submitted_at__gte=period.starts_at, submitted_at__lt=period.ends_before
    ).exclude(status=S.ENTERED_IN_ERROR)


def onward_referrals_made(*, period: Period, **scope) -> QuerySet[OnwardReferral]:
    """Onward referrals made in the period. `scope` as for `referrals_received`, on the referral."""
    return OnwardReferral.objects.filter(
        **_scoped("referral__", scope), made_at__gte=period.starts_at, made_at__lt=period.ends_before
    )


def cases_closed(*, period: Period, **scope) -> QuerySet[Case]:
    """Cases closed in the period, whatever the closure reason: a case closed because the patient withdrew
    consent counts (see the module docstring). `scope` as for `referrals_received`, on the case's referral."""
    return Case.objects.filter(
        **_scoped("referral__", scope), closed_at__gte=period.starts_at, closed_at__lt=period.ends_before
    )


def referral_totals(received: QuerySet[Referral]) -> ReferralTotals:
    """Received, accepted, decided and contacted, in one query."""
    return ReferralTotals(
        **received.aggregate(
            received=Count("pk"),
            accepted=Count("pk", filter=ACCEPTED),
            decided=Count("pk", filter=DECIDED),
            contacted=Count("pk", filter=CONTACTED),
        )
    )


def decision_success(closed: QuerySet[Case]) -> list[DecisionSuccess]:
    """Per decision stage, then all stages (ALL_STAGES, last): decisions won (awarded or increased) out of
    decided (won or refused; withdrawn claims are left out), on the `closed` cases (`cases_closed`)."""
    rows = {
        row["stage"]: row
        for row in DecisionOutcome.objects.counted()
        .filter(issue__case__in=closed)
        .values("stage")
        .annotate(successful=Count("pk", filter=DECISION_WON), decided=Count("pk", filter=DECISION_DECIDED))
        .order_by()
    }
    stages = [
        DecisionSuccess(
            stage=stage.label,
            successful=rows.get(stage, {}).get("successful", 0),
            decided=rows.get(stage, {}).get("decided", 0),
        )
        for stage in DecisionStage
    ]
    stages.append(
        DecisionSuccess(
            stage=ALL_STAGES,
            successful=sum(s.successful for s in stages),
            decided=sum(s.decided for s in stages),
        )
    )
    return stages


POUNDS_FIELD = DecimalField(max_digits=14, decimal_places=2)
GAIN = ExpressionWrapper(F("annual_amount") + F("one_off_amount"), output_field=POUNDS_FIELD)


def money_sum(expression, confirmed: bool):
    """The sum of `expression` over the confirmed (or the expected) financial outcomes, 0.00 for none."""
    return Coalesce(Sum(expression, filter=Q(confirmed=confirmed)), ZERO, output_field=POUNDS_FIELD)


def money_totals(closed: QuerySet[Case]) -> MoneyTotals:
    """Money gained on the `closed` cases (`cases_closed`), confirmed and expected apart, in one query."""
    outcomes = FinancialOutcome.objects.counted().filter(issue__case__in=closed)
    figures = outcomes.aggregate(
        confirmed_annual=money_sum("annual_amount", True),
        confirmed_one_off=money_sum("one_off_amount", True),
        confirmed_cases=Count("issue__case", distinct=True, filter=Q(confirmed=True)),
        expected_annual=money_sum("annual_amount", False),
        expected_one_off=money_sum("one_off_amount", False),
        expected_cases=Count("issue__case", distinct=True, filter=Q(confirmed=False)),
    )

    def gain(kind: str) -> MoneyGain:
        annual, one_off = pennies(figures[f"{kind}_annual"]), pennies(figures[f"{kind}_one_off"])
        return MoneyGain(annual=annual, one_off=one_off, total=annual + one_off, cases=figures[f"{kind}_cases"])

    return MoneyTotals(confirmed=gain("confirmed"), expected=gain("expected"))


def _counted_by(queryset, *fields) -> list[dict]:
    return list(queryset.values(*fields).annotate(n=Count("pk")).order_by("-n", *fields))


def _median_days_to_first_contact(received, contacted: int) -> Decimal | None:
    """The median of (first contact - submission) over `contacted` referrals, in days. The database orders
    the waits; only the one or two in the middle are fetched, which works the same on every backend."""
    if not contacted:
        return None
    waits = (
        received.filter(case__first_contact_at__isnull=False)
        .annotate(wait=ExpressionWrapper(F("case__first_contact_at") - F("submitted_at"), output_field=DurationField()))
        .order_by("wait")
        .values_list("wait", flat=True)
    )
    middle = list(waits[(contacted - 1) // 2 : contacted // 2 + 1])
    median = sum(middle, timedelta()) / len(middle)
    return one_decimal(median.total_seconds() / 86400)


def _breakdown(title: str, rows) -> Breakdown:
    return Breakdown(title=title, rows=tuple(BreakdownRow(label=label, n=n) for label, n in rows))


def _counts(queryset, field) -> dict:
    return {row[field]: row["n"] for row in _counted_by(queryset, field)}


def referral_breakdowns(received: QuerySet[Referral], *, partnership) -> tuple[Breakdown, ...]:
    """Referrals received by organisation, team, profession, setting, deprivation decile and, among those
    declined, the coded reason for declining.

    Every table lists the same rows whatever the period holds, in a fixed order: each health organisation of
    the partnership and its teams (and any other that referred), every profession, setting, decile and reason,
    zeros included. A row that appeared only when it had referrals, or an order by size, would tell a reader
    more than its rounded count does (outcomes.disclosure)."""
    organisations = dict.fromkeys(sorted(partnership.health_organisations.values_list("name", flat=True)), 0)
    organisations |= _counts(received, "referring_organisation__name")
    teams = {
        (team["organisation__name"], team["name"], team["pk"]): 0
        for team in Team.objects.filter(organisation__health_partnerships=partnership)
        .values("pk", "name", "organisation__name")
        .order_by("organisation__name", "name", "pk")
    }
    no_team = 0
    for row in _counted_by(received, "referring_team_id", "referring_team__name", "referring_team__organisation__name"):
        if row["referring_team_id"]:
            key = (row["referring_team__organisation__name"], row["referring_team__name"], row["referring_team_id"])
            teams[key] = row["n"]
        else:
            no_team = row["n"]
    professions = _counts(received, "referrer_profession")
    by_setting = _counts(received, "setting")
    deciles = _counts(received, "patient__deprivation_decile")
    declined = {
        reason or "": n
        for reason, n in _counts(
            received.filter(status=S.DECLINED).annotate(
                decline=FilteredRelation("status_changes", condition=Q(status_changes__to_status=S.DECLINED))
            ),
            "decline__decline_reason",
        ).items()
    }
    return (
        _breakdown("referring organisation", sorted(organisations.items())),
        _breakdown(
            "team or ward",
            [(f"{name} ({organisation})", n) for (organisation, name, _), n in sorted(teams.items())]
            + [("No team or ward given", no_team)],
        ),
        _breakdown(
            "referrer's profession", [(profession.label, professions.get(profession, 0)) for profession in Profession]
        ),
        _breakdown(
            "setting",
            [(setting.label, by_setting.get(setting, 0)) for setting in Setting]
            + [("Not recorded", by_setting.get("", 0) + by_setting.get(None, 0))],
        ),
        _breakdown(
            "deprivation decile (1 = most deprived)",
            [(str(decile), deciles.get(decile, 0)) for decile in DEPRIVATION_DECILES]
            + [("Not known", deciles.get(None, 0))],
        ),
        _breakdown(
            "reason for declining",
            [(reason.label, declined.get(reason, 0)) for reason in DeclineReason]
            + [("Not recorded", declined.get("", 0))],
        ),
    )


def open_caseload(*, partnership, period: Period) -> tuple[AdvisorCaseload, ...]:
    """Cases open at the end of the period, per advisor (advisors are staff: their names may be shown)."""
    open_at_end = Case.objects.filter(referral__partnership=partnership, opened_at__lt=period.ends_before).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=period.ends_before)
    )
    return tuple(
        AdvisorCaseload(advisor=row["advisor__full_name"] or row["advisor__email"], n=row["n"])
        for row in open_at_end.values("advisor_id", "advisor__full_name", "advisor__email")
        .annotate(n=Count("pk"))
        .order_by("advisor__full_name", "advisor__email")
    )


def _closed_and_wellbeing(closed: QuerySet[Case]) -> tuple[int, Wellbeing]:
    """How many cases closed, and the SWEMWBS change over those with a score at start and at close."""
    scored = Q(start_score__total__isnull=False, close_score__total__isnull=False)
    figures = closed.annotate(
        start_score=FilteredRelation("wellbeing_scores", condition=Q(wellbeing_scores__moment=Moment.START)),
        close_score=FilteredRelation("wellbeing_scores", condition=Q(wellbeing_scores__moment=Moment.CLOSE)),
    ).aggregate(
        closed=Count("pk"),
        scored=Count("pk", filter=scored),
        start=Avg("start_score__total", filter=scored),
        close=Avg("close_score__total", filter=scored),
        change=Avg(F("close_score__total") - F("start_score__total"), filter=scored),
    )
    return figures["closed"], Wellbeing(
        cases=figures["scored"],
        average_start=one_decimal(figures["start"]),
        average_close=one_decimal(figures["close"]),
        average_change=one_decimal(figures["change"]),
    )


def _patient_reported(closed: QuerySet[Case]) -> PatientReported:
    """What patients answered themselves: SWEMWBS over the cases with both scores their own, and the
    experience survey's answers, counted from the raw rows."""
    own = closed.filter(wellbeing_scores__moment=Moment.START, wellbeing_scores__self_reported=True).filter(
        wellbeing_scores__moment=Moment.CLOSE, wellbeing_scores__self_reported=True
    )
    _, wellbeing = _closed_and_wellbeing(closed.filter(pk__in=own.values("pk")))
    surveys = ExperienceSurvey.objects.filter(case__in=closed)
    return PatientReported(
        wellbeing=wellbeing,
        experience=tuple(
            ExperienceRow(
                question=question,
                answers=tuple((answer.label, surveys.filter(**{field: answer}).count()) for answer in ExperienceAnswer),
            )
            for field, (_, question) in zip(
                ("easy_to_get_help", "made_a_difference"), EXPERIENCE_QUESTIONS, strict=True
            )
        ),
    )


def _months(received: QuerySet[Referral], closed: QuerySet[Case], period: Period) -> tuple[Month, ...]:
    """Per month of the period: referrals received, and money gained on the cases closed in it."""
    referrals = {
        timezone.localtime(row["month"]).date(): row["n"]
        for row in received.annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by()
    }
    gains = {
        timezone.localtime(row["month"]).date(): row
        for row in FinancialOutcome.objects.counted()
        .filter(issue__case__in=closed)
        .annotate(month=TruncMonth("issue__case__closed_at"))
        .values("month")
        .annotate(confirmed_gain=money_sum(GAIN, True), expected_gain=money_sum(GAIN, False))
        .order_by()
    }
    return tuple(
        Month(
            month=month,
            referrals=referrals.get(month, 0),
            confirmed=pennies(gains.get(month, {}).get("confirmed_gain")),
            expected=pennies(gains.get(month, {}).get("expected_gain")),
        )
        for month in period.months()
    )


def raw_partnership_summary(*, partnership, period: Period) -> PartnershipSummary:
    """Every figure of the managers' dashboard for one partnership and period, in a fixed number of queries.

    A referral counts as accepted once a case was opened for it (so one later cancelled on consent withdrawal
    still counts); decided means accepted, declined or redirected."""
    received = referrals_received(period=period, partnership=partnership)
    closed = cases_closed(period=period, partnership=partnership)
    counts = referral_totals(received)
    closed_count, wellbeing = _closed_and_wellbeing(closed)
    money = money_totals(closed)
    return PartnershipSummary(
        totals=Totals(
            received=counts.received,
            accepted=counts.accepted,
            decided=counts.decided,
            contacted=counts.contacted,
            median_days_to_first_contact=_median_days_to_first_contact(received, counts.contacted),
            closed=closed_count,
        ),
        breakdowns=referral_breakdowns(received, partnership=partnership),
        months=_months(received, closed, period),
        caseload=open_caseload(partnership=partnership, period=period),
        decisions=tuple(decision_success(closed)),
        money=money,
        value_for_money=value_for_money(
            confirmed=money.confirmed.total,
            received=counts.received,
            support=support_in_period(partnership=partnership, period=period),
        ),
        wellbeing=wellbeing,
        onward=_onward(onward_referrals_made(period=period, partnership=partnership)),
        patient_reported=_patient_reported(closed),
        by_decile=_by_decile(received, closed),
    )


def _by_decile(received: QuerySet[Referral], closed: QuerySet[Case]) -> tuple[DecileOutcomes, ...]:
    """Per decile of the patient: referrals received; cases closed, those with money gained or a decision won, and
    the confirmed money and the cases it was gained on."""
    decile = "referral__patient__deprivation_decile"
    referrals = _counts(received, "patient__deprivation_decile")
    counted = FinancialOutcome.objects.counted()
    positive = Q(Exists(counted.filter(issue__case=OuterRef("pk")).annotate(gain=GAIN).filter(gain__gt=0))) | Q(
        Exists(DecisionOutcome.objects.counted().filter(DECISION_WON, issue__case=OuterRef("pk")))
    )
    cases = {
        row[decile]: row
        for row in closed.values(decile).annotate(n=Count("pk"), positive=Count("pk", filter=positive)).order_by()
    }
    money = {
        row["issue__case__referral__patient__deprivation_decile"]: row
        for row in counted.filter(issue__case__in=closed, confirmed=True)
        .values("issue__case__referral__patient__deprivation_decile")
        .annotate(amount=Sum(GAIN), cases=Count("issue__case", distinct=True))
        .order_by()
    }
    return tuple(
        DecileOutcomes(
            decile=label,
            referrals=referrals.get(key, 0),
            closed=cases.get(key, {}).get("n", 0),
            positive=cases.get(key, {}).get("positive", 0),
            money=pennies(money.get(key, {}).get("amount") or ZERO),
            money_cases=money.get(key, {}).get("cases", 0),
        )
        for label, key in [*((str(d), d) for d in DEPRIVATION_DECILES), (NOT_KNOWN, None)]
    )


def _onward(made) -> tuple:
    """Onward referrals by provider and result, counted from the onward referrals and their handovers."""
    counts = Counter(
        (provider_id, onward_result(state, outcome))
        for provider_id, state, outcome in made.values_list("provider_id", "handover__state", "handover__outcome")
    )
    return onward_rows(dict(counts))


def raw_digest_figures(*, organisation: Organisation, period: Period) -> DigestFigures:
    """One referring organisation's figures for a period (exact: the digest applies outcomes.disclosure)."""
    received = referrals_received(period=period, referring_organisation=organisation)
    closed = cases_closed(period=period, referring_organisation=organisation)
    # Outcomes are reported back only where the patient agreed (consent scope 3, still given when composed). A
    # case closed on a withdrawal of all consent still counts, as on the dashboard and in the funder report
    # (tests/outcomes/test_figures_agree.py): erasure keeps the aggregate facts, and the digest says nothing of
    # any one patient.
    sharing = closed.filter(referral__consent__outcome_feedback=True)
    totals = referral_totals(received)
    all_stages = decision_success(sharing)[-1]
    return DigestFigures(
        made=totals.received,
        accepted=totals.accepted,
        closed=closed.count(),
        money=money_totals(sharing),
        decided=all_stages.decided,
        won=all_stages.successful,
    )
