"""The referral's known deadline reaches the case on accepting it, and triage flags and sorts the passed ones."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import selectors, services
from casework.models import Deadline
from hjp.core import appeal_clock
from referrals.models import KnownDeadlineKind, ProblemCategory, Referral
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_decision_letter_date_starts_the_reconsideration_clock_on_the_new_case(referral, advisor_user):
    referral.known_deadline, referral.known_deadline_note = date(2026, 1, 31), "PIP decision letter"
    referral.known_deadline_kind = KnownDeadlineKind.DECISION_LETTER
    referral.save()
    case = services.referral_accept(referral=referral, actor=advisor_user)
    deadline = case.deadlines.get()
    assert deadline.kind == Deadline.Kind.RECONSIDERATION
    assert deadline.basis_date == date(2026, 1, 31) and deadline.due_date == date(2026, 2, 28)
    assert deadline.issue == case.issues.get(category__code="benefits")
    assert "decision letter dated 31 Jan 2026" in deadline.title and "PIP decision letter" in deadline.title


def test_the_advisor_sees_the_carried_deadline_on_the_case_page(client, referral, advisor_user):
    letter = timezone.localdate() - timedelta(days=3)
    referral.known_deadline, referral.known_deadline_note = letter, "Date of the benefit decision letter"
    referral.known_deadline_kind = KnownDeadlineKind.DECISION_LETTER
    referral.save()
    case = services.referral_accept(referral=referral, actor=advisor_user)
    client.force_login(advisor_user)
    page = client.get(reverse("casework:case", args=[case.pk])).content.decode()
    deadlines = page.split('id="deadlines-h"')[1].split("</section>")[0]
    assert "None." not in deadlines
    assert "Mandatory reconsideration due" in deadlines and f"one month from {letter:%-d %b %Y}" in deadlines


def test_any_other_known_deadline_is_carried_as_the_date_itself(advisor_user, health_org, partnership):
    housing = ProblemCategory.objects.filter(code="housing")
    referral = factories.ReferralFactory(
        referring_organisation=health_org,
        partnership=partnership,
        categories=housing,
        known_deadline=date(2026, 12, 14),
        known_deadline_note="Possession hearing",
        known_deadline_kind=KnownDeadlineKind.DUE,
    )
    case = services.referral_accept(referral=referral, actor=advisor_user)
    deadline = case.deadlines.get()
    assert deadline.kind == Deadline.Kind.OTHER and deadline.due_date == date(2026, 12, 14)
    assert deadline.basis_date is None and "Possession hearing" in deadline.title


def test_what_the_referrer_says_the_date_is_decides_the_clock_not_the_words_of_the_note(
    advisor_user, health_org, partnership
):
    referral = factories.ReferralFactory(
        referring_organisation=health_org,
        partnership=partnership,
        known_deadline=date(2026, 12, 1),
        known_deadline_note="PIP decision: reply by",
        known_deadline_kind=KnownDeadlineKind.DUE,
    )
    case = services.referral_accept(referral=referral, actor=advisor_user)
    assert case.deadlines.get().due_date == date(2026, 12, 1)


def test_a_referral_without_a_known_deadline_opens_a_case_without_one(referral, advisor_user):
    assert not services.referral_accept(referral=referral, actor=advisor_user).deadlines.exists()


# --- triage ------------------------------------------------------------------------------------------------


def _referral(health_org, partnership, *, days_ago, **fields):
    return factories.ReferralFactory(
        referring_organisation=health_org,
        partnership=partnership,
        submitted_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def test_triage_flags_a_passed_deadline_and_puts_it_first(client, advisor_user, health_org, partnership):
    today = timezone.localdate()
    oldest = _referral(health_org, partnership, days_ago=9)
    passed = _referral(
        health_org,
        partnership,
        days_ago=2,
        known_deadline=today - timedelta(days=10),
        known_deadline_note="Tribunal bundle due",
        known_deadline_kind=KnownDeadlineKind.DUE,
    )
    urgent = _referral(health_org, partnership, days_ago=1, urgency="urgent")
    letter = _referral(
        health_org,
        partnership,
        days_ago=5,
        known_deadline=today - timedelta(days=10),
        known_deadline_note="PIP decision letter",
        known_deadline_kind=KnownDeadlineKind.DECISION_LETTER,
    )
    client.force_login(advisor_user)
    response = client.get(reverse("casework:triage"))
    assert list(response.context["page"].object_list) == [passed, urgent, oldest, letter]
    page = response.content.decode()
    row = page.split(passed.reference)[1].split("</tr>")[0]
    assert "Overdue" in row and "the deadline has passed" in row and "10 days overdue" in row
    # A decision letter ten days old starts a month's clock: not overdue, and the due date is shown.
    letter_row = page.split(letter.reference)[1].split("</tr>")[0]
    assert "Overdue" not in letter_row
    due = appeal_clock.reconsideration_due(today - timedelta(days=10))
    assert f"Reconsideration due {due:%-d %b %Y} (decision letter {today - timedelta(days=10):%-d %b %Y})" in letter_row


@pytest.mark.parametrize("more", [0, 15])
def test_triage_queries_are_pinned_with_deadlines(
    client, advisor_user, health_org, partnership, django_assert_num_queries, more
):
    today = timezone.localdate()
    for i in range(3 + more):
        _referral(
            health_org,
            partnership,
            days_ago=i + 1,
            known_deadline=today - timedelta(days=i),
            known_deadline_kind=KnownDeadlineKind.DECISION_LETTER if i % 2 else KnownDeadlineKind.DUE,
        )
    client.force_login(advisor_user)
    with django_assert_num_queries(9):  # with possible duplicates of the page and handovers waiting
        response = client.get(reverse("casework:triage"))
    assert len(response.context["page"].object_list) == 3 + more


@pytest.mark.parametrize(
    "today",
    [date(2026, 3, 1), date(2026, 2, 28), date(2028, 2, 29), date(2026, 12, 31), date(2026, 5, 31), date(2026, 1, 1)],
)
def test_triage_and_the_referral_agree_on_when_a_known_deadline_is_overdue(health_org, partnership, today):
    """The queue's database filter and `Referral.known_deadline_due` are the same rule, across month ends."""
    for offset in range(-3, 70):
        for kind in KnownDeadlineKind.values:
            _referral(
                health_org,
                partnership,
                days_ago=1,
                known_deadline=today - timedelta(days=offset),
                known_deadline_kind=kind,
            )
    flagged = set(Referral.objects.filter(selectors.known_deadline_overdue(today)).values_list("pk", flat=True))
    expected = {r.pk for r in Referral.objects.all() if r.known_deadline_due < today}
    assert flagged == expected and expected
