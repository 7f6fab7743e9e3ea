"""Patient search terms (names, NHS numbers, references) never travel in a URL: the search form POSTs, the
text is kept in the session under an opaque, expiring id that only its user's session can use, and the page
it redirects to (and its pagination) carries that id and the non-patient filters only."""

import re
from datetime import timedelta
from urllib.parse import quote, quote_plus

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from hjp.core.search import EXPIRED_MESSAGE, SEARCH_PARAM
from referrals.models import ReferralStatus
from tests import factories
from tests.support.pages import listed

pytestmark = pytest.mark.django_db

NAME = "Kowalczyk"
NHS_NUMBER = "943 476 5919"


def _forms_of(term: str) -> list[str]:
    """The ways a term can appear in a URL."""
    forms = {term, term.replace(" ", ""), quote(term), quote_plus(term), term.lower(), quote_plus(term.lower())}
    return [f for f in forms if f]


def _urls_in(html: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]*)"', html)


def _assert_no_term_in_urls(term, *responses):
    for response in responses:
        urls = [response.wsgi_request.get_full_path(), response.get("Location", "")]
        if response.get("Content-Type", "").startswith("text/html"):
            urls += _urls_in(response.content.decode())
        for url in urls:
            for form in _forms_of(term):
                assert form not in url, (term, url)


def _search(client, url_name, term, **filters):
    posted = client.post(reverse(url_name), {"q": term, **filters})
    assert posted.status_code == 302
    shown = client.get(posted["Location"])
    assert shown.status_code == 200
    return posted, shown


@pytest.fixture
def many_of_one_family(referrer_user, health_org, partnership):
    """More referrals of patients called Kowalczyk than a page holds, and some of others."""
    theirs = [
        factories.ReferralFactory(
            referrer=referrer_user,
            referring_organisation=health_org,
            partnership=partnership,
            patient__family_name=NAME,
            patient__nhs_number="9434765919" if i == 0 else "",
        )
        for i in range(23)
    ]
    others = [
        factories.ReferralFactory(
            referrer=referrer_user, referring_organisation=health_org, partnership=partnership, patient__family_name=n
        )
        for n in ("Smith", "Jones")
    ]
    return theirs, others


@pytest.mark.parametrize("term", [NAME, NHS_NUMBER])
def test_a_referrers_search_keeps_the_term_out_of_every_url(as_user, referrer_user, many_of_one_family, term):
    theirs, others = many_of_one_family
    client = as_user(referrer_user)
    posted, shown = _search(client, "referrals:list", term, status=ReferralStatus.SUBMITTED)

    assert SEARCH_PARAM in posted["Location"] and "status=submitted" in posted["Location"]
    expected = {r.pk for r in theirs} if term == NAME else {theirs[0].pk}
    assert len(listed(client, shown)) == len(expected)
    on_first_page = {r.pk for r in shown.context["page"].object_list}
    assert on_first_page <= expected and not on_first_page & {r.pk for r in others}
    responses = [posted, shown]
    if term == NAME:  # 23 results: a second page, reached through the pagination link
        next_link = next(u for u in _urls_in(shown.content.decode()) if "after=" in u)
        second = client.get(reverse("referrals:list") + next_link.replace("&amp;", "&"))
        assert second.context["page"].number == 2
        assert {r.pk for r in second.context["page"].object_list} <= expected
        responses.append(second)
    _assert_no_term_in_urls(term, *responses)


@pytest.mark.parametrize("term", [NAME, NHS_NUMBER])
def test_an_advisors_caseload_search_keeps_the_term_out_of_every_url(
    as_user, advisor_user, health_org, partnership, term
):
    def case(family_name, nhs_number=""):
        referral = factories.ReferralFactory(
            referring_organisation=health_org,
            partnership=partnership,
            status=ReferralStatus.IN_PROGRESS,
            patient__family_name=family_name,
            patient__nhs_number=nhs_number,
        )
        return factories.CaseFactory(referral=referral, advisor=advisor_user)

    wanted = case(NAME, "9434765919")
    case("Smith")
    client = as_user(advisor_user)
    posted, shown = _search(client, "casework:caseload", term, sort="name")
    assert {c.pk for c in shown.context["page"].object_list} == {wanted.pk}
    assert "sort=name" in posted["Location"]
    _assert_no_term_in_urls(term, posted, shown)
    # The advisor's referral list searches the same way.
    posted, shown = _search(client, "referrals:list", term)
    assert {r.pk for r in shown.context["page"].object_list} == {wanted.referral.pk}
    _assert_no_term_in_urls(term, posted, shown)


def test_refresh_and_back_keep_the_results(as_user, referrer_user, many_of_one_family):
    theirs, _ = many_of_one_family
    client = as_user(referrer_user)
    posted, _ = _search(client, "referrals:list", NAME)
    again = client.get(posted["Location"])
    assert len(listed(client, again)) == len(theirs)
    assert again.context["filters"]["q"].value() == NAME  # the box still shows what was searched


def test_another_user_cannot_use_the_search_id(as_user, referrer_user, health_org, many_of_one_family):
    theirs, others = many_of_one_family
    posted, _ = _search(as_user(referrer_user), "referrals:list", NAME)
    colleague = factories.referrer(health_org)
    health_org.shares_referrals_internally = True  # the colleague sees the same referrals
    health_org.save()
    client = as_user(colleague)
    page = client.get(posted["Location"])
    assert page.status_code == 200
    assert EXPIRED_MESSAGE in page.content.decode()
    assert len(listed(client, page)) == len(theirs) + len(others)  # not searched
    assert NAME not in str(page.context["filters"]["q"].value())


def test_a_search_expires(as_user, referrer_user, many_of_one_family, settings):
    theirs, others = many_of_one_family
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = as_user(referrer_user)
        posted, _ = _search(client, "referrals:list", NAME)
        clock.shift(timedelta(seconds=settings.SESSION_COOKIE_AGE * 2 // 3))
        assert len(listed(client, client.get(posted["Location"]))) == len(theirs)
        clock.shift(timedelta(seconds=settings.SESSION_COOKIE_AGE * 2 // 3))  # the session is alive; the search is not
        page = client.get(posted["Location"])
        assert EXPIRED_MESSAGE in page.content.decode()
        assert len(listed(client, page)) == len(theirs) + len(others)


def test_a_term_put_in_the_url_by_hand_is_not_searched_and_not_carried_on(as_user, referrer_user, many_of_one_family):
    theirs, others = many_of_one_family
    client = as_user(referrer_user)
    page = client.get(reverse("referrals:list"), {"q": NAME})
    assert len(listed(client, page)) == len(theirs) + len(others)
    assert not any(NAME in url for url in _urls_in(page.content.decode()))


def test_the_search_form_posts_with_its_csrf_token(referrer_user, many_of_one_family):
    from tests.support.auth import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(referrer_user)
    html = client.get(reverse("referrals:list")).content.decode()
    form = html[html.index('role="search"') - 100 :]
    assert 'method="post"' in form[:200] and 'name="csrfmiddlewaretoken"' in form[: form.index("</form>")]
    assert client.post(reverse("referrals:list"), {"q": NAME}).status_code == 403
