"""The casework pages read a bounded number of rows at national scale, and show the same as the plain queries:
the triage queue read in three streams (urgent, deadline passed, the rest) has the order and rows of the plain
sort, page after page and back; the advisor's first deadlines read from their first cases are the plain list's
first rows; counts of open work are shown as "N+" beyond their cap."""

import random
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import selectors
from casework.models import CaseState, Deadline
from casework.services.common import refresh_next_deadline
from hjp.core.pagination import first_of_streams, keyset_filter
from referrals.models import KnownDeadlineKind, ReferralStatus, Urgency
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(health_org, partnership):
    """60 waiting referrals, many sent at the same moment (ties broken by id), urgent or not, with known
    deadlines passed, not yet passed (decision letters a few weeks old among them) or none."""
    rng = random.Random(12)
    sent = [timezone.now() - timedelta(days=d) for d in (1, 3, 8, 20)]
    today = timezone.localdate()
    for _ in range(60):
        deadline = rng.choice([None, None, rng.randint(-40, 60)])
        factories.ReferralFactory(
            referring_organisation=health_org,
            partnership=partnership,
            submitted_at=rng.choice(sent),
            urgency=rng.choice([Urgency.URGENT, Urgency.ROUTINE, Urgency.ROUTINE]),
            known_deadline=None if deadline is None else today - timedelta(days=deadline),
            known_deadline_kind="" if deadline is None else rng.choice(KnownDeadlineKind.values),
        )
    # Not waiting: never in the queue.
    factories.ReferralFactory(
        referring_organisation=health_org, partnership=partnership, status=ReferralStatus.DECLINED
    )


def test_the_triage_queue_read_in_streams_is_the_plain_sort_page_after_page(client, advisor_user, queue):
    plain = list(selectors.triage_queue(user=advisor_user).values_list("pk", flat=True))
    assert len(plain) == 60
    client.force_login(advisor_user)
    url = reverse("casework:triage")
    pages, href = [], "?"
    while href:
        page = client.get(url + href).context["page"]
        pages.append([r.pk for r in page.object_list])
        href = page.next_href
    assert [pk for rows in pages for pk in rows] == plain and len(pages) > 2
    # Back from the last page: the page before it again.
    back = client.get(url + page.previous_href).context["page"]
    assert [r.pk for r in back.object_list] == pages[-2]


@pytest.mark.parametrize("n", [1, 5, 13])
def test_the_queues_first_rows_from_its_streams_are_the_plain_first_rows(advisor_user, queue, n):
    whole = selectors.triage_queue(user=advisor_user)
    plain = list(whole.values_list("pk", flat=True))
    keys = ("urgency_rank", "submitted_at", "pk")
    shown, cursor = [], None
    while True:
        rest = whole if cursor is None else whole.filter(keyset_filter(keys, cursor))
        rows = list(first_of_streams(rest, selectors.triage_streams(), n)[:n])
        if not rows:
            break
        shown += [r.pk for r in rows]
        cursor = (rows[-1].urgency_rank, rows[-1].submitted_at, rows[-1].pk)
    assert shown == plain


def test_the_queue_and_its_streams_rank_by_the_one_date_they_are_given(advisor_user, queue, health_org, partnership):
    """The triage page reads the date once for the queue's rank and its streams: at midnight the two cannot
    disagree about whose deadline has passed. Two days on, the streams' order is the plain sort's of that day."""
    factories.ReferralFactory(
        referring_organisation=health_org,
        partnership=partnership,
        submitted_at=timezone.now() - timedelta(days=1),
        urgency=Urgency.ROUTINE,
        known_deadline=timezone.localdate() + timedelta(days=1),
        known_deadline_kind=KnownDeadlineKind.DUE,
    )
    later = timezone.localdate() + timedelta(days=2)
    whole = selectors.triage_queue(user=advisor_user, today=later)
    plain = list(whole.values_list("pk", flat=True))
    rows = list(first_of_streams(whole, selectors.triage_streams(later), 61)[:61])
    assert [r.pk for r in rows] == plain
    # Deadlines due tomorrow have passed by then.
    tomorrow = [r for r in rows if r.known_deadline_due == timezone.localdate() + timedelta(days=1)]
    assert tomorrow and all(r.known_deadline_overdue for r in tomorrow)
    assert plain != list(selectors.triage_queue(user=advisor_user).values_list("pk", flat=True))


@pytest.fixture
def deadlines(advisor_user, health_org, partnership):
    """Open cases of the advisor with open and done deadlines, many due on the same days (overdue, this week,
    later); a closed case's and another advisor's deadlines, which the advisor's list leaves out."""
    rng = random.Random(5)
    today = timezone.localdate()
    other = factories.advisor(partnership.advice_organisation)
    cases = [
        factories.CaseFactory(
            advisor=advisor_user,
            referral=factories.ReferralFactory(
                referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
            ),
        )
        for _ in range(14)
    ]
    closed = cases.pop()
    elsewhere = factories.CaseFactory(
        advisor=other,
        referral=factories.ReferralFactory(
            referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
        ),
    )
    for case in [*cases, closed, elsewhere]:
        for _ in range(rng.randint(0, 4)):
            Deadline.objects.create(
                case=case, title="Chase", due_date=today + timedelta(days=rng.choice([-9, -2, 0, 3, 7, 20]))
            )
    done = Deadline.objects.filter(case__in=cases).order_by("pk")[::3]
    Deadline.objects.filter(pk__in=[d.pk for d in done]).update(
        done_at=timezone.now(), done_by=advisor_user, settlement=Deadline.Settlement.DONE
    )
    type(closed).objects.filter(pk=closed.pk).update(
        state=CaseState.CLOSED, closed_at=timezone.now(), closure_reason="advice_given"
    )
    refresh_next_deadline([c.pk for c in [*cases, closed, elsewhere]])
    return cases


def test_the_advisors_first_deadlines_from_their_first_cases_are_the_plain_lists_first(advisor_user, deadlines):
    plain = list(selectors.home_deadlines(user=advisor_user))
    assert len(plain) > 8 and len({d.due_date for d in plain}) < len(plain)  # ties on a day, across cases
    for n in range(1, len(plain) + 3):
        assert selectors.first_home_deadlines(user=advisor_user, n=n) == plain[:n]


def test_counts_of_open_work_show_n_plus_beyond_their_cap(
    client, monkeypatch, advisor_user, supervisor_user, health_org, partnership
):
    monkeypatch.setattr(selectors, "TRIAGE_COUNT_CAP", 2)
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    for _ in range(3):
        factories.ReferralFactory(referring_organisation=health_org, partnership=partnership, urgency=Urgency.URGENT)
        factories.CaseFactory(
            advisor=advisor_user,
            referral=factories.ReferralFactory(
                referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
            ),
        )
    client.force_login(advisor_user)
    triage = client.get(reverse("casework:triage")).content.decode()
    assert "<strong>2+</strong> waiting" in triage and "<strong>2+</strong> urgent" in triage
    assert "<strong>0</strong> need an interpreter" in triage
    assert "New referrals waiting: 2+" in client.get(reverse("casework:home")).content.decode()
    caseload = client.get(reverse("casework:caseload")).content.decode()
    assert "<strong>2+</strong> open" in caseload and "<strong>2+</strong> in progress" in caseload
    assert "<strong>0</strong> awaiting first contact" in caseload
    client.force_login(supervisor_user)
    whole = client.get(reverse("casework:caseload") + "?scope=organisation").content.decode()
    assert "<td>2+</td>" in whole
