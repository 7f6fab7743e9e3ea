"""The running totals under concurrent writes, on the real PostgreSQL with one connection per thread: a change
that commits just after a refresh read the pending marks is still counted; a withdrawal of consent and an
advisor's edit of the same case both go through; a refresh waits for a rebuild under way instead of counting a
change twice; a digest brings the figures up to date without holding any message row. And the writes that move
a figure without a save of the row it reads (a team deleted, a case or an outcome moved to another referral)
mark the referrals they move."""

import threading
import time

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from casework import services as casework_services
from casework.models import Case, CaseState, ClosureReason
from hjp.notifications.models import Message, MessageKind
from hjp.notifications.services import message_queue
from outcomes import running_figures, services
from outcomes.models import FigureCell, FiguresPending, FinancialOutcome, ReferralContribution
from outcomes.selectors.digest import digest_figures
from outcomes.selectors.figures import Period
from referrals import services as referral_services
from tests import factories
from tests.outcomes.test_running_figures import cells


def counted_from_scratch() -> dict:
    """The running totals as a rebuild from the raw tables leaves them."""
    services.figures_rebuild()
    return cells()


def wait_until(condition) -> None:
    """Poll the condition (a thread blocked, or finished) for up to half a minute: the tests below need one
    thread to be at a known point before another goes on. Never a timed assertion: a slow machine only waits."""
    for _ in range(600):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("the other thread never got there")


def a_session_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction, the activity is read once
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


class Worker(threading.Thread):
    """A thread with a connection of its own, that keeps what it raised."""

    def __init__(self, work):
        super().__init__()
        self.work, self.error = work, None

    def run(self):
        try:
            self.work()
        except Exception as error:
            self.error = error
        finally:
            connection.close()


def a_case_with_two_advisors():
    case = factories.CaseFactory()
    organisation = case.referral.advice_organisation
    return case, factories.advisor(organisation), factories.advisor(organisation, supervisor=True)


@pytest.mark.django_db(transaction=True)
def test_a_change_that_commits_just_after_a_refresh_read_the_marks_is_counted():
    case, other_advisor, supervisor = a_case_with_two_advisors()
    # An earlier change of the referral, marked and not counted yet (its task has not run).
    FiguresPending.objects.create(referral_id=case.referral_id, partnership_id=case.referral.partnership_id)
    marked, commit = threading.Event(), threading.Event()

    def reallocate():
        with transaction.atomic():
            casework_services.case_reallocate(
                case=case, actor=supervisor, version=case.version, advisor=other_advisor, note="Leave"
            )
            marked.set()
            commit.wait()

    change = Worker(reallocate)
    change.start()
    marked.wait()
    # The refresh reads the marks before the reallocation commits, and counts the referral as it was.
    running_figures.refresh_pending()
    commit.set()
    change.join()

    assert change.error is None
    running_figures.refresh_pending()  # what the task after the commit, or the dashboard, does next
    assert Case.objects.get(pk=case.pk).advisor == other_advisor
    counted = cells()
    assert counted == counted_from_scratch()
    advisors = {key[2] for key, n in counted.items() if key[0] == "load" and n}
    assert advisors == {other_advisor.pk}


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_of_consent_and_an_edit_of_the_case_at_the_same_moment_both_go_through():
    """The advisor's side holds the case and then marks the referral; the withdrawal holds the referral, marks it,
    and then waits for the case. Marks never wait for one another, so there is no deadlock."""
    case, other_advisor, supervisor = a_case_with_two_advisors()
    referral = case.referral
    holding, edit = threading.Event(), threading.Event()

    def reallocate():
        with transaction.atomic():
            Case.objects.select_for_update().get(pk=case.pk)  # as the edit's lock_case does, first
            holding.set()
            edit.wait()
            casework_services.case_reallocate(
                case=case, actor=supervisor, version=case.version, advisor=other_advisor, note="Leave"
            )

    def withdraw():
        referral_services.consent_withdraw(referral=referral, actor=referral.referrer)

    advisor_side, withdrawal = Worker(reallocate), Worker(withdraw)
    advisor_side.start()
    holding.wait()
    withdrawal.start()
    wait_until(a_session_waits_for_a_lock)  # the withdrawal has marked the referral and waits for the case
    edit.set()
    advisor_side.join()
    withdrawal.join()

    assert advisor_side.error is None
    assert withdrawal.error is None
    case.refresh_from_db()
    assert (case.advisor, case.is_open) == (other_advisor, False)
    running_figures.refresh_pending()
    assert cells() == counted_from_scratch()


@pytest.mark.django_db(transaction=True)
def test_a_refresh_during_a_rebuild_waits_for_it_and_counts_nothing_twice(monkeypatch):
    factories.ReferralFactory(submitted_at=timezone.now())  # the first batch of the rebuild
    second = factories.ReferralFactory(submitted_at=timezone.now())  # another partnership: cells of its own
    # The second referral was submitted, and its count has not run yet.
    FigureCell.objects.filter(partnership_id=second.partnership_id).delete()
    ReferralContribution.objects.filter(referral_id=second.pk).update(facts={})
    FiguresPending.objects.create(referral_id=second.pk, partnership_id=second.partnership_id)

    # The rebuild reads one referral a batch; it stops after the first batch until the refresh has had its go.
    read_first_batch, go_on = threading.Event(), threading.Event()
    facts_of = running_figures.facts_of

    def facts_of_then_pause(where):
        facts = facts_of(where)
        if threading.current_thread() is rebuild and not read_first_batch.is_set():
            read_first_batch.set()
            go_on.wait()
        return facts

    monkeypatch.setattr(running_figures, "facts_of", facts_of_then_pause)
    rebuild = Worker(lambda: running_figures.rebuild(batch=1))
    refresh = Worker(running_figures.refresh_pending)
    rebuild.start()
    read_first_batch.wait()
    refresh.start()
    wait_until(lambda: a_session_waits_for_a_lock() or not refresh.is_alive())
    go_on.set()
    rebuild.join()
    refresh.join()

    assert rebuild.error is None
    assert refresh.error is None
    received = FigureCell.objects.get(partnership_id=second.partnership_id, measure=running_figures.RECEIVED)
    assert received.n == 1
    assert cells() == counted_from_scratch()


@pytest.mark.django_db(transaction=True)
def test_a_digest_counts_what_is_pending_without_holding_its_message():
    referral = factories.ReferralFactory(submitted_at=timezone.now())
    organisation, referrer = referral.referring_organisation, referral.referrer
    FiguresPending.objects.create(referral_id=referral.pk, partnership_id=referral.partnership_id)
    today = timezone.localdate()
    key = f"{services.DIGEST_KEY}{organisation.pk}:{today:%Y-%m}:user:{referrer.pk}"

    def queue_and_deliver():  # delivered after the commit, in this thread (the tasks run in-process)
        with transaction.atomic():
            message_queue(recipient=referrer, kind=MessageKind.DIGEST, key=key, subject="Digest", body="...")

    with transaction.atomic():
        # Hold the referral's count, so that the digest's refresh waits for it here.
        ReferralContribution.objects.select_for_update().get(referral_id=referral.pk)
        delivery = Worker(queue_and_deliver)
        delivery.start()
        wait_until(a_session_waits_for_a_lock)
        try:
            with transaction.atomic():
                Message.objects.select_for_update(nowait=True).get(key=key)
            message_was_free = True
        except DatabaseError:
            message_was_free = False
    delivery.join()

    assert delivery.error is None
    assert message_was_free, "the digest's message was locked while it counted what was pending"
    message = Message.objects.get(key=key)
    assert message.status == Message.Status.DELIVERED
    assert not FiguresPending.objects.exists()
    assert digest_figures(organisation=organisation, period=Period.month(today.year, today.month)).made == 1


@pytest.mark.django_db
def test_deleting_a_team_moves_its_referrals_to_no_team_in_the_figures():
    team = factories.TeamFactory()
    referral = factories.ReferralFactory(
        referring_organisation=team.organisation, referring_team=team, submitted_at=timezone.now()
    )
    running_figures.refresh_pending()
    team.delete()
    running_figures.refresh_pending()
    by_team = FigureCell.objects.filter(partnership_id=referral.partnership_id, measure=running_figures.TEAM, n__gt=0)
    assert list(by_team.values_list("key", "n")) == [("", 1)]
    assert cells() == counted_from_scratch()


@pytest.mark.django_db
def test_a_case_given_to_another_referral_leaves_the_first_one_s_figures():
    case = factories.CaseFactory()
    other = factories.ReferralFactory(
        partnership=case.referral.partnership,
        referring_organisation=case.referral.referring_organisation,
        submitted_at=timezone.now(),
    )
    running_figures.refresh_pending()
    case = Case.objects.get(pk=case.pk)  # as the admin loads it
    case.referral = other
    case.save()
    running_figures.refresh_pending()
    assert cells() == counted_from_scratch()


@pytest.mark.django_db
def test_an_outcome_moved_to_another_case_s_issue_leaves_the_first_case_s_figures():
    closed = {"state": CaseState.CLOSED, "closed_at": timezone.now(), "closure_reason": ClosureReason.WORK_COMPLETED}
    first = factories.CaseFactory(**closed)
    second = factories.CaseFactory(
        referral__partnership=first.referral.partnership,
        referral__referring_organisation=first.referral.referring_organisation,
        advisor=first.advisor,
        **closed,
    )
    outcome = factories.FinancialOutcomeFactory(issue=factories.CaseIssueFactory(case=first))
    target = factories.CaseIssueFactory(case=second)
    running_figures.refresh_pending()
    outcome = FinancialOutcome.objects.get(pk=outcome.pk)
    outcome.issue = target
    outcome.save(update_fields=["issue"])
    running_figures.refresh_pending()
    assert cells() == counted_from_scratch()
