"""No count from 1 to 4 can be recovered by subtraction from what funders and referrers are shown (Hypothesis).

Each example builds a partnership of two practices whose referrals (and their cases, decisions, money and
wellbeing scores) fall across the months of one financial year, then publishes everything a funder can ask
for (the report of the year, of each quarter and of each month, every table, as the CSV has it) and every
digest figure (each practice, each month, with its twelve months and year to date, and the twelve months by
team). An adversary then tries:
(c) every published count on its own; (a) within a table, its total minus the other cells; (b) across nested
periods, a year minus its quarters and a quarter minus its months (one period, or the sum of the others), and
a year to date minus the one before. For each derivation, the exact values consistent with the published
figures must include one outside 1 to 4 whenever the true value is from 1 to 4."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.models import CaseState, ClosureReason
from hjp.accounts.models import Profession
from outcomes import disclosure, running_figures
from outcomes.periods import MONTH, YEAR, FixedPeriod, rolling_twelve_months, year_to_date
from outcomes.report import COUNT, DEPRIVATION_SECTION, funder_report_rows
from outcomes.selectors.dashboard import partnership_summary
from outcomes.selectors.digest import digest_figures
from outcomes.services import digest_teams
from referrals.models import ReferralStatus, Setting
from tests import factories

S = ReferralStatus
FINANCIAL_YEAR = 2025  # April 2025 to March 2026
NOT_ADDITIVE = {("Casework", "Cases open at the end of the period")}  # a stock at the period's end, not a flow
# The tables whose cells add up to a published total: (section of the cells, (section, measure) of the total).
RECEIVED = ("Referrals received in the period", "Referrals received")
TABLE_TOTALS = {
    "Referrals by referring organisation": RECEIVED,
    "Referrals by team or ward": RECEIVED,
    "Referrals by referrer's profession": RECEIVED,
    "Referrals by setting": RECEIVED,
    "Referrals by deprivation decile (1 = most deprived)": RECEIVED,
    DEPRIVATION_SECTION: ("Casework", "Cases closed in the period"),
}
DECISIONS = "Claims and appeals decided (cases closed in the period)"
OWN_WELLBEING = "Wellbeing in the patients' own answers (SWEMWBS, cases closed in the period)"
EXPERIENCE = "The patients' experience survey (cases closed in the period)"


# --- the adversary -------------------------------------------------------------------------------------------


def _derivable(target: range, relation: list[tuple[int, range]]) -> set[int]:
    """The values of `target` consistent with `target = sum(sign * term)` over `relation` (each term known only
    as a range), with its own published range, and with a count never being negative."""
    low = sum(r.start if sign > 0 else -(r.stop - 1) for sign, r in relation)
    high = sum(r.stop - 1 if sign > 0 else -r.start for sign, r in relation)
    return {v for v in target if low <= v <= high and v >= 0}


def _pinned_small(values: set[int]) -> bool:
    return bool(values) and all(1 <= v <= 4 for v in values)


def _attack(true: int, own: range, relation: list[tuple[int, range]], what: str, problems: list):
    if 1 <= true <= 4 and _pinned_small(_derivable(own, relation)):
        problems.append(f"{what}: exact {true}, derivable {sorted(_derivable(own, relation))}")


def _sum_of(ranges: list[range]) -> range:
    return range(sum(r.start for r in ranges), sum(r.stop - 1 for r in ranges) + 1)


def find_small_counts(published: dict, exact: dict, families: list[tuple[str, list[str]]], tables) -> list[str]:
    """Every subtraction the adversary tries. `published[key][measure]` is a published count's text and
    `exact[key][measure]` the truth; `families` pairs a period with the periods that make it up; `tables`
    pairs the cells of a table with its total, for every period."""
    problems: list[str] = []
    known = {
        key: {m: disclosure.published_range(text) for m, text in figures.items()} for key, figures in published.items()
    }
    for key, figures in exact.items():  # (c) every published figure on its own
        for measure, true in figures.items():
            if 1 <= true <= 4 and _pinned_small(set(known[key][measure])):
                problems.append(f"{key} {measure}: published {published[key][measure]}")
    for key in exact:  # (a) a table's total minus its other cells
        for row_keys, total in tables:
            if total not in exact[key]:
                continue
            for m in row_keys:
                relation = [(1, known[key][total])] + [(-1, known[key][o]) for o in row_keys if o != m]
                _attack(exact[key][m], known[key][m], relation, f"{key} {m} = total - others", problems)
    for parent, parts in families:  # (b) a period minus the periods it is made of
        for measure in exact[parent]:
            if measure in NOT_ADDITIVE:
                continue
            for part in parts:
                others = [p for p in parts if p != part]
                relation = [(1, known[parent][measure])] + [(-1, known[p][measure]) for p in others]
                _attack(exact[part][measure], known[part][measure], relation, f"{part} {measure}", problems)
                rest = _sum_of([known[p][measure] for p in others])
                _attack(
                    sum(exact[p][measure] for p in others),
                    rest,
                    [(1, known[parent][measure]), (-1, known[part][measure])],
                    f"{parent} minus {part}, {measure}",
                    problems,
                )
    return problems


def test_the_adversary_recovers_what_the_old_rule_gave_away():
    """The check can fail: under the old rule (1 to 4 shown as 'fewer than 5', the rest exact) St Luke's = 23 - 22."""
    published = {"p": {("t", "St Luke's"): "fewer than 10", ("t", "Riverside"): "22", ("total", "all"): "23"}}
    exact = {"p": {("t", "St Luke's"): 1, ("t", "Riverside"): 22, ("total", "all"): 23}}
    exact_ranges = {"22": range(22, 23), "23": range(23, 24), "fewer than 10": range(1, 5)}
    original = disclosure.published_range
    disclosure.published_range = exact_ranges.__getitem__
    try:
        assert find_small_counts(published, exact, [], [([("t", "St Luke's"), ("t", "Riverside")], ("total", "all"))])
    finally:
        disclosure.published_range = original
    # The method itself: 23 is published as 25 and 22 as 20, so St Luke's could be anything from 0 to 9.
    rounded = {"p": {m: disclosure.count_text(n) for m, n in exact["p"].items()}}
    assert find_small_counts(rounded, exact, [], [([("t", "St Luke's"), ("t", "Riverside")], ("total", "all"))]) == []


# --- the partnerships Hypothesis makes -----------------------------------------------------------------------

TEAMS = ("Ward A", "Ward B")  # every referral names one, so the digest's "No team recorded" row never shows
TEAM_TABLE = ([("team", name) for name in TEAMS], ("twelve months", "made"))
OUTCOMES = ["waiting", "declined", "open", "won", "refused", "won_and_money"]
referral_specs = st.lists(
    st.tuples(
        st.integers(0, 1),  # which practice
        st.integers(0, 11),  # months after April 2025
        st.integers(1, 27),  # day of the month
        st.sampled_from([Profession.GP, Profession.NURSE]),
        st.sampled_from([Setting.PRIMARY_CARE, Setting.COMMUNITY]),
        st.sampled_from([None, 1, 5]),
        st.sampled_from(OUTCOMES),
    ),
    min_size=1,
    max_size=36,
)


def _build(specs):
    practices = [factories.OrganisationFactory(name="Riverside Surgery"), factories.OrganisationFactory(name="Hilltop")]
    partnership = factories.PartnershipFactory(health_organisations=practices, start_date=datetime(2025, 4, 1).date())
    advisor = factories.advisor(partnership.advice_organisation)
    referrers = [factories.referrer(practice) for practice in practices]
    teams = [[factories.TeamFactory(organisation=practice, name=name) for name in TEAMS] for practice in practices]
    for practice, months, day, profession, setting, decile, outcome in specs:
        month = 4 + months
        submitted = datetime(2025 + (month > 12), (month - 1) % 12 + 1, day, 10, tzinfo=UTC)
        status = {"waiting": S.SUBMITTED, "declined": S.DECLINED, "open": S.IN_PROGRESS}.get(outcome, S.CLOSED)
        referral = factories.ReferralFactory(
            partnership=partnership,
            referring_organisation=practices[practice],
            referrer=referrers[practice],
            submitted_at=submitted,
            status=status,
            referrer_profession=profession,
            setting=setting,
            patient__deprivation_decile=decile,
            referring_team=teams[practice][day % len(TEAMS)],
        )
        if outcome in ("waiting", "declined"):
            continue
        closed = None if outcome == "open" else min(submitted + timedelta(days=20), datetime(2026, 3, 30, tzinfo=UTC))
        case = factories.CaseFactory(
            referral=referral,
            advisor=advisor,
            opened_at=submitted,
            first_contact_at=submitted + timedelta(days=1),
            state=CaseState.CLOSED if closed else CaseState.IN_PROGRESS,
            closed_at=closed,
            closure_reason=ClosureReason.WORK_COMPLETED if closed else "",
        )
        if closed:
            issue = factories.CaseIssueFactory(case=case)
            factories.DecisionOutcomeFactory(issue=issue, result="refused" if outcome == "refused" else "awarded")
            if outcome == "won_and_money":
                factories.FinancialOutcomeFactory(issue=issue)
            factories.WellbeingScoreFactory(case=case, moment="start", score=12)
            factories.WellbeingScoreFactory(case=case, moment="close", score=20)
    return partnership, practices


def _funder_reports(partnership):
    """Every report a funder can ask for in the year, as published and as it truly is, keyed by period."""
    year = FixedPeriod(YEAR, FINANCIAL_YEAR)
    periods = [year, *year.parts(), *(month for quarter in year.parts() for month in quarter.parts())]
    published, exact = {}, {}
    for period in periods:
        summary = partnership_summary(partnership=partnership, period=period.period)
        rows = [row for row in funder_report_rows(summary) if row.unit == COUNT]
        published[period.key] = {(row.section, row.measure): row.display for row in rows}
        exact[period.key] = _exact_counts(summary)
        assert exact[period.key].keys() == published[period.key].keys()
    families = [(year.key, [q.key for q in year.parts()])] + [
        (quarter.key, [m.key for m in quarter.parts()]) for quarter in year.parts()
    ]
    return published, exact, families


def _exact_counts(summary) -> dict:
    """The true value behind each count row of the funder report (same order and names)."""
    totals, money, wellbeing = summary.totals, summary.money, summary.wellbeing
    counts = {
        RECEIVED: totals.received,
        ("Referrals received in the period", "Referrals decided (accepted, declined or redirected)"): totals.decided,
        ("Referrals received in the period", "Referrals accepted"): totals.accepted,
        ("Casework", "Cases closed in the period"): totals.closed,
        ("Casework", "Cases open at the end of the period"): summary.open_cases,
        ("Money gained (cases closed in the period)", "Confirmed: cases"): money.confirmed.cases,
        ("Money gained (cases closed in the period)", "Expected: cases"): money.expected.cases,
        ("Wellbeing (SWEMWBS, cases closed in the period)", "Cases scored at start and close"): wellbeing.cases,
    }
    for breakdown in summary.breakdowns:
        counts |= {(f"Referrals by {breakdown.title}", row.label): row.n for row in breakdown.rows}
    for decile in summary.by_decile:
        name = decile.decile if decile.decile == "Not known" else f"Decile {decile.decile}"
        counts[(DEPRIVATION_SECTION, f"{name}: cases closed")] = decile.closed
    for stage in summary.decisions:
        counts[(DECISIONS, f"{stage.stage}: decisions")] = stage.decided
        counts[(DECISIONS, f"{stage.stage}: won")] = stage.successful
    own = summary.patient_reported
    counts[(OWN_WELLBEING, "Cases with both of the patient's own scores")] = own.wellbeing.cases
    for question in own.experience:
        counts[(EXPERIENCE, f"{question.question} Answered")] = question.answered
        counts |= {(EXPERIENCE, f"{question.question} {label}"): n for label, n in question.answers}
    return counts


def _experience_tables(exact_keys):
    """Each question of the patients' experience survey: its answers add up to those who answered."""
    tables = []
    for total in [m for m in exact_keys if m[0] == EXPERIENCE and m[1].endswith(" Answered")]:
        question = total[1].removesuffix(" Answered")
        cells = [m for m in exact_keys if m[0] == EXPERIENCE and m[1].startswith(f"{question} ") and m != total]
        tables.append((cells, total))
    return tables


def _decision_tables(exact_keys):
    """Decisions and wins by stage add up to all stages: two more tables with their totals."""
    tables = []
    for kind in ("decisions", "won"):
        total = (DECISIONS, f"All claims and appeals: {kind}")
        cells = [m for m in exact_keys if m[0] == DECISIONS and m[1].endswith(f": {kind}") and m != total]
        tables.append((cells, total))
    return tables


def _digests(practices):
    """Every digest figure of each practice for each month of the year, with the year to date's; and the
    relations between them (a year to date is the one before plus its month)."""
    published, exact, families = {}, {}, []
    running_figures.refresh_pending()  # as the digest's delivery does before it composes
    for practice in practices:
        for months in range(12):
            month = 4 + months
            year, number = 2025 + (month > 12), (month - 1) % 12 + 1
            for name, span in (("month", FixedPeriod(MONTH, year, number).period), ("ytd", year_to_date(year, number))):
                figures = digest_figures(organisation=practice, period=span)
                key = f"digest {practice.name} {name} {year}-{number:02d}"
                values = {
                    ("digest", "made"): figures.made,
                    ("digest", "accepted"): figures.accepted,
                    ("digest", "closed"): figures.closed,
                    ("digest", "decided"): figures.decided,
                    ("digest", "won"): figures.won,
                }
                exact[key] = values
                published[key] = {m: disclosure.count_text(n) for m, n in values.items()}
            # The digest's twelve months by team, beside the twelve months' referrals made: a table and its total.
            twelve = digest_figures(organisation=practice, period=rolling_twelve_months(year, number))
            teams = {team.name: team.made for team in digest_teams(organisation=practice, year=year, month=number)}
            key = f"digest {practice.name} teams {year}-{number:02d}"
            exact[key] = {("twelve months", "made"): twelve.made} | {("team", name): teams[name] for name in TEAMS}
            published[key] = {m: disclosure.count_text(n) for m, n in exact[key].items()}
            if months:
                previous = 4 + months - 1
                previous_key = f"digest {practice.name} ytd {2025 + (previous > 12)}-{(previous - 1) % 12 + 1:02d}"
                this = f"{year}-{number:02d}"
                families.append(
                    (f"digest {practice.name} ytd {this}", [previous_key, f"digest {practice.name} month {this}"])
                )
    return published, exact, families


@pytest.mark.django_db
@settings(
    max_examples=20,  # about a minute on a shared two-core machine: each example publishes 17 reports and 240 digest figures
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(specs=referral_specs)
def test_no_count_from_1_to_4_can_be_recovered_by_subtraction(specs):
    with transaction.atomic():
        partnership, practices = _build(specs)
        published, exact, families = _funder_reports(partnership)
        measures = list(next(iter(exact.values())))
        tables = (
            [([m for m in measures if m[0] == cells], total) for cells, total in TABLE_TOTALS.items()]
            + _decision_tables(measures)
            + _experience_tables(measures)
        )
        problems = find_small_counts(published, exact, families, tables)
        digest_published, digest_exact, digest_families = _digests(practices)
        problems += find_small_counts(digest_published, digest_exact, digest_families, [TEAM_TABLE])
        transaction.set_rollback(True)
    assert problems == []
