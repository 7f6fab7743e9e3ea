"""The figures the dashboard, the funder report and its CSV read are running totals (outcomes.running_figures).
Here a seeded random history, taken through the real services over eighteen months, must leave running totals
that are identical to those rebuilt from scratch, and dashboard figures identical to those worked out from the
raw tables (tests/outcomes/raw_figures.py), for every month, quarter and financial year; two refreshes of one
referral at the same moment must leave the right totals; and `rebuild_figures` must work from the command line."""

import contextlib
import io
import random
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from casework import services as casework_services
from casework.models import Case, CaseState, ClosureReason
from hjp.accounts.models import Partnership, Profession
from hjp.core.errors import DomainError
from outcomes import corrections, periods, running_figures, services
from outcomes.models import (
    CaseloadCell,
    DecisionOutcome,
    FigureCell,
    FiguresPending,
    FinancialOutcome,
    ReferralContribution,
)
from outcomes.selectors.dashboard import partnership_summary
from outcomes.selectors.digest import digest_figures
from referrals import services as referral_services
from referrals.models import (
    ConsentChange,
    ConsentScope,
    DeclineReason,
    Handover,
    HandoverOutcome,
    Referral,
    ReferralStatus,
    Setting,
)
from referrals.services.retention import anonymise_expired_records
from tests import factories
from tests.outcomes.raw_figures import raw_digest_figures, raw_partnership_summary

S = ReferralStatus
START = datetime(2025, 1, 6, 9, tzinfo=UTC)


class History:
    """Two partnerships (the second so that nothing leaks between them); referrals from two practices of the
    partnership, one with wards, and a clinic outside it with a team; two advisors and a supervisor. Every step is one real service call at a moment a whole number of hours
    after the last (so the waits to first contact are whole hours, as the median's histogram counts them)."""

    def __init__(self, rng: random.Random, time_machine):
        self.rng, self.time_machine, self.now = rng, time_machine, START
        self.time_machine.move_to(self.now, tick=False)
        self.riverside = factories.OrganisationFactory(name="Riverside Surgery")
        self.hilltop = factories.OrganisationFactory(name="Hilltop Practice")
        self.wards = [factories.TeamFactory(organisation=self.hilltop, name=f"Ward {n}") for n in (1, 2)]
        # Not one of the partnership's: listed only in the periods it referred in.
        self.outside = factories.OrganisationFactory(name="Outside Clinic")
        self.outside_team = factories.TeamFactory(organisation=self.outside, name="Clinic team")
        self.partnership = factories.PartnershipFactory(
            name="Walked HJP", health_organisations=[self.riverside, self.hilltop], retention_years=1
        )
        self.other = factories.PartnershipFactory(name="Other HJP")
        advice = self.partnership.advice_organisation
        self.advisors = [factories.advisor(advice), factories.advisor(advice)]
        self.supervisor = factories.advisor(advice, supervisor=True)
        self.referrers = {org: factories.referrer(org) for org in (self.riverside, self.hilltop, self.outside)}
        self.provider = factories.AdviceProviderFactory(advice_organisation=advice)
        # Onward referrals handed over: to a partner in hjp (which answers and closes) and to one outside it.
        self.partner = factories.AdviceOrganisationFactory(name="Partner Law Centre")
        self.partner_advisor = factories.advisor(self.partner)
        self.partner_provider = factories.AdviceProviderFactory(
            advice_organisation=advice, name="Partner Law Centre", partner_organisation=self.partner
        )
        self.outside_provider = factories.AdviceProviderFactory(advice_organisation=advice, name="Outside Law Centre")

    def tick(self):
        self.now += timedelta(hours=self.rng.randint(1, 60))
        self.time_machine.move_to(self.now, tick=False)

    def pick(self, queryset):
        found = list(queryset.order_by("pk"))
        return self.rng.choice(found) if found else None

    def cases(self, **filters):
        return Case.objects.filter(referral__partnership=self.partnership, **filters)

    # --- the steps ---------------------------------------------------------------------------------------

    def submit(self):
        rng = self.rng
        organisation = rng.choice([self.riverside, self.hilltop, self.hilltop, self.outside])
        teams = {self.hilltop: self.wards, self.outside: [self.outside_team]}.get(organisation, [])
        factories.ReferralFactory(
            partnership=rng.choice([self.partnership] * 9 + [self.other]),
            referring_organisation=organisation,
            referring_team=rng.choice([None, *teams]),
            referrer=self.referrers[organisation],
            referrer_profession=rng.choice(list(Profession)),
            setting=rng.choice([*Setting, ""]),
            patient__deprivation_decile=rng.choice([None, *range(1, 11)]),
            submitted_at=timezone.now(),
        )

    def triage(self):
        referral = self.pick(Referral.objects.filter(partnership=self.partnership, status=S.SUBMITTED))
        if referral is None:
            return
        advisor, choice = self.rng.choice(self.advisors), self.rng.random()
        if choice < 0.6:
            casework_services.referral_accept(referral=referral, actor=advisor, advisor=advisor)
        elif choice < 0.8:
            casework_services.referral_decline(
                referral=referral, actor=advisor, reason=self.rng.choice(list(DeclineReason)), explanation="Not ours."
            )
        elif choice < 0.9:
            provider = self.rng.choice([self.provider, self.partner_provider, self.outside_provider])
            casework_services.referral_redirect(
                referral=referral, actor=advisor, provider=provider, note="Them.", share=self.share(provider)
            )
        else:
            to_status = self.rng.choice([S.CANCELLED, S.ENTERED_IN_ERROR])
            referral_services.referral_transition(
                referral=referral, to_status=to_status, actor=referral.referrer, reason="Changed my mind"
            )

    def first_contact(self):
        case = self.pick(self.cases(first_contact_at__isnull=True, closed_at__isnull=True))
        if case:
            casework_services.case_note_add(
                case=case,
                actor=case.advisor,
                kind="call",
                text="Spoke.",
                occurred_at=timezone.now(),
                first_contact=True,
            )

    def outcome(self):
        case = self.pick(self.cases(closed_at__isnull=True))
        if case is None:
            return
        issue, rng = case.issues.first() or factories.CaseIssueFactory(case=case), self.rng
        if rng.random() < 0.5:
            services.decision_outcome_add(
                case=case,
                issue=issue,
                actor=case.advisor,
                stage=rng.choice(["initial_claim", "mandatory_reconsideration", "tribunal_appeal"]),
                result=rng.choice(["awarded", "increased", "refused", "withdrawn"]),
            )
        else:
            recurring = rng.choice([None, Decimal(rng.randint(100, 40000)) / 100])
            services.financial_outcome_add(
                case=case,
                issue=issue,
                actor=case.advisor,
                kind="new_or_increased_award",
                recurring_amount=recurring,
                recurring_period=rng.choice(["weekly", "four_weekly", "monthly"]) if recurring else "",
                one_off_amount=Decimal(rng.randint(0 if recurring else 1, 300000)) / 100,
                confirmed=rng.random() < 0.7,
            )

    def wellbeing(self):
        case = self.pick(self.cases(closed_at__isnull=True))
        if case:
            services.wellbeing_record(
                case=case,
                actor=case.advisor,
                moment=self.rng.choice(["start", "close"]),
                items=[self.rng.randint(1, 5) for _ in range(7)],
            )

    def close(self):
        case = self.pick(self.cases(closed_at__isnull=True, first_contact_at__isnull=False))
        if case:
            services.case_close_with_outcomes(
                case=case,
                actor=case.advisor,
                version=case.version,
                closure_reason=ClosureReason.WORK_COMPLETED,
                no_outcome_reason="" if services.case_has_outcomes(case) else "advice_only",
            )

    def reopen(self):
        case = self.pick(self.cases(state=CaseState.CLOSED).exclude(closure_reason=ClosureReason.CONSENT_WITHDRAWN))
        if case:
            casework_services.case_reopen(case=case, actor=self.supervisor, version=case.version, reason="More to do")

    def reallocate(self):
        case = self.pick(self.cases(closed_at__isnull=True))
        if case:
            advisor = next(a for a in self.advisors if a.pk != case.advisor_id)
            casework_services.case_reallocate(case=case, actor=self.supervisor, version=case.version, advisor=advisor)

    def correct(self):
        model = self.rng.choice([FinancialOutcome, DecisionOutcome])
        outcome = self.pick(
            model.objects.counted().filter(
                issue__case__referral__partnership=self.partnership, issue__case__closed_at__isnull=False
            )
        )
        if outcome is None:
            return
        if self.rng.random() < 0.3:
            corrections.outcome_mark_entered_in_error(
                outcome=outcome, actor=self.supervisor, version=outcome.version, reason="Wrong case"
            )
        elif model is FinancialOutcome:
            corrections.outcome_update(
                outcome=outcome,
                actor=self.supervisor,
                version=outcome.version,
                one_off_amount=outcome.one_off_amount + Decimal("12.34"),
                confirmed=not outcome.confirmed,
            )
        else:
            result = "refused" if outcome.result != "refused" else "awarded"
            corrections.outcome_update(outcome=outcome, actor=self.supervisor, version=outcome.version, result=result)

    def share(self, provider):
        """The patient's consent to share with the provider, but for the provider named only."""
        if provider == self.provider:
            return None
        return casework_services.ShareConsent(given_by="patient", method="phone", said_at=timezone.now())

    def onward(self):
        case = self.pick(self.cases(closed_at__isnull=True))
        if case:
            provider = self.rng.choice([self.provider, self.partner_provider, self.outside_provider])
            casework_services.onward_referral_make(
                case=case, actor=case.advisor, provider=provider, note="Specialist help.", share=self.share(provider)
            )

    def partner_answer(self):
        handover = self.pick(
            Handover.objects.filter(referral__partnership=self.partnership, state__in=["sent", "accepted"])
        )
        if handover is None:
            return
        actor = self.partner_advisor if handover.is_inside else handover.made_by
        outcome = self.rng.choice(list(HandoverOutcome))
        if handover.state == "accepted" or (not handover.is_inside and self.rng.random() < 0.5):
            referral_services.handover_close(handover=handover, actor=actor, outcome=outcome, note="Done.")
        else:
            accept = self.rng.random() < 0.7
            referral_services.handover_decide(
                handover=handover, actor=actor, accept=accept, note="" if accept else "Full."
            )

    def withdraw_consent(self):
        referral = self.pick(
            Referral.objects.filter(
                partnership=self.partnership, status__in=[S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.REDIRECTED]
            )
        )
        if referral:
            referral_services.consent_withdraw(referral=referral, actor=referral.referrer)

    def feedback_consent(self):
        referral = self.pick(Referral.objects.filter(partnership=self.partnership, consent__withdrawn_at__isnull=True))
        if referral:
            referral_services.consent_scope_change(
                referral=referral,
                actor=referral.referrer,
                scope=ConsentScope.OUTCOME_FEEDBACK,
                given=not referral.consent.outcome_feedback,
                method=ConsentChange.Method.PHONE,
                said_at=timezone.now(),
            )

    STEPS = [
        (submit, 8),
        (triage, 6),
        (first_contact, 4),
        (outcome, 5),
        (wellbeing, 2),
        (close, 4),
        (reopen, 1),
        (reallocate, 1),
        (correct, 2),
        (withdraw_consent, 1),
        (feedback_consent, 1),
        (onward, 2),
        (partner_answer, 3),
    ]

    def walk(self, steps: int):
        for _ in range(steps):
            self.tick()
            step = self.rng.choices([s for s, _ in self.STEPS], weights=[w for _, w in self.STEPS])[0]
            with contextlib.suppress(DomainError):  # a step the services refuse (a rule of the product) changes nothing
                step(self)
            # Mostly as the task would after each commit; sometimes left pending for the dashboard to count.
            if self.rng.random() < 0.7:
                running_figures.refresh_pending()


def every_period(history) -> list:
    """Every month, financial quarter and financial year the history touched."""
    offered = periods.offered_periods(since=START.date(), today=timezone.localdate(), current=True)
    return [fixed.period for kind in offered.values() for fixed in kind]


def cells() -> dict:
    """The running totals, less those that came back to zero."""
    return {
        **{
            (c.partnership_id, c.month, c.measure, c.key): (c.n, c.amount)
            for c in FigureCell.objects.all()
            if c.n or c.amount
        },
        **{("load", c.partnership_id, c.advisor_id, c.month): c.n for c in CaseloadCell.objects.all() if c.n},
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_a_random_history_gives_the_same_figures_incrementally_rebuilt_and_from_the_raw_tables(db, time_machine, seed):
    history = History(random.Random(seed), time_machine)
    history.walk(160)
    # Retention anonymises every finished referral (the partnership keeps a year): the figures stay.
    anonymise_expired_records(now=history.now + timedelta(days=800))
    history.walk(40)
    assert Case.objects.filter(closed_at__isnull=False).count() >= 5  # the walk went far enough to mean something

    incremental_periods = every_period(history)
    assert len(incremental_periods) > 10
    incremental = [partnership_summary(partnership=history.partnership, period=p) for p in incremental_periods]
    assert not FiguresPending.objects.filter(partnership_id=history.partnership.pk).exists()
    incremental_cells = cells()

    services.figures_rebuild()
    assert cells() == incremental_cells
    for period, summary in zip(incremental_periods, incremental, strict=True):
        assert partnership_summary(partnership=history.partnership, period=period) == summary, period
        assert raw_partnership_summary(partnership=history.partnership, period=period) == summary, period
    # Each referring organisation's digest, as the raw tables give it.
    for period in incremental_periods:
        for organisation in (history.riverside, history.hilltop, history.outside):
            assert digest_figures(organisation=organisation, period=period) == raw_digest_figures(
                organisation=organisation, period=period
            ), (organisation, period)
    # What the walk built shows on the page too: something was received, decided and closed.
    year = partnership_summary(partnership=history.partnership, period=periods.FixedPeriod(periods.YEAR, 2025).period)
    assert year.totals.received and year.totals.decided and year.totals.closed
    # Onward referrals, some handed over and answered: what became of them is counted by provider.
    onward = {row.provider: row for summary in incremental for row in summary.onward}
    assert any(sum(row.results[1:]) for row in onward.values())  # handed over
    # and answered by the partner (the figures of which the comparisons above held equal)
    assert Handover.objects.filter(referral__partnership=history.partnership).exclude(state="sent").exists()


def test_rebuilding_one_partnership_leaves_the_others_alone(db, time_machine):
    history = History(random.Random(3), time_machine)
    history.walk(60)
    running_figures.refresh_pending()
    before = cells()
    FigureCell.objects.filter(partnership_id=history.partnership.pk).update(n=999)
    out = io.StringIO()
    call_command("rebuild_figures", "--partnership", str(history.partnership.pk), stdout=out)
    assert cells() == before
    assert "Figures rebuilt from" in out.getvalue()


def test_the_rebuild_command_refuses_an_unknown_partnership(db):
    with pytest.raises(CommandError, match="no partnership 999999"):
        call_command("rebuild_figures", "--partnership", "999999")


def test_the_dashboard_counts_a_change_the_task_has_not_counted_yet(db, time_machine):
    history = History(random.Random(4), time_machine)
    history.walk(30)
    running_figures.refresh_pending()
    period = periods.FixedPeriod(periods.YEAR, 2024).period
    received = partnership_summary(partnership=history.partnership, period=period).totals.received
    history.submit()
    history.submit()
    pending = (
        FiguresPending.objects.filter(partnership_id=history.partnership.pk).values("referral_id").distinct().count()
    )
    summary = partnership_summary(partnership=history.partnership, period=period)
    assert summary.totals.received == received + pending
    assert summary == raw_partnership_summary(partnership=history.partnership, period=period)


@pytest.mark.django_db(transaction=True)
def test_the_task_counts_each_change_after_it_commits():
    referral = factories.ReferralFactory(submitted_at=timezone.now())
    # Committed: the receiver marked it, and the task (in-process in the tests) counted it after the commit.
    assert not FiguresPending.objects.exists()
    assert FigureCell.objects.get(partnership_id=referral.partnership_id, measure=running_figures.RECEIVED).n == 1


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_of_one_referral_at_the_same_moment_leave_the_right_totals():
    referral = factories.ReferralFactory(submitted_at=timezone.now())
    case = factories.CaseFactory(
        referral=referral,
        first_contact_at=timezone.now(),
        state=CaseState.CLOSED,
        closed_at=timezone.now(),
        closure_reason=ClosureReason.WORK_COMPLETED,
    )
    factories.FinancialOutcomeFactory(issue=factories.CaseIssueFactory(case=case), one_off_amount=Decimal("10.00"))
    # Forget what was counted, so that each refresh, alone, would add the referral's whole contribution.
    FigureCell.objects.all().delete()
    CaseloadCell.objects.all().delete()
    assert ReferralContribution.objects.filter(referral_id=referral.pk).update(facts={}) == 1
    start, errors = threading.Barrier(2), []

    def refresh():
        try:
            start.wait()
            running_figures.refresh([referral.pk])
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rebuilt_from_one_count = cells()
    services.figures_rebuild()
    assert rebuilt_from_one_count == cells()
    month = timezone.localdate().replace(day=1)
    cell = FigureCell.objects.get(partnership_id=referral.partnership_id, month=month, measure=running_figures.RECEIVED)
    assert cell.n == 1


def without_median(summary):
    return replace(summary, totals=replace(summary.totals, median_days_to_first_contact=None))


def test_a_bulk_load_is_counted_by_the_rebuild_it_ends_with(db, settings):
    """seed_scale writes with bulk inserts, which no receiver sees, then rebuilds: the figures are those of the
    raw tables (the median apart: its waits are not whole hours, and the running totals round them)."""
    settings.DEBUG = True
    call_command("seed_scale", "--referrals", "120", "--years", "2", stdout=io.StringIO())
    assert not FiguresPending.objects.exists()
    today = timezone.localdate()
    for partnership in Partnership.objects.filter(referrals__isnull=False).distinct():
        for year in (periods.financial_year_of(today) - 1, periods.financial_year_of(today)):
            period = periods.FixedPeriod(periods.YEAR, year).period
            summary = partnership_summary(partnership=partnership, period=period)
            assert without_median(summary) == without_median(
                raw_partnership_summary(partnership=partnership, period=period)
            )
            assert summary.totals.received


def test_an_organisation_whose_only_referral_was_entered_in_error_is_not_listed(db, time_machine):
    """Its cells come back to zero; a breakdown lists an organisation outside the partnership (and its team) only
    when it referred in the period, as the raw tables say."""
    history = History(random.Random(5), time_machine)
    history.submit()
    referral = factories.ReferralFactory(
        partnership=history.partnership,
        referring_organisation=history.outside,
        referring_team=history.outside_team,
        referrer=history.referrers[history.outside],
        submitted_at=timezone.now(),
    )
    running_figures.refresh_pending()
    referral_services.referral_transition(
        referral=referral, to_status=S.ENTERED_IN_ERROR, actor=referral.referrer, reason="Wrong patient"
    )
    period = periods.FixedPeriod(periods.MONTH, START.year, START.month).period
    summary = partnership_summary(partnership=history.partnership, period=period)
    assert summary == raw_partnership_summary(partnership=history.partnership, period=period)
    organisations = [row.label for row in summary.breakdowns[0].rows]
    assert organisations == ["Hilltop Practice", "Riverside Surgery"]
