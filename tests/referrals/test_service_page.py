"""The advice service's page for referrers: who reads it, who edits it, what bad input gets, what the edit
leaves in the audit log, and its pinned query counts."""

import pytest
from django.urls import reverse

from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from referrals.service_page import services
from referrals.service_page.models import ServicePage
from tests import factories
from tests.support.pages import looks_missing

pytestmark = pytest.mark.django_db

TEXTS = {
    "helps_with": "Benefits: PIP, Universal Credit.\nDebt and housing.",
    "eligibility": "Patients registered at the practice.",
    "how_to_refer": "Record consent, then refer in hjp.",
    "what_happens_next": "We call the patient within five working days.",
    "contacts": "Sam Adviser\n0161 496 0000",
}


@pytest.fixture
def page(partnership, supervisor_user):
    return services.service_page_save(partnership=partnership, actor=supervisor_user, version=None, **TEXTS)


def _form(page=None, **changes):
    data = dict(TEXTS) | changes
    if page is not None:
        data["version"] = page.version
    return data


def test_a_referrer_reads_the_page_with_its_line_breaks_and_the_partnerships_clinics(
    as_user, referrer_user, partnership, advisor_user, page
):
    factories.ClinicSessionFactory(partnership=partnership, advisor=advisor_user, place="Ward 7, day room")
    client = as_user(referrer_user)
    home = client.get(reverse("referrals:home")).content.decode()
    assert reverse("referrals:service_page_list") in home
    form = client.get(reverse("referrals:create")).content.decode()
    assert 'id="service-page-link"' in form and reverse("referrals:service_page_list") in form
    response = client.get(reverse("referrals:service_page_list"), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("referrals:service_page", args=[partnership.pk])
    assert "Benefits: PIP, Universal Credit.<br>Debt and housing." in html
    assert "Sam Adviser<br>0161 496 0000" in html
    assert "Ward 7, day room" in html  # the clinic session, read from referrals/clinics
    assert "Edit this page" not in html


def test_html_typed_into_the_page_is_shown_as_text(as_user, referrer_user, partnership, supervisor_user):
    services.service_page_save(
        partnership=partnership,
        actor=supervisor_user,
        version=None,
        **(TEXTS | {"helps_with": '<script>alert("x")</script><b>bold</b>'}),
    )
    html = as_user(referrer_user).get(reverse("referrals:service_page", args=[partnership.pk])).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<b>bold</b>" not in html


def test_a_page_not_written_yet_says_so(as_user, referrer_user, supervisor_user, partnership):
    html = as_user(referrer_user).get(reverse("referrals:service_page", args=[partnership.pk])).content.decode()
    assert "has not written this page yet" in html
    html = as_user(supervisor_user).get(reverse("referrals:service_page", args=[partnership.pk])).content.decode()
    assert "Write this page" in html


def test_another_partnerships_referrer_and_a_funder_get_404(client, partnership, funder_user, page):
    elsewhere = factories.OrganisationFactory()
    factories.PartnershipFactory(health_organisations=[elsewhere])
    url = reverse("referrals:service_page", args=[partnership.pk])
    for user in (factories.referrer(elsewhere), funder_user):
        client.force_login(user)
        assert looks_missing(client.get(url))
        assert looks_missing(client.get(reverse("referrals:service_page_edit", args=[partnership.pk])))
    client.force_login(factories.referrer(elsewhere))
    listing = client.get(reverse("referrals:service_page_list"), follow=True).content.decode()
    assert partnership.advice_organisation.name not in listing


def test_a_referrer_of_two_partnerships_chooses_from_a_list(as_user, referrer_user, health_org, partnership):
    second = factories.PartnershipFactory(health_organisations=[health_org])
    html = as_user(referrer_user).get(reverse("referrals:service_page_list")).content.decode()
    assert reverse("referrals:service_page", args=[partnership.pk]) in html
    assert reverse("referrals:service_page", args=[second.pk]) in html


def test_a_supervisor_writes_the_page_and_the_edit_is_audited(as_user, supervisor_user, partnership):
    client = as_user(supervisor_user)
    url = reverse("referrals:service_page_edit", args=[partnership.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, _form())
    assert response.status_code == 302
    page = ServicePage.objects.get(partnership=partnership)
    assert page.contacts == "Sam Adviser\n0161 496 0000" and page.updated_by == supervisor_user
    created = AuditEvent.objects.get(object_type="referrals.servicepage", action=AuditEvent.Action.CREATE)
    assert created.actor == supervisor_user and created.object_id == str(page.pk)

    response = client.post(url, _form(page, contacts="Jo Adviser"))
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.contacts == "Jo Adviser" and page.version == 2
    updated = AuditEvent.objects.get(object_type="referrals.servicepage", action=AuditEvent.Action.UPDATE)
    assert "contacts" in updated.summary


def test_the_partnerships_manager_edits_it_an_advisor_does_not(as_user, manager_user, advisor_user, partnership):
    url = reverse("referrals:service_page_edit", args=[partnership.pk])
    assert as_user(manager_user).post(url, _form()).status_code == 302
    client = as_user(advisor_user)
    assert looks_missing(client.get(url))
    assert looks_missing(client.post(url, _form(ServicePage.objects.get(), contacts="Advisor's own")))
    assert ServicePage.objects.get().contacts != "Advisor's own"
    with pytest.raises(DomainError):
        services.service_page_save(partnership=partnership, actor=advisor_user, version=1, **TEXTS)


def test_a_supervisor_of_another_service_cannot_edit_it(client, partnership, page):
    other = factories.advisor(factories.AdviceOrganisationFactory(), supervisor=True)
    client.force_login(other)
    assert looks_missing(client.get(reverse("referrals:service_page_edit", args=[partnership.pk])))
    with pytest.raises(DomainError):
        services.service_page_save(partnership=partnership, actor=other, version=page.version, **TEXTS)


def test_bad_input_is_told_plainly_and_what_was_typed_is_kept(as_user, supervisor_user, partnership, page):
    client = as_user(supervisor_user)
    url = reverse("referrals:service_page_edit", args=[partnership.pk])
    response = client.post(url, _form(page, helps_with="", contacts="x" * 3001, eligibility="Over 18\x07"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter what the service helps with" in html
    assert "3000 characters" in html
    assert "Remove the control characters" in html
    assert "Record consent, then refer in hjp." in html  # the other answers are kept
    page.refresh_from_db()
    assert page.helps_with == TEXTS["helps_with"] and page.version == 1


def test_two_editors_do_not_overwrite_each_other(as_user, supervisor_user, manager_user, partnership, page):
    stale = _form(page, contacts="Mine")
    services.service_page_save(
        partnership=partnership, actor=manager_user, version=page.version, **(TEXTS | {"contacts": "Theirs"})
    )
    response = as_user(supervisor_user).post(reverse("referrals:service_page_edit", args=[partnership.pk]), stale)
    assert response.status_code == 400
    assert "Someone else saved this page" in response.content.decode()
    assert ServicePage.objects.get().contacts == "Theirs"


def test_two_first_writers_do_not_overwrite_each_other(as_user, supervisor_user, manager_user, partnership):
    client = as_user(supervisor_user)
    url = reverse("referrals:service_page_edit", args=[partnership.pk])
    mine = _form(contacts="Mine")  # loaded before there was a page: no version
    services.service_page_save(
        partnership=partnership, actor=manager_user, version=None, **(TEXTS | {"contacts": "Theirs"})
    )
    response = client.post(url, mine)
    assert response.status_code == 400 and "Someone else saved this page" in response.content.decode()
    assert ServicePage.objects.get().contacts == "Theirs"


# The session, the user with its unread count and second factors, the memberships; the partnership with its
# advice organisation and page; the partnership's upcoming sessions and their slots (referrers and the advice
# side only).
DETAIL_QUERIES = 6
MANAGER_DETAIL_QUERIES = 4
# The three every page spends, the partnerships with their pages.
LIST_QUERIES = 4
# The three, the partnership, and on a save: the locked page, the update, the audit entry (in a transaction).
EDIT_QUERIES = 4


@pytest.mark.parametrize("rows", [1, 12])
def test_query_counts_are_pinned_with_few_and_many_rows(
    as_user,
    referrer_user,
    advisor_user,
    manager_user,
    supervisor_user,
    health_org,
    partnership,
    page,
    rows,
    django_assert_num_queries,
):
    for _ in range(rows):
        factories.ClinicSessionFactory(partnership=partnership, advisor=advisor_user)
        factories.PartnershipFactory(health_organisations=[health_org])
    url = reverse("referrals:service_page", args=[partnership.pk])
    for user in (referrer_user, advisor_user):
        client = as_user(user)
        with django_assert_num_queries(DETAIL_QUERIES):
            assert client.get(url).status_code == 200
    client = as_user(manager_user)
    with django_assert_num_queries(MANAGER_DETAIL_QUERIES):
        assert client.get(url).status_code == 200
    client = as_user(referrer_user)
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(reverse("referrals:service_page_list")).status_code == 200
    client = as_user(supervisor_user)
    with django_assert_num_queries(EDIT_QUERIES):
        assert client.get(reverse("referrals:service_page_edit", args=[partnership.pk])).status_code == 200
