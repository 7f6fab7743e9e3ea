"""How many database queries each page takes, counted in this process through the whole middleware stack."""

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench.pages import PAGES, Page, Subjects, bench_users, find_subjects
from hjp.accounts.factors import mark_session_verified

BENCH_AUTHENTICATOR = "Benchmark authenticator"


def signed_in_client(user) -> Client:
    """A client signed in as `user` with both factors, as a person is after the second step: the session is
    marked verified by the user's benchmark authenticator (made here, with a key nobody is shown), the way
    tests/support/auth.py does. Nothing in the sign-in itself is relaxed."""
    device, _ = TOTPDevice.objects.get_or_create(user=user, name=BENCH_AUTHENTICATOR, defaults={"confirmed": True})
    client = Client(SERVER_NAME=(settings.ALLOWED_HOSTS or ["testserver"])[0])
    client.force_login(user)
    session = client.session
    mark_session_verified(session, device)
    session.save()
    return client


def session_cookie(client: Client) -> str:
    """The Cookie header that carries `client`'s session to another HTTP client (wrk)."""
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


class PageError(AssertionError):
    pass


def count_queries(client: Client, url: str) -> int:
    """The queries of one request to `url`, after one request that warms the process's caches. The request runs
    inside a transaction, as in the test suite, so that a transaction the page opens is counted (as SAVEPOINT and
    RELEASE) the same way here and in tests pinned with django_assert_num_queries."""
    for _attempt in ("warm", "count"):
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        if response.status_code != 200:
            raise PageError(f"{url} answered {response.status_code} ({response.get('Location', '')}), not 200")
    return len(captured)


def page_query_counts(pages: list[Page] = PAGES) -> tuple[dict[str, int], Subjects]:
    """{page name: queries} for `pages`, each opened as its role's demo account."""
    users = bench_users()
    subjects = find_subjects(users)
    clients = {role: signed_in_client(user) for role, user in users.items()}
    return {page.name: count_queries(clients[page.role], page.url(subjects)) for page in pages}, subjects
