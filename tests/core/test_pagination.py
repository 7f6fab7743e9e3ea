"""Every list that can grow is read a page at a time by the last row's key (hjp.core.pagination): paging forward
shows every row once, in order; rows added meanwhile neither repeat nor hide one; "Previous" gives the same
rows back; a link that is damaged, forged or made for another list gives the first page and says so."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.views.pages import PAGE_SIZE as CASELOAD_PAGE_SIZE
from hjp.core.pagination import AFTER, BEFORE, INVALID_CURSOR_MESSAGE
from referrals.models import Referral, ReferralStatus
from referrals.views import PAGE_SIZE as REFERRALS_PAGE_SIZE
from tests import factories
from tests.support.pages import listed

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_referrals(referrer_user, health_org, partnership):
    """More than two pages of the referrer's referrals, several sent at the same moment (ties broken by id),
    and drafts (never sent: ordered by when they were begun)."""
    sent_at = timezone.now() - timedelta(days=2)
    referrals = [
        factories.ReferralFactory(
            referrer=referrer_user,
            referring_organisation=health_org,
            partnership=partnership,
            submitted_at=sent_at - timedelta(hours=i // 4),
        )
        for i in range(2 * REFERRALS_PAGE_SIZE + 7)
    ]
    referrals += [
        factories.ReferralFactory(
            referrer=referrer_user,
            referring_organisation=health_org,
            partnership=partnership,
            status=ReferralStatus.DRAFT,
            submitted_at=None,
        )
        for _ in range(3)
    ]
    return referrals


def _newest_first(referrals) -> list[int]:
    def sort_at(referral):
        return referral.submitted_at or referral.created_at

    return [r.pk for r in sorted(referrals, key=lambda r: (sort_at(r), r.pk), reverse=True)]


def test_paging_forward_shows_every_referral_once_newest_first(as_user, referrer_user, many_referrals):
    client = as_user(referrer_user)
    first = client.get(reverse("referrals:list"))
    assert len(first.context["page"].object_list) == REFERRALS_PAGE_SIZE
    assert [r.pk for r in listed(client, first)] == _newest_first(many_referrals)


def test_the_page_number_follows_the_links_and_previous_gives_the_same_rows_back(
    as_user, referrer_user, many_referrals
):
    client = as_user(referrer_user)
    url = reverse("referrals:list")
    first = client.get(url)
    second = client.get(url + first.context["page"].next_href)
    third = client.get(url + second.context["page"].next_href)
    assert [p.context["page"].number for p in (first, second, third)] == [1, 2, 3]
    assert third.context["page"].next_href == "" and len(third.context["page"].object_list) == 10
    back = client.get(url + third.context["page"].previous_href)
    assert back.context["page"].number == 2
    assert back.context["page"].object_list == second.context["page"].object_list
    again = client.get(url + back.context["page"].previous_href)
    assert again.context["page"].object_list == first.context["page"].object_list
    assert again.context["page"].number == 1 and again.context["page"].previous_href == ""
    content = third.content.decode()
    assert 'rel="prev"' in content and "First page" in content and "Page 3" in content


def test_referrals_sent_between_two_pages_neither_repeat_nor_hide_one(
    as_user, referrer_user, health_org, partnership, many_referrals
):
    """With OFFSET, a referral sent meanwhile pushes the last row of page 1 onto page 2 again. By key, the
    later pages go on from the last row seen: the new referral is on page 1 when it is next opened."""
    client = as_user(referrer_user)
    first = client.get(reverse("referrals:list"))
    factories.ReferralFactory(
        referrer=referrer_user, referring_organisation=health_org, partnership=partnership, submitted_at=timezone.now()
    )
    seen = [r.pk for r in first.context["page"].object_list]
    second = client.get(reverse("referrals:list") + first.context["page"].next_href)
    seen += [r.pk for r in listed(client, second)]
    assert seen == _newest_first(many_referrals)


def test_a_referral_gone_from_the_list_between_two_pages_moves_nothing_else(as_user, referrer_user, many_referrals):
    """The last row of page 1 leaves the filtered list (cancelled) before page 2 is opened: with OFFSET the
    first row of page 2 would be skipped; by key, page 2 starts where page 1 ended."""
    client = as_user(referrer_user)
    submitted = {"status": ReferralStatus.SUBMITTED}
    first = client.get(reverse("referrals:list"), submitted)
    last_shown = first.context["page"].object_list[-1]
    Referral.objects.filter(pk=last_shown.pk).update(status=ReferralStatus.CANCELLED)
    rest = client.get(reverse("referrals:list") + first.context["page"].next_href)
    expected = _newest_first(r for r in many_referrals if r.status == ReferralStatus.SUBMITTED)
    assert [r.pk for r in listed(client, rest)] == expected[REFERRALS_PAGE_SIZE:]


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "gAAAAABtampered",
        "",
        "%00",
        "Z0FBQUFBQm" * 20,
    ],
)
def test_a_damaged_page_link_gives_the_first_page_and_says_so(as_user, referrer_user, many_referrals, cursor):
    client = as_user(referrer_user)
    first = client.get(reverse("referrals:list"))
    for param in (AFTER, BEFORE):
        response = client.get(reverse("referrals:list"), {param: cursor})
        assert response.status_code == 200
        assert response.context["page"].object_list == first.context["page"].object_list
        assert response.context["page"].number == 1
        assert (INVALID_CURSOR_MESSAGE in response.content.decode()) == bool(cursor)


def test_a_link_altered_by_one_character_gives_the_first_page(as_user, referrer_user, many_referrals):
    client = as_user(referrer_user)
    first = client.get(reverse("referrals:list"))
    token = first.context["page"].next_href.split(f"{AFTER}=", 1)[1]
    altered = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    response = client.get(reverse("referrals:list"), {AFTER: altered})
    assert response.status_code == 200 and response.context["page"].number == 1
    assert INVALID_CURSOR_MESSAGE in response.content.decode()


def test_a_link_made_for_another_list_or_order_gives_the_first_page(as_user, advisor_user, health_org, partnership):
    for _ in range(CASELOAD_PAGE_SIZE + 2):
        factories.CaseFactory(
            advisor=advisor_user,
            referral=factories.ReferralFactory(
                referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
            ),
        )
    client = as_user(advisor_user)
    by_name = client.get(reverse("casework:caseload"), {"sort": "name"})
    cursor = by_name.context["page"].next_href.split(f"{AFTER}=", 1)[1]
    for url, params in (
        (reverse("casework:caseload"), {"sort": "opened", AFTER: cursor}),
        (reverse("referrals:list"), {AFTER: cursor}),
        (reverse("notifications:inbox"), {AFTER: cursor}),
    ):
        response = client.get(url, params)
        assert response.status_code == 200 and response.context["page"].number == 1, url
        assert INVALID_CURSOR_MESSAGE in response.content.decode()


def test_no_patient_detail_travels_in_a_page_link(as_user, advisor_user, health_org, partnership):
    """The caseload sorted by name pages by the patient's name: the link carries it encrypted."""
    cases = [
        factories.CaseFactory(
            advisor=advisor_user,
            referral=factories.ReferralFactory(
                referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
            ),
        )
        for _ in range(CASELOAD_PAGE_SIZE + 1)
    ]
    client = as_user(advisor_user)
    page = client.get(reverse("casework:caseload"), {"sort": "name"})
    last = page.context["page"].object_list[-1].referral.patient
    next_href = page.context["page"].next_href
    assert next_href and last.family_name not in next_href and last.given_name not in next_href
    assert len(listed(client, page)) == len(cases)


@pytest.mark.parametrize("sort", ["next_deadline", "opened", "-opened", "name", "advisor"])
def test_every_caseload_order_pages_through_every_case_once(
    as_user, supervisor_user, advisor_user, health_org, partnership, sort
):
    """Many cases share a next deadline, or have none, and were opened at the same moment: the key still
    orders them all, one way, and the pages follow it."""
    opened = timezone.now() - timedelta(days=5)
    for i in range(CASELOAD_PAGE_SIZE * 2 + 3):
        case = factories.CaseFactory(
            advisor=advisor_user if i % 3 else supervisor_user,
            opened_at=opened - timedelta(days=i % 2),
            referral=factories.ReferralFactory(
                referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
            ),
        )
        if i % 4:
            factories.DeadlineFactory(case=case, due_date=timezone.localdate() + timedelta(days=i % 3))
    client = as_user(supervisor_user)
    first = client.get(reverse("casework:caseload"), {"scope": "organisation", "sort": sort})
    every = listed(client, first)
    from casework.selectors import CaseFilters, case_list

    expected = list(case_list(user=supervisor_user, filters=CaseFilters(scope="organisation", sort=sort)))
    assert [c.pk for c in every] == [c.pk for c in expected]
    assert len({c.pk for c in every}) == CASELOAD_PAGE_SIZE * 2 + 3
    if sort == "next_deadline":  # soonest first, cases with no open deadline last
        keys = [c.next_deadline for c in every]
        dated = [k for k in keys if k is not None]
        assert dated == sorted(dated) and keys[len(dated) :] == [None] * (len(keys) - len(dated))


EVIDENCE_LIST_QUERIES = 5


def test_the_referrers_evidence_requests_page_through_with_the_same_queries(
    as_user, referrer_user, health_org, partnership, advisor_user, django_assert_num_queries
):
    def ask(n):
        for i in range(n):
            case = factories.CaseFactory(
                advisor=advisor_user,
                referral=factories.ReferralFactory(
                    referrer=referrer_user,
                    referring_organisation=health_org,
                    partnership=partnership,
                    status=ReferralStatus.IN_PROGRESS,
                ),
            )
            factories.EvidenceRequestFactory(case=case, due_date=timezone.localdate() + timedelta(days=i % 4))

    client = as_user(referrer_user)
    url = reverse("casework:evidence_list")
    ask(2)
    with django_assert_num_queries(EVIDENCE_LIST_QUERIES):
        client.get(url)
    ask(CASELOAD_PAGE_SIZE + 4)
    with django_assert_num_queries(EVIDENCE_LIST_QUERIES):
        first = client.get(url)
    with django_assert_num_queries(EVIDENCE_LIST_QUERIES):
        client.get(url + first.context["page"].next_href)
    rows = listed(client, first)
    assert len(rows) == len({r.pk for r in rows}) == CASELOAD_PAGE_SIZE + 6
    assert [(r.due_date, r.pk) for r in rows] == sorted((r.due_date, r.pk) for r in rows)
