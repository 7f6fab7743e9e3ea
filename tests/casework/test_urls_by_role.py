"""Casework seen by an advice service that is not the case's: its POSTs are refused and its lists hold none of
our rows. What every URL gives every kind of user on GET is in tests/core/test_access_matrix.py."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casework import services
from tests import factories

from .test_services import PDF

pytestmark = pytest.mark.django_db

ANONYMOUS, REFERRER, OTHER_REFERRER, OTHER_ADVISOR, MANAGER, FUNDER, ADVISOR, SUPERVISOR = (
    "anonymous",
    "referrer",
    "other_referrer",
    "other_advisor",
    "manager",
    "funder",
    "advisor",
    "supervisor",
)


@pytest.fixture
def world(
    referral,
    referrer_user,
    advisor_user,
    supervisor_user,
    manager_user,
    funder_user,
    health_org,
    partnership,
    advice_org,
    provider,
):
    case = services.referral_accept(referral=referral, actor=advisor_user)
    evidence = factories.EvidenceRequestFactory(case=case)
    services.evidence_request_answer(evidence=evidence, actor=referrer_user, upload=SimpleUploadedFile("a.pdf", PDF))
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


def test_posts_by_an_advisor_of_another_service_are_404_and_change_nothing(client, world):
    objects, users = world
    client.force_login(users[OTHER_ADVISOR])
    case = objects["case"]
    response = client.post(
        reverse("outcomes:case_close", args=[case.pk]),
        {
            "close_case-version": case.version,
            "close_case-closure_reason": "advice_given",
            "close_case-no_outcome_reason": "advice_only",
        },
    )
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.is_open
    response = client.post(reverse("casework:accept", args=[objects["submitted"].pk]))
    assert response.status_code == 404


def test_lists_of_another_service_show_none_of_ours(client, world):
    objects, users = world
    client.force_login(users[OTHER_ADVISOR])
    assert client.get(reverse("casework:triage")).context["page"].object_list == []
    caseload = client.get(reverse("casework:caseload"), {"scope": "organisation"})
    assert caseload.context["page"].object_list == []
    assert objects["provider"].name not in client.get(reverse("casework:providers")).content.decode()
    home = client.get(reverse("casework:home")).context["home"]
    assert home.waiting_count == 0 and not home.deadlines


def test_navigation_by_role(client, world):
    _objects, users = world
    client.force_login(users[REFERRER])
    assert reverse("casework:evidence_list") in client.get(reverse("referrals:home")).content.decode()
    client.force_login(users[ADVISOR])
    assert client.get(reverse("home"))["Location"] == reverse("casework:home")
