"""The pages measured: the main page of every role, one list for `make bench` and the CI test of query counts
(tests/bench/test_query_counts.py). Each is opened as a seed_demo account on a seed_scale history, where
those accounts own a large share (outcomes/scale.py)."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count

from casework.models import Case, CaseState
from hjp.accounts.models import User
from hjp.core.pagination import AFTER, encode_cursor
from referrals.models import Referral, ReferralStatus
from referrals.selectors import referral_list
from referrals.views import PAGE_SIZE

DEEP_PAGE = 2000

# The seed_demo accounts (hjp/accounts/demo.py) the pages are opened as, by role.
ROLE_EMAILS = {
    "referrer": "gp@demo.hjp.test",
    "advisor": "advisor@demo.hjp.test",
    "supervisor": "supervisor@demo.hjp.test",
    "manager": "manager@demo.hjp.test",
    "funder": "funder@demo.hjp.test",
    "admin": "admin@demo.hjp.test",
}


@dataclass(frozen=True)
class Subjects:
    """The rows the pages are about, found in the history: the demo GP's newest closed referral and the demo
    advisor's open case with the most notes."""

    referral_id: int
    case_id: int
    # The link to page DEEP_PAGE of the advisor's referrals, as its "Next" link would be (keyset pagination: the
    # cursor of the last row of the page before; on a history too small for it, of a row a page from the end, so
    # that the page has rows there too).
    deep_referrals_query: str


@dataclass(frozen=True)
class Page:
    name: str
    role: str
    url: Callable[[Subjects], str]


PAGES = [
    Page("referrer home", "referrer", lambda s: "/referrals/home/"),
    Page("My referrals", "referrer", lambda s: "/referrals/"),
    Page("referral", "referrer", lambda s: f"/referrals/{s.referral_id}/"),
    Page("inbox", "referrer", lambda s: "/inbox/"),
    Page('advisor home "Today"', "advisor", lambda s: "/casework/"),
    Page("advisor's referrals", "advisor", lambda s: "/referrals/"),
    Page(f"advisor's referrals, page {DEEP_PAGE}", "advisor", lambda s: f"/referrals/?{s.deep_referrals_query}"),
    Page("triage", "advisor", lambda s: "/casework/triage/"),
    Page("caseload", "advisor", lambda s: "/casework/cases/"),
    Page("whole-service caseload", "supervisor", lambda s: "/casework/cases/?scope=organisation"),
    Page("case with many notes", "advisor", lambda s: f"/casework/cases/{s.case_id}/"),
    Page("manager dashboard", "manager", lambda s: "/outcomes/dashboard/"),
    Page("engagement", "manager", lambda s: "/outcomes/engagement/"),
    Page("funder report", "funder", lambda s: "/outcomes/funder-report/"),
    Page("funder CSV", "funder", lambda s: "/outcomes/funder-report.csv"),
    Page("admin: Referral changelist", "admin", lambda s: "/admin/referrals/referral/"),
]
ADMIN_PAGE = PAGES[-1]  # the reference the throughput is compared with


def bench_users() -> dict[str, User]:
    users = {user.email: user for user in User.objects.filter(email__in=ROLE_EMAILS.values())}
    missing = sorted(set(ROLE_EMAILS.values()) - set(users))
    if missing:
        raise LookupError(f"No demo accounts ({', '.join(missing)}): run `manage.py seed_scale` on this database.")
    return {role: users[email] for role, email in ROLE_EMAILS.items()}


def find_subjects(users: dict[str, User]) -> Subjects:
    referral = (
        Referral.objects.filter(referrer=users["referrer"], status=ReferralStatus.CLOSED)
        .order_by("-submitted_at")
        .values_list("pk", flat=True)
        .first()
    )
    case = (
        Case.objects.filter(advisor=users["advisor"], state=CaseState.IN_PROGRESS)
        .annotate(note_count=Count("notes"))
        .order_by("-note_count", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if referral is None or case is None:
        raise LookupError("The demo accounts have no closed referral or open case: run `manage.py seed_scale`.")
    listed = referral_list(user=users["advisor"])
    before_deep_page = (DEEP_PAGE - 1) * PAGE_SIZE
    row = next(iter(listed[before_deep_page - 1 : before_deep_page]), None)
    if row is None:  # too small a history: the page before the last, so that the page measured has rows as at scale
        row = next(iter(listed[max(0, listed.count() - PAGE_SIZE - 1) :][:1]), None) or listed.first()
    cursor = encode_cursor(listed.query.order_by, row, DEEP_PAGE - 1)
    return Subjects(referral_id=referral, case_id=case, deep_referrals_query=urlencode({AFTER: cursor}))
