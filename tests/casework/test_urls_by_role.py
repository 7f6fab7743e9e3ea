"""Every casework URL, fetched by every kind of user. Advisors of another advice organisation, referrers,
managers and funders get 404 wherever they have no business: the same answer as for a missing object."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casework import services
from tests import factories

from .test_services import PDF

pytestmark = pytest.mark.django_db

ANONYMOUS, REFERRER, OTHER_REFERRER, OTHER_ADVISOR, MANAGER, FUNDER, ADVISOR, SUPERVISOR = (
    "anonymous", "referrer", "other_referrer", "other_advisor", "manager", "funder", "advisor", "supervisor")
ROLES = [ANONYMOUS, REFERRER, OTHER_REFERRER, OTHER_ADVISOR, MANAGER, FUNDER, ADVISOR, SUPERVISOR]

ADVICE_SIDE = {ADVISOR: 200, SUPERVISOR: 200}
SUPERVISOR_ONLY = {SUPERVISOR: 200}
# Pages that name no object show every advice worker their own service's rows (the other service's
# supervisor included: see test_lists_of_another_service_show_none_of_ours).
ANY_ADVICE_WORKER = {ADVISOR: 200, SUPERVISOR: 200, OTHER_ADVISOR: 200}
REFERRER_ONLY = {REFERRER: 200, OTHER_REFERRER: 200}
ADDRESSEE_AND_ADVICE_SIDE = {REFERRER: 200, ADVISOR: 200, SUPERVISOR: 200}

# (url name, the objects its arguments name, who gets 200; everyone else signed in gets 404)
MATRIX = [
    ("casework:home", (), ANY_ADVICE_WORKER),
    ("casework:triage", (), ANY_ADVICE_WORKER),
    ("casework:accept", ("submitted",), ADVICE_SIDE),
    ("casework:decline", ("submitted",), ADVICE_SIDE),
    ("casework:redirect", ("submitted",), ADVICE_SIDE),
    ("casework:caseload", (), ANY_ADVICE_WORKER),
    ("casework:case", ("case",), ADVICE_SIDE),
    ("casework:case_edit", ("case",), ADVICE_SIDE),
    ("casework:reallocate", ("case",), SUPERVISOR_ONLY),
    ("casework:reopen", ("case",), SUPERVISOR_ONLY),
    ("casework:withdraw_consent", ("case",), ADVICE_SIDE),
    ("casework:note_add", ("case",), ADVICE_SIDE),
    ("casework:issue_add", ("case",), ADVICE_SIDE),
    ("casework:issue_edit", ("case", "issue"), ADVICE_SIDE),
    ("casework:issue_resolve", ("case", "issue"), ADVICE_SIDE),
    ("casework:appointment_add", ("case",), ADVICE_SIDE),
    ("casework:appointment_edit", ("case", "appointment"), ADVICE_SIDE),
    ("casework:deadline_add", ("case",), ADVICE_SIDE),
    ("casework:deadline_done", ("case", "deadline"), ADVICE_SIDE),
    ("casework:evidence_add", ("case",), ADVICE_SIDE),
    ("casework:onward_add", ("case",), ADVICE_SIDE),
    ("casework:evidence_list", (), REFERRER_ONLY),
    ("casework:evidence_detail", ("evidence",), ADDRESSEE_AND_ADVICE_SIDE),
    ("casework:evidence_file", ("evidence",), ADDRESSEE_AND_ADVICE_SIDE),
    ("casework:providers", (), ANY_ADVICE_WORKER),
    ("casework:provider_add", (), {SUPERVISOR: 200, OTHER_ADVISOR: 200}),
    ("casework:provider_edit", ("provider",), SUPERVISOR_ONLY),
]


@pytest.fixture
def world(referral, referrer_user, advisor_user, supervisor_user, manager_user, funder_user, health_org,
          partnership, advice_org, provider):
    case = services.referral_accept(referral=referral, actor=advisor_user)
    evidence = factories.EvidenceRequestFactory(case=case)
    services.evidence_request_answer(evidence=evidence, actor=referrer_user,
                                     upload=SimpleUploadedFile("a.pdf", PDF))
    objects = {
        "case": case,
        "submitted": factories.ReferralFactory(referring_organisation=health_org, partnership=partnership),
        "issue": case.issues.get(),
        "appointment": factories.AppointmentFactory(case=case),
        "deadline": factories.DeadlineFactory(case=case),
        "evidence": evidence,
        "provider": provider,
    }
    users = {
        ANONYMOUS: None,
        REFERRER: referrer_user,
        OTHER_REFERRER: factories.referrer(health_org),
        OTHER_ADVISOR: factories.advisor(factories.AdviceOrganisationFactory(), supervisor=True),
        MANAGER: manager_user,
        FUNDER: funder_user,
        ADVISOR: advisor_user,
        SUPERVISOR: supervisor_user,
    }
    return objects, users


@pytest.mark.parametrize(("url_name", "arg_names", "allowed"), MATRIX, ids=[row[0] for row in MATRIX])
def test_url_by_role(client, world, url_name, arg_names, allowed):
    objects, users = world
    url = reverse(url_name, args=[objects[name].pk for name in arg_names])
    for role in ROLES:
        client.logout()
        if users[role] is not None:
            client.force_login(users[role])
        response = client.get(url)
        if role == ANONYMOUS:
            assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
        else:
            assert response.status_code == allowed.get(role, 404), (url, role)
            if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
                _assert_csp_safe(response.content.decode(), url)


def _assert_csp_safe(html: str, url: str) -> None:
    """The strict CSP allows no inline style attributes and no inline scripts."""
    assert 'style="' not in html, url
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, url


def test_missing_objects_are_404_for_the_right_advisor_too(client, world):
    _objects, users = world
    client.force_login(users[ADVISOR])
    for url_name, arg_names, _allowed in MATRIX:
        if arg_names:
            assert client.get(reverse(url_name, args=[999999] * len(arg_names))).status_code == 404, url_name


def test_the_matrix_covers_every_casework_url():
    from casework.urls import urlpatterns

    assert {f"casework:{p.name}" for p in urlpatterns} == {row[0] for row in MATRIX}


def test_posts_by_an_advisor_of_another_service_are_404_and_change_nothing(client, world):
    objects, users = world
    client.force_login(users[OTHER_ADVISOR])
    case = objects["case"]
    response = client.post(reverse("outcomes:case_close", args=[case.pk]),
                           {"close_case-version": case.version, "close_case-closure_reason": "advice_given",
                            "close_case-no_outcome_reason": "advice_only"})
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.is_open
    response = client.post(reverse("casework:accept", args=[objects["submitted"].pk]))
    assert response.status_code == 404


def test_lists_of_another_service_show_none_of_ours(client, world):
    objects, users = world
    client.force_login(users[OTHER_ADVISOR])
    assert client.get(reverse("casework:triage")).context["page"].paginator.count == 0
    caseload = client.get(reverse("casework:caseload"), {"scope": "organisation"})
    assert caseload.context["page"].paginator.count == 0
    assert objects["provider"].name not in client.get(reverse("casework:providers")).content.decode()
    home = client.get(reverse("casework:home")).context["home"]
    assert home.waiting_count == 0 and not home.deadlines


def test_navigation_by_role(client, world):
    _objects, users = world
    client.force_login(users[REFERRER])
    assert reverse("casework:evidence_list") in client.get(reverse("referrals:home")).content.decode()
    client.force_login(users[ADVISOR])
    assert client.get(reverse("home"))["Location"] == reverse("casework:home")
