"""Who may see a referral or a case is one rule: `Referral.objects.visible_to(user)` and
`Case.objects.visible_to(user)`. For every person (a row of PEOPLE) and every object (a row of REFERRALS, in
each state, from a practice that shares visibility and one that does not), what the QuerySet holds is exactly
what the pages let them open (200), and everything else is 404."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, CaseState, ClosureReason
from hjp.accounts.models import Membership, Role
from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.support.pages import listed

S = ReferralStatus
# Every referral state, and the case a state implies (None: no case).
REFERRALS = [
    (S.DRAFT, None),
    (S.SUBMITTED, None),
    (S.ACCEPTED, CaseState.AWAITING_CONTACT),
    (S.IN_PROGRESS, CaseState.IN_PROGRESS),
    (S.CLOSED, CaseState.CLOSED),
    (S.DECLINED, None),
    (S.REDIRECTED, None),
    (S.CANCELLED, None),
    (S.ENTERED_IN_ERROR, None),
]
SHARING, PRIVATE = "sharing practice", "private practice"

# Each person, built from the world below: (name, how to make them).
PEOPLE = [
    ("author, sharing practice", lambda w: w["authors"][SHARING]),
    ("author, private practice", lambda w: w["authors"][PRIVATE]),
    ("colleague, sharing practice", lambda w: factories.referrer(w["orgs"][SHARING])),
    ("colleague, private practice", lambda w: factories.referrer(w["orgs"][PRIVATE])),
    ("referrer, another practice", lambda w: factories.referrer(factories.OrganisationFactory())),
    ("author who has left (no role now)", lambda w: w["leaver"]),
    ("advisor, the advice service", lambda w: factories.advisor(w["advice_org"])),
    ("advisor, another service", lambda w: factories.advisor()),
    ("supervisor, the advice service", lambda w: factories.advisor(w["advice_org"], supervisor=True)),
    ("supervisor, another service", lambda w: factories.advisor(supervisor=True)),
    ("manager", lambda w: factories.partnership_member(w["partnership"], Role.MANAGER)),
    ("funder", lambda w: factories.partnership_member(w["partnership"], Role.FUNDER)),
    ("admin", lambda w: factories.UserFactory(is_staff=True, is_superuser=True)),
]


def _referral(*, status, case_state, organisation, author, partnership):
    referral = factories.ReferralFactory(
        status=status,
        referring_organisation=organisation,
        referrer=author,
        partnership=partnership,
        submitted_at=None if status == S.DRAFT else timezone.now() - timedelta(days=3),
    )
    if case_state is not None:
        closed = case_state == CaseState.CLOSED
        factories.CaseFactory(
            referral=referral,
            state=case_state,
            first_contact_at=None if case_state == CaseState.AWAITING_CONTACT else timezone.now() - timedelta(days=1),
            closed_at=timezone.now() if closed else None,
            closure_reason=ClosureReason.WORK_COMPLETED if closed else "",
        )
    return referral


@pytest.fixture
def world(db):
    orgs = {
        SHARING: factories.OrganisationFactory(shares_referrals_internally=True),
        PRIVATE: factories.OrganisationFactory(shares_referrals_internally=False),
    }
    partnership = factories.PartnershipFactory(health_organisations=list(orgs.values()))
    authors = {key: factories.referrer(org) for key, org in orgs.items()}
    leaver = factories.referrer(orgs[SHARING])
    world = {
        "orgs": orgs,
        "partnership": partnership,
        "advice_org": partnership.advice_organisation,
        "authors": authors,
        "leaver": leaver,
    }
    for key, org in orgs.items():
        for status, case_state in REFERRALS:
            _referral(
                status=status, case_state=case_state, organisation=org, author=authors[key], partnership=partnership
            )
    for status, case_state in REFERRALS:  # the leaver made some before leaving
        _referral(
            status=status, case_state=case_state, organisation=orgs[SHARING], author=leaver, partnership=partnership
        )
    Membership.objects.filter(user=leaver).delete()
    # Another partnership's referrals, which nobody above works.
    for status, _case_state in REFERRALS:
        factories.ReferralFactory(status=status, submitted_at=None if status == S.DRAFT else timezone.now())
    world["people"] = {name: make(world) for name, make in PEOPLE}
    return world


def _opens(client, url_name, pk) -> bool:
    """Whether the page opens (200); anything but 404 is a wrong answer here."""
    status = client.get(reverse(url_name, args=[pk])).status_code
    assert status in (200, 404), f"{url_name} {pk} answered {status}"
    return status == 200


@pytest.mark.parametrize("person", [name for name, _ in PEOPLE])
def test_the_referrals_a_person_can_open_are_exactly_those_visible_to_them(client, world, person):
    user = world["people"][person]
    client.force_login(user)
    visible = set(Referral.objects.visible_to(user).values_list("pk", flat=True))
    opens = {pk for pk in Referral.objects.values_list("pk", flat=True) if _opens(client, "referrals:detail", pk)}
    assert opens == visible
    # The list shows the same referrals, for the roles that have a list.
    if person.startswith(("author", "colleague", "referrer", "advisor", "supervisor")) and "left" not in person:
        first = client.get(reverse("referrals:list"))
        assert {r.pk for r in listed(client, first)} == visible


@pytest.mark.parametrize("person", [name for name, _ in PEOPLE])
def test_the_cases_a_person_can_open_are_exactly_those_visible_to_them(client, world, person):
    user = world["people"][person]
    client.force_login(user)
    visible = set(Case.objects.visible_to(user).values_list("pk", flat=True))
    for url_name in ("casework:case", "outcomes:case_outcomes"):
        opens = {pk for pk in Case.objects.values_list("pk", flat=True) if _opens(client, url_name, pk)}
        assert opens == visible, url_name


@pytest.mark.parametrize("person", [name for name, _ in PEOPLE])
def test_triage_finds_exactly_the_referrals_sent_to_the_persons_service(client, world, person):
    """The triage pages answer (a form, or a redirect once triaged) for what was sent to the user's service;
    404 for everything else."""
    user = world["people"][person]
    client.force_login(user)
    received = set(Referral.objects.received_by(user).values_list("pk", flat=True))
    answers = {
        pk
        for pk in Referral.objects.values_list("pk", flat=True)
        if client.get(reverse("casework:accept", args=[pk])).status_code != 404
    }
    assert answers == received


def test_the_rule_is_not_empty_where_it_should_not_be(world):
    """The matrix above would pass if nobody saw anything: each side of the rule holds what it should."""
    people, orgs = world["people"], world["orgs"]
    visible = {name: Referral.objects.visible_to(user) for name, user in people.items()}
    sent = len(REFERRALS) - 1
    with_case = sum(1 for _, case_state in REFERRALS if case_state)
    assert visible["author, private practice"].count() == len(REFERRALS)  # their own, drafts included
    # In a practice that shares visibility, also the colleagues' sent referrals (the leaver's too).
    assert visible["author, sharing practice"].count() == len(REFERRALS) + sent
    # The sharing practice's colleague sees every sent referral of the practice (the leaver's too), no draft.
    assert set(visible["colleague, sharing practice"]) == set(
        Referral.objects.filter(referring_organisation=orgs[SHARING]).exclude(status=S.DRAFT)
    )
    assert visible["colleague, private practice"].count() == 0
    assert visible["advisor, the advice service"].count() == 3 * sent
    assert Case.objects.visible_to(people["supervisor, the advice service"]).count() == 3 * with_case
    for nobody in (
        "referrer, another practice",
        "author who has left (no role now)",
        "advisor, another service",
        "manager",
        "funder",
        "admin",
    ):
        assert visible[nobody].count() == 0, nobody


def test_a_referrer_who_has_left_cannot_open_the_referrals_they_made(client, referral):
    """Before, the list hid them (no referrer role) but the referral's page still opened by its address."""
    author = referral.referrer
    Membership.objects.filter(user=author).delete()
    client.force_login(author)
    response = client.get(reverse("referrals:detail", args=[referral.pk]))
    assert response.status_code == 404
    assert referral.patient.family_name not in response.content.decode()


# Pages open to every signed-in user whatever their role: their right is to the object itself (the referral or
# evidence request they may see, their own messages), checked by the lookup, with action rules on top.
OBJECT_GATED = {
    "referrals:detail",
    "referrals:cancel",
    "referrals:entered_in_error",
    "referrals:withdraw_consent",
    "referrals:consent_change",
    "casework:evidence_detail",
    "casework:evidence_file",
    # A clinic session (ClinicSession.objects.visible_to: its advice service and the partnership's referrers) and
    # a booking (through its referral's visibility), each checked in referrals.clinics.permissions.
    "referrals:clinic_detail",
    "referrals:clinic_cancel",
    "referrals:booking_add",
    "referrals:booking_change",
    "referrals:booking_cancel",
}
# Pages gated by a permission granted in the admin, not a membership role: the data protection role
# (outcomes.permissions.has_subject_access_role; who looked also its advice organisation's supervisors).
PERMISSION_GATED = {"outcomes:subject_access", "outcomes:subject_access_export", "outcomes:who_looked"}
# Pages for a provider outside hjp, without signing in: the signed, single-use link is the key
# (tests/casework/test_handover_links.py).
TOKEN_GATED = {"casework:handover_download", "casework:handover_download_file"}


def _role_sets(view):
    while view is not None:
        if hasattr(view, "role_sets"):
            return view.role_sets
        view = getattr(view, "__wrapped__", None)
    return None


def test_every_page_of_the_apps_has_one_role_gate_or_is_gated_by_its_object():
    from django.urls import get_resolver

    def walk(patterns, namespace=""):
        for entry in patterns:
            if hasattr(entry, "url_patterns"):
                yield from walk(entry.url_patterns, entry.namespace or namespace)
            else:
                yield f"{namespace}:{entry.name}", entry.callback

    views = {
        name: view
        for name, view in walk(get_resolver().url_patterns)
        if name.split(":")[0] in {"referrals", "casework", "outcomes"}
    }
    assert len(views) > 30
    ungated = {name for name, view in views.items() if _role_sets(view) is None}
    assert ungated == OBJECT_GATED | PERMISSION_GATED | TOKEN_GATED
