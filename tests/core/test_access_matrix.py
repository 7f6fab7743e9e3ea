"""Every URL of hjp x every kind of user x the object it names: one table, driven by the URL resolver.

A URL with no row in MATRIX (and no stated reason in SKIPPED) fails `test_every_url_is_in_the_matrix`: add it.
Signed-in users get 404 wherever they have no business, the same answer as for a missing object; anonymous
users are sent to sign in. GET only: what POSTs change is tested beside each app's pages.
"""

import re
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from casework import services as casework_services
from hjp.notifications import services as notification_services
from hjp.notifications.models import MessageKind
from outcomes import case_studies
from referrals import services as referral_services
from referrals.models import Referral
from tests import factories
from tests.casework.test_services import PDF
from tests.support.auth import authenticator_for
from tests.support.pages import looks_missing

ANONYMOUS = "anonymous"
OWNER = "referrer of the referral's organisation"
COLLEAGUE = "another referrer of the referral's organisation"
OTHER_REFERRER = "referrer of another organisation"
ADVISOR = "advisor of the advice organisation"
OTHER_ADVISOR = "advisor of another advice organisation"  # a supervisor there: sees all of its own service
SUPERVISOR = "supervisor"
MANAGER = "manager"
FUNDER = "funder"
ADMIN = "admin"
ROLES = [ANONYMOUS, OWNER, COLLEAGUE, OTHER_REFERRER, ADVISOR, OTHER_ADVISOR, SUPERVISOR, MANAGER, FUNDER, ADMIN]
SIGNED_IN = ROLES[1:]
REFERRERS = (OWNER, COLLEAGUE, OTHER_REFERRER)
ADVICE_WORKERS = (ADVISOR, OTHER_ADVISOR, SUPERVISOR)
ADVICE_SIDE = (ADVISOR, SUPERVISOR)

LOGIN = "to sign in"  # a 302 to the sign-in page
ADMIN_LOGIN = "to the admin sign-in"


def grant(status, *roles, default=404, anonymous=LOGIN) -> dict[str, object]:
    """`status` for the named roles, `default` (404: same as missing) for every other signed-in user."""
    return {role: default for role in SIGNED_IN} | dict.fromkeys(roles, status) | {ANONYMOUS: anonymous}


@dataclass(frozen=True)
class Row:
    args: tuple[str, ...]  # the kind of object each URL argument names, in order (see `world`)
    expected: dict[str, object]


# One row per URL name. Objects: "referral" a submitted referral (not yet accepted) of OWNER's organisation to
# the advice organisation; "case" an open case of ADVISOR's (from another referral of OWNER); its "issue",
# "appointment", "deadline", an "evidence" request OWNER answered; a "provider" of the advice organisation;
# a "message" in OWNER's inbox; a "thread_message" (with a document) OWNER wrote on "referral"; "moment" a
# wellbeing moment; an "outcome" (money) of the case's issue, of the "outcome_kind" named in its URL;
# "case_referral" the referral of the case; "patient" the referral's patient; "handover" a third referral of
# OWNER's, redirected and handed over to OTHER_ADVISOR's service; "outside_handover" the case's onward referral
# handed over to a provider outside hjp, and "handover_token" its download link's key.
# a "message" in OWNER's inbox; "moment" a wellbeing moment; an "outcome" (money) of the case's issue, of the
# "outcome_kind" named in its URL; "case_referral" the referral of the case; "patient" the referral's patient;
# "clinic" a clinic session of the partnership run by ADVISOR, "booking" the referral's slot in it.
MATRIX: dict[str, Row] = {
    # Everyone signed in is sent to their role's home; nobody else.
    "home": Row((), grant(302, *SIGNED_IN)),
    # Django's own pages: signed-in users are sent on from the sign-in page; the rest need a session.
    "login": Row((), grant(302, *SIGNED_IN, anonymous=200)),
    "logout": Row((), grant(405, *SIGNED_IN)),  # POST only: a link cannot sign anyone out
    "password_change": Row((), grant(200, *SIGNED_IN)),
    "password_change_done": Row((), grant(200, *SIGNED_IN)),
    "password_reset": Row((), grant(200, *SIGNED_IN, anonymous=200)),
    "password_reset_done": Row((), grant(200, *SIGNED_IN, anonymous=200)),
    "password_reset_complete": Row((), grant(200, *SIGNED_IN, anonymous=200)),
    "admin:index": Row((), grant(200, ADMIN, default=ADMIN_LOGIN, anonymous=ADMIN_LOGIN)),
    # Two-step sign-in: everyone's own; a supervisor resets the second factor of their own service's people.
    "accounts:verify": Row((), grant(200, *SIGNED_IN)),
    "accounts:security": Row((), grant(200, *SIGNED_IN)),
    "accounts:enrol": Row((), grant(200, *SIGNED_IN)),
    "accounts:totp_add": Row((), grant(200, *SIGNED_IN)),
    "accounts:passkey_add": Row((), grant(200, *SIGNED_IN)),
    # The passkey ceremonies are POST only (JSON); who may reach them at which stage is tested in
    # tests/accounts/test_passkeys.py.
    "accounts:passkey_register_begin": Row((), grant(405, *SIGNED_IN)),
    "accounts:passkey_register_complete": Row((), grant(405, *SIGNED_IN)),
    "accounts:passkey_auth_begin": Row((), grant(405, *SIGNED_IN)),
    "accounts:passkey_auth_complete": Row((), grant(405, *SIGNED_IN)),
    "accounts:recovery_codes": Row((), grant(302, *SIGNED_IN)),  # shown once, after they are made: else back
    "accounts:recovery_codes_regenerate": Row((), grant(405, *SIGNED_IN)),
    "accounts:device_remove": Row(("device_kind", "owner_device"), grant(200, OWNER)),
    "accounts:people": Row((), grant(200, SUPERVISOR, OTHER_ADVISOR)),  # each their own service's people
    "accounts:reset_second_factors": Row(("advisor",), grant(200, SUPERVISOR)),
    # The inbox: everyone signed in has one; a message only for its recipient.
    "notifications:inbox": Row((), grant(200, *SIGNED_IN)),
    "notifications:detail": Row(("message",), grant(200, OWNER)),
    "notifications:mark_all_read": Row((), grant(405, *SIGNED_IN)),
    "notifications:preferences": Row((), grant(200, *SIGNED_IN)),
    # Referrers' pages; the advice side reads the referrals sent to it.
    "referrals:home": Row((), grant(200, *REFERRERS)),
    # Its search form POSTs to it and is redirected back with an opaque search id (tests/core/test_search_out_of_urls.py).
    "referrals:list": Row((), grant(200, *REFERRERS, *ADVICE_WORKERS)),
    "referrals:create": Row((), grant(200, *REFERRERS)),
    # OWNER only while still a referrer of the referral's organisation: tests/referrals/test_access_follows_role.py
    # takes the same pages from a referrer who moved to manager, moved practice or left.
    "referrals:detail": Row(("referral",), grant(200, OWNER, *ADVICE_SIDE)),
    "referrals:edit": Row(("referral",), grant(302, OWNER)),  # a sent referral is not edited: back to its page
    "referrals:cancel": Row(("referral",), grant(200, OWNER)),
    "referrals:entered_in_error": Row(("referral",), grant(200, OWNER)),
    "referrals:withdraw_consent": Row(("referral",), grant(200, OWNER, *ADVICE_SIDE)),
    "referrals:consent_change": Row(("referral",), grant(200, OWNER, *ADVICE_SIDE)),
    # The conversation on a referral and its documents: its two sides only, never managers, funders or any other
    # organisation (a colleague only where the practice shares referrals: tests/referrals/test_thread.py).
    "referrals:thread": Row(("referral",), grant(200, OWNER, *ADVICE_SIDE)),
    "referrals:thread_attachment": Row(("referral", "thread_message"), grant(200, OWNER, *ADVICE_SIDE)),
    # Advice clinics: every referrer and advice worker has the list (each sees their partnerships' sessions);
    # a session for the partnership's referrers and its advice organisation; cancelled by its advisor (ADVISOR)
    # or a supervisor; a booking (of "referral") by either side of its referral.
    "referrals:clinic_list": Row((), grant(200, *REFERRERS, *ADVICE_WORKERS)),
    "referrals:clinic_add": Row((), grant(200, *ADVICE_WORKERS)),
    "referrals:clinic_detail": Row(("clinic",), grant(200, OWNER, COLLEAGUE, *ADVICE_SIDE)),
    "referrals:clinic_cancel": Row(("clinic",), grant(200, *ADVICE_SIDE)),
    # The referral has its booking already: those who may book are sent back to its page.
    "referrals:booking_add": Row(("referral",), grant(302, OWNER, *ADVICE_SIDE)),
    "referrals:booking_change": Row(("booking",), grant(200, OWNER, *ADVICE_SIDE)),
    "referrals:booking_cancel": Row(("booking",), grant(200, OWNER, *ADVICE_SIDE)),
    # The advice service's page for referrers: the partnership's referrers (OWNER's organisation is in it), its
    # advice organisation's workers and its managers (who edit it, with the supervisors); not funders, another
    # organisation's referrers or another service. The list sends those with one partnership to its page.
    "referrals:service_page_list": Row(
        (), grant(302, OWNER, COLLEAGUE, *ADVICE_SIDE, MANAGER) | {OTHER_REFERRER: 200, OTHER_ADVISOR: 200}
    ),
    "referrals:service_page": Row(("partnership",), grant(200, OWNER, COLLEAGUE, *ADVICE_SIDE, MANAGER)),
    "referrals:service_page_edit": Row(("partnership",), grant(200, SUPERVISOR, MANAGER)),
    # Casework: the advice organisation's own workers; lists naming no object show each service its own rows.
    "casework:home": Row((), grant(200, *ADVICE_WORKERS)),
    "casework:today_list": Row(("today_section",), grant(200, *ADVICE_WORKERS)),  # "See all" of the advisor's day
    "casework:triage": Row((), grant(200, *ADVICE_WORKERS)),
    "casework:accept": Row(("referral",), grant(200, *ADVICE_SIDE)),
    "casework:decline": Row(("referral",), grant(200, *ADVICE_SIDE)),
    "casework:redirect": Row(("referral",), grant(200, *ADVICE_SIDE)),
    "casework:caseload": Row((), grant(200, *ADVICE_WORKERS)),  # searched like referrals:list
    "casework:case": Row(("case",), grant(200, *ADVICE_SIDE)),
    "casework:case_edit": Row(("case",), grant(200, *ADVICE_SIDE)),
    "casework:reallocate": Row(("case",), grant(200, SUPERVISOR)),
    "casework:reopen": Row(("case",), grant(200, SUPERVISOR)),
    "casework:withdraw_consent": Row(("case",), grant(200, *ADVICE_SIDE)),
    "casework:note_add": Row(("case",), grant(200, *ADVICE_SIDE)),
    # By its author (ADVISOR) or a supervisor.
    "casework:note_entered_in_error": Row(("case", "note"), grant(200, *ADVICE_SIDE)),
    "casework:issue_add": Row(("case",), grant(200, *ADVICE_SIDE)),
    "casework:issue_edit": Row(("case", "issue"), grant(200, *ADVICE_SIDE)),
    "casework:issue_resolve": Row(("case", "issue"), grant(200, *ADVICE_SIDE)),
    "casework:appointment_add": Row(("case",), grant(200, *ADVICE_SIDE)),
    "casework:appointment_edit": Row(("case", "appointment"), grant(200, *ADVICE_SIDE)),
    "casework:appointment_entered_in_error": Row(("case", "appointment"), grant(200, *ADVICE_SIDE)),
    "casework:deadline_add": Row(("case",), grant(200, *ADVICE_SIDE)),
    "casework:deadline_done": Row(("case", "deadline"), grant(200, *ADVICE_SIDE)),
    "casework:evidence_add": Row(("case",), grant(200, *ADVICE_SIDE)),
    "casework:onward_add": Row(("case",), grant(200, *ADVICE_SIDE)),
    "casework:evidence_list": Row((), grant(200, *REFERRERS)),
    "casework:evidence_detail": Row(("evidence",), grant(200, OWNER, *ADVICE_SIDE)),
    "casework:evidence_file": Row(("evidence",), grant(200, OWNER, *ADVICE_SIDE)),
    "casework:providers": Row((), grant(200, *ADVICE_WORKERS)),
    "casework:provider_add": Row((), grant(200, SUPERVISOR, OTHER_ADVISOR)),  # to their own service's list
    "casework:provider_edit": Row(("provider",), grant(200, SUPERVISOR)),
    "casework:provider_import": Row((), grant(200, SUPERVISOR, OTHER_ADVISOR)),  # into their own service's list
    # A referral handed over to OTHER_ADVISOR's service: both services' workers; only the partner answers (the
    # service that handed it over is sent back to the handover's page, 302).
    "casework:handover": Row(("handover",), grant(200, *ADVICE_SIDE, OTHER_ADVISOR)),
    "casework:handover_accept": Row(("handover",), grant(200, OTHER_ADVISOR) | dict.fromkeys(ADVICE_SIDE, 302)),
    "casework:handover_decline": Row(("handover",), grant(200, OTHER_ADVISOR) | dict.fromkeys(ADVICE_SIDE, 302)),
    # One handed to a provider outside hjp: the service that handed it over records its outcome, makes its link.
    "casework:handover_close": Row(("outside_handover",), grant(200, *ADVICE_SIDE)),
    "casework:handover_link": Row(("outside_handover",), grant(200, *ADVICE_SIDE)),
    # The provider's page behind the signed link: no sign-in; the download itself is a POST.
    "casework:handover_download": Row(("handover_token",), grant(200, *SIGNED_IN, anonymous=200)),
    "casework:handover_download_file": Row(("handover_token",), grant(405, *SIGNED_IN, anonymous=405)),
    # Open Referral UK: the partnership's services, public.
    "oruk:services": Row((), grant(200, *SIGNED_IN, anonymous=200)),
    # Outcomes: aggregates for managers and funders; a case's outcomes for its advice organisation.
    "outcomes:dashboard": Row((), grant(200, MANAGER)),
    "outcomes:funder_report": Row((), grant(200, MANAGER, FUNDER)),
    "outcomes:funder_report_csv": Row((), grant(200, MANAGER, FUNDER)),
    # Leads of the partnership (its managers, its advice service's supervisors); champions: tests/outcomes/test_engagement.py.
    "outcomes:engagement": Row((), grant(200, MANAGER, SUPERVISOR)),
    "outcomes:funder_report_pdf": Row((), grant(200, MANAGER, FUNDER)),
    "outcomes:case_outcomes": Row(("case",), grant(200, *ADVICE_SIDE)),
    # The referrer's page of what the advice achieved (a referral with a case).
    "outcomes:referral_outcome": Row(("case_referral",), grant(200, OWNER)),
    # The referrers' survey: the referrer an outcome report ("message") went to answers about it from their inbox;
    # the advice service (its advisors and supervisors) and the partnership's managers read the results.
    "outcomes:staff_survey": Row(("message",), grant(200, OWNER)),
    "outcomes:staff_survey_results": Row((), grant(200, *ADVICE_SIDE, MANAGER)),
    # POST only: their forms are on the case's outcomes page (the method is refused before the case is looked up).
    "outcomes:financial_add": Row(("case",), grant(405, *SIGNED_IN)),
    "outcomes:decision_add": Row(("case",), grant(405, *SIGNED_IN)),
    "outcomes:non_financial_add": Row(("case",), grant(405, *SIGNED_IN)),
    "outcomes:wellbeing_record": Row(("case", "moment"), grant(405, *SIGNED_IN)),
    "outcomes:case_close": Row(("case",), grant(302, *ADVICE_SIDE)),  # to the close form on the outcomes page
    # The patient's own link: the case's advice organisation records the agreement and sends it (POST only).
    "outcomes:patient_voice": Row(("case",), grant(200, *ADVICE_SIDE)),
    "outcomes:patient_voice_agreement": Row(("case",), grant(405, *SIGNED_IN)),
    "outcomes:patient_link_send": Row(("case",), grant(405, *SIGNED_IN)),
    # Correcting a recorded outcome of an open case: its advice organisation's workers.
    "outcomes:outcome_edit": Row(("case", "outcome_kind", "outcome"), grant(200, *ADVICE_SIDE)),
    "outcomes:outcome_entered_in_error": Row(("case", "outcome_kind", "outcome"), grant(200, *ADVICE_SIDE)),
    # Subject access: the data protection role only (permission referrals.subject_access; ADMIN is a superuser,
    # so holds it); tests/outcomes/test_subject_access.py gives it to a user with no membership.
    "outcomes:subject_access": Row((), grant(200, ADMIN)),
    "outcomes:subject_access_export": Row(("patient",), grant(405, ADMIN)),  # POST only, after the role's gate
    # Who has looked at the patient: the role, and the supervisors of the advice organisation it was sent to.
    "outcomes:who_looked": Row(("patient",), grant(200, SUPERVISOR, ADMIN)),
    # Case studies ("case_study": approved by SUPERVISOR, written by ADVISOR on "case"): the advice organisation's
    # workers write and read them; the partnership's managers read approved ones and include them in the funder
    # report; funders read them only there. What the story's state does not allow now sends those who may read it
    # back to it (302).
    "outcomes:case_studies": Row((), grant(200, *ADVICE_WORKERS, MANAGER)),
    "outcomes:case_study": Row(("case_study",), grant(200, *ADVICE_SIDE, MANAGER)),
    "outcomes:case_study_add": Row(("case",), grant(200, *ADVICE_SIDE)),
    "outcomes:case_study_revise": Row(("case_study",), grant(302, *ADVICE_SIDE)),  # only once returned
    "outcomes:case_study_review": Row(("case_study",), grant(302, *ADVICE_SIDE)),  # approved already
    "outcomes:case_study_withdraw": Row(("case_study",), grant(200, *ADVICE_SIDE)),
    "outcomes:case_study_include": Row(("case_study",), grant(405, *SIGNED_IN)),  # POST only
}

# URLs left out of the table, each with its reason.
SKIPPED_NAMESPACES = {
    "admin": "Django's admin site, behind Django's own staff check (admin:index is in the table; the audit "
    "log's read-only admin is tested in tests/core/test_access.py)",
    "api_v1": "the API for systems answers bearer tokens, not sessions: API_MATRIX below (its schema and docs are "
    "public and hold no data: tests/api/test_docs.py)",
}
SKIPPED_NAMESPACES["fhir"] = "HL7 FHIR answers bearer tokens, not sessions: FHIR_MATRIX below"
SKIPPED = {
    "fhir_base": "the FHIR base without its slash, the same view as fhir:transaction in FHIR_MATRIX: "
    "tests/api/fhir/test_views.py",
    "oauth_token": "the OAuth 2.0 token endpoint, POST only, for system clients: tests/api/test_foundation.py",
    "patient_link": "the patient's own page, no sign-in, reached only with a token made for one patient: "
    "tests/outcomes/test_patient_voice.py (unknown, used, expired and withdrawn links)",
    "patient_link_thanks": "the patient's thank-you page, no sign-in, no data: tests/outcomes/test_patient_voice.py",
    "password_reset_confirm": "takes a one-time token made for one user; tests/core/test_auth_and_security.py "
    "follows a real reset link",
}


def url_names(patterns=None, namespace="") -> set[str]:
    """Every named URL the resolver knows, as 'namespace:name'; a nameless pattern is reported as such."""
    names = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            names |= url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or f"<unnamed {pattern.pattern}>"
            names.add(f"{namespace}:{name}" if namespace else name)
    return names


def test_every_url_is_in_the_matrix():
    reached = {name for name in url_names() if name.split(":")[0] not in SKIPPED_NAMESPACES or name in MATRIX} - set(
        SKIPPED
    )
    missing = sorted(reached - set(MATRIX))
    assert not missing, f"add these URLs to the matrix in {__file__}: {missing}"
    stale = sorted(set(MATRIX) - reached)
    assert not stale, f"these matrix rows name no URL any more: {stale}"


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
    django_capture_on_commit_callbacks,
):
    case_referral = factories.ReferralFactory(
        referrer=referrer_user, referring_organisation=health_org, partnership=partnership
    )
    case = casework_services.referral_accept(referral=case_referral, actor=advisor_user)
    evidence = factories.EvidenceRequestFactory(case=case)
    casework_services.evidence_request_answer(
        evidence=evidence, actor=referrer_user, upload=SimpleUploadedFile("a.pdf", PDF)
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = notification_services.message_queue(
            recipient=referrer_user,
            kind=MessageKind.OUTCOME_REPORT,
            key="matrix",
            subject=f"Outcome of referral {case_referral.reference}",
            body="The case has closed.",
            url=reverse("referrals:detail", args=[case_referral.pk]),
            referral_id=case_referral.pk,
        )
    thread_message = referral_services.referral_message_post(
        referral=referral, actor=referrer_user, text="A letter", upload=SimpleUploadedFile("a.pdf", PDF)
    )
    other_service = factories.AdviceOrganisationFactory()
    handed_over = factories.ReferralFactory(
        referrer=referrer_user, referring_organisation=health_org, partnership=partnership
    )
    share = casework_services.ShareConsent(given_by="patient", method="phone", said_at=timezone.now())
    handover = casework_services.referral_redirect(
        referral=handed_over,
        actor=advisor_user,
        provider=factories.AdviceProviderFactory(advice_organisation=advice_org, partner_organisation=other_service),
        note="Housing.",
        share=share,
    ).handover
    outside_handover = casework_services.onward_referral_make(
        case=case,
        actor=advisor_user,
        provider=factories.AdviceProviderFactory(advice_organisation=advice_org),
        note="x",
        share=share,
    ).handover
    clinic = factories.ClinicSessionFactory(partnership=partnership, advisor=advisor_user)
    case_study = case_studies.case_study_write(
        case=case,
        actor=advisor_user,
        title="A story",
        story="Anonymised.",
        outcome_summary="Won.",
        agreement_method="verbal",
    )
    case_studies.case_study_review(story=case_study, actor=supervisor_user, approve=True)
    objects = {
        "handover": handover.pk,
        "outside_handover": outside_handover.pk,
        "handover_token": referral_services.handover_link_issue(handover=outside_handover, actor=advisor_user),
        "thread_message": thread_message.pk,
        "referral": referral.pk,
        "case": case.pk,
        "issue": case.issues.get().pk,
        "appointment": factories.AppointmentFactory(case=case).pk,
        "note": factories.CaseNoteFactory(case=case, author=advisor_user).pk,
        "deadline": factories.DeadlineFactory(case=case).pk,
        "evidence": evidence.pk,
        "provider": factories.AdviceProviderFactory(advice_organisation=advice_org).pk,
        "message": message.pk,
        "moment": "start",
        "device_kind": "totp",
        "owner_device": authenticator_for(referrer_user).pk,
        "advisor": advisor_user.pk,
        "case_referral": case_referral.pk,
        "outcome_kind": "financial",
        "outcome": factories.FinancialOutcomeFactory(issue=case.issues.get()).pk,
        "patient": referral.patient_id,
        "today_section": "deadlines",
        "clinic": clinic.pk,
        "partnership": partnership.pk,
        "case_study": case_study.pk,
        "booking": factories.ClinicBookingFactory(session=clinic, referral=referral).pk,
    }
    users = {
        ANONYMOUS: None,
        OWNER: referrer_user,
        COLLEAGUE: factories.referrer(health_org),
        OTHER_REFERRER: factories.referrer(factories.OrganisationFactory()),
        ADVISOR: advisor_user,
        OTHER_ADVISOR: factories.advisor(other_service, supervisor=True),
        SUPERVISOR: supervisor_user,
        MANAGER: manager_user,
        FUNDER: funder_user,
        ADMIN: factories.UserFactory(is_staff=True, is_superuser=True),
    }
    return objects, users


def what_a_get_gives(response) -> object:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("login")):
            return LOGIN
    return response.status_code


ROWS = sorted(MATRIX.items())


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "row"), ROWS, ids=[name for name, _ in ROWS])
def test_url_by_role(client, world, url_name, row):
    objects, users = world
    url = reverse(url_name, args=[objects[kind] for kind in row.args])
    got = {}
    for role in ROLES:
        client.logout()
        if users[role] is not None:
            client.force_login(users[role])
        response = client.get(url)
        got[role] = what_a_get_gives(response)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            _assert_csp_safe(response.content.decode(), url)
        if response.status_code == 404:
            assert looks_missing(response), (url, role)  # the same page as for something that does not exist
    wrong = {
        role: f"got {got[role]}, the matrix says {row.expected[role]}"
        for role in ROLES
        if got[role] != row.expected[role]
    }
    assert not wrong, f"GET {url}: {wrong}"

    # Any one object missing is 404 even for those allowed the real ones (no page tells missing from forbidden).
    allowed = [role for role in SIGNED_IN if row.expected[role] in (200, 302)]
    if allowed:
        client.force_login(users[allowed[0]])
    for position, kind in enumerate(row.args if allowed else ()):
        if kind not in ("moment", "device_kind"):
            args = [objects[k] for k in row.args]
            args[position] = 999999
            assert client.get(reverse(url_name, args=args)).status_code == 404, (url_name, kind, "missing")


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "row"), ROWS, ids=[name for name, _ in ROWS])
def test_every_page_waits_for_the_second_factor(client, world, url_name, row):
    """Signed in with the password only, every user who holds a second factor reaches no page but the second
    step (and signing out) until they pass it: the admin's pages too."""
    objects, users = world
    url = reverse(url_name, args=[objects[kind] for kind in row.args])
    # The passkey ceremony of the second step too (POST only: a GET is refused before it does anything).
    open_before_the_second_step = {
        "accounts:verify": 200,
        "logout": 405,
        "accounts:passkey_auth_begin": 405,
        "accounts:passkey_auth_complete": 405,
    }
    for role in SIGNED_IN:
        authenticator_for(users[role])
        client.logout()
        client.force_login(users[role], second_factor=False)
        response = client.get(url)
        if url_name in open_before_the_second_step:
            assert response.status_code == open_before_the_second_step[url_name], (url, role)
        else:
            assert response.status_code == 302, (url, role)
            assert response["Location"].startswith(f"{reverse('accounts:verify')}?next="), (url, role)


def _assert_csp_safe(html: str, url: str) -> None:
    """The strict CSP allows no inline style attributes and no inline scripts (JSON data is not a script)."""
    assert 'style="' not in html, url
    assert re.search(r'<script(?![^>]*\b(src=|type="application/json"))', html) is None, url


# A message stays its recipient's after they move (its patient content is withheld from them).
# What stays theirs whatever their role: their own inbox notices (the notice's subject) and their own authenticators.
STILL_THEIRS = {"notifications:detail": 200, "accounts:device_remove": 200}


@pytest.mark.django_db
def test_the_owner_moved_to_manager_gets_what_a_manager_gets_on_every_url(client, world, partnership):
    """Access follows the current role: once OWNER's referrer membership becomes a manager's, every URL answers
    them as it answers a manager, whatever they made (see tests/referrals/test_access_follows_role.py)."""
    from hjp.accounts.models import Membership, Role

    objects, users = world
    membership = Membership.objects.get(user=users[OWNER], role=Role.REFERRER)
    membership.role, membership.organisation, membership.profession = Role.MANAGER, None, ""
    membership.partnership = partnership
    membership.save()
    client.force_login(users[OWNER])
    wrong = {}
    for url_name, row in ROWS:
        url = reverse(url_name, args=[objects[kind] for kind in row.args])
        expected = STILL_THEIRS.get(url_name, row.expected[MANAGER])
        got = what_a_get_gives(client.get(url))
        if got != expected:
            wrong[url] = f"got {got}, a manager gets {expected}"
    assert not wrong


# --- the API for systems: every endpoint x every kind of client -------------------------------------------------
# A client acts as a system account holding its organisation's role (api.ApiClient), so it gets what a person of
# that organisation gets, and never more; a session cookie gets nothing (401). Managers and funders belong to
# partnerships, not organisations, so no client of theirs can exist (test_no_client_for_other_than_health_or_advice).
NO_TOKEN = "no token"
SESSION = "the owner's signed-in session, no token"
OWN_HEALTH = "client of the referral's health organisation"
OTHER_HEALTH = "client of another health organisation"
OTHER_ADVICE = "client of another advice organisation"
OWN_ADVICE = "client of the advice organisation"  # last: its moves change the objects
CLIENTS = [NO_TOKEN, SESSION, OWN_HEALTH, OTHER_HEALTH, OTHER_ADVICE, OWN_ADVICE]


def api_grant(**given) -> dict[str, int]:
    """401 without a token; 404 (the same as missing) for every client not named."""
    names = {
        "own_health": OWN_HEALTH,
        "other_health": OTHER_HEALTH,
        "other_advice": OTHER_ADVICE,
        "own_advice": OWN_ADVICE,
    }
    return {NO_TOKEN: 401, SESSION: 401} | dict.fromkeys(CLIENTS[2:], 404) | {names[k]: v for k, v in given.items()}


# (method, URL name, the object its id names, body): what each client gets. A health client holds no cases:write,
# so it is refused every move by scope (403) before anything is looked up. The lists answer 200 with only the
# client's own rows: the test checks the referral is absent from the others' answers.
API_MATRIX = {
    ("GET", "api_v1:referral_list", None): api_grant(
        own_health=200, other_health=200, other_advice=200, own_advice=200
    ),
    # The referral was made by a person (OWNER): its organisation's client sees it only where the organisation
    # shares visibility, like COLLEAGUE (its own referrals it sees: tests/api/test_referrals.py).
    ("GET", "api_v1:referral_detail", "referral"): api_grant(own_advice=200),
    # Every move is posted an empty body: the client that may make it is told what is missing (accept: the advisor).
    ("POST", "api_v1:referral_accept", "referral"): api_grant(own_health=403, other_health=403, own_advice=400),
    ("POST", "api_v1:referral_decline", "referral"): api_grant(own_health=403, other_health=403, own_advice=400),
    ("POST", "api_v1:referral_in_progress", "case_referral"): api_grant(
        own_health=403, other_health=403, own_advice=400
    ),
    ("POST", "api_v1:referral_close", "case_referral"): api_grant(own_health=403, other_health=403, own_advice=400),
}


@pytest.fixture
def api_world(world, health_org, advice_org):
    from tests.api.conftest import register, token_for

    objects, users = world
    tokens = {
        OWN_HEALTH: token_for(register(health_org)),
        OTHER_HEALTH: token_for(register(factories.OrganisationFactory())),
        OTHER_ADVICE: token_for(register(factories.AdviceOrganisationFactory())),
        OWN_ADVICE: token_for(register(advice_org)),
    }
    return objects, users, tokens


def test_every_api_url_is_in_the_api_matrix():
    api_names = {name for name in url_names() if name.startswith("api_v1:")} - {"api_v1:schema", "api_v1:docs"}
    assert api_names == {name for _, name, _ in API_MATRIX}


API_ROWS = sorted(API_MATRIX.items(), key=lambda item: item[0][1])


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "expected"), API_ROWS, ids=[key[1] for key, _ in API_ROWS])
def test_api_url_by_client(client, api_world, key, expected):
    method, url_name, kind = key
    objects, users, tokens = api_world
    referral = Referral.objects.select_related("patient").get(pk=objects[kind or "referral"])
    url = reverse(url_name, args=[objects[kind]] if kind else [])
    got, leaked = {}, []
    for who in CLIENTS:
        client.logout()
        headers = {}
        if who == SESSION:
            client.force_login(users[OWNER])
        elif who in tokens:
            headers["Authorization"] = f"Bearer {tokens[who]}"
        if method == "GET":
            response = client.get(url, headers=headers)
        else:
            response = client.post(url, {}, content_type="application/json", headers=headers)
        got[who] = response.status_code
        if expected[who] != 200 or (kind is None and who in (OWN_HEALTH, OTHER_HEALTH, OTHER_ADVICE)):
            text = response.content.decode()
            if referral.reference in text or referral.patient.family_name in text:
                leaked.append(who)
    wrong = {who: f"got {got[who]}, the matrix says {expected[who]}" for who in CLIENTS if got[who] != expected[who]}
    assert not wrong, f"{method} {url}: {wrong}"
    assert not leaked, f"{method} {url} shows the referral to {leaked}"


@pytest.mark.django_db
def test_no_client_for_other_than_health_or_advice_organisations(health_org):
    from django.core.exceptions import ValidationError

    from tests.api.conftest import register

    health_org.kind = "funder"
    with pytest.raises(ValidationError):
        register(health_org, scopes=["referrals:read"])


# --- HL7 FHIR R4 (/fhir/): every URL x every kind of API client --------------------------------------------------
# The FHIR interface answers bearer tokens only. Clients: of the referral's health organisation (it made
# "api_referral" through its system account), of its advice organisation, of another health organisation, of
# another advice organisation; no token; and a signed-in session's cookies alone. "web_referral" was made by a
# person (OWNER) of the same health organisation, which does not share referrals internally: its client sees it as
# OWNER's colleagues do, that is not at all. Objects the client may not see are 404, as missing ones are.
# (NO_TOKEN, SESSION and the clients are the API matrix's, above.)
TOKEN_CLIENTS = [OWN_HEALTH, OWN_ADVICE, OTHER_HEALTH, OTHER_ADVICE]


def clients_get(status, *callers, default=404, anonymous=401) -> dict[str, int]:
    return (
        {c: default for c in TOKEN_CLIENTS} | dict.fromkeys(callers, status) | {NO_TOKEN: anonymous, SESSION: anonymous}
    )


FHIR_MATRIX: dict[str, Row] = {
    # Public, as FHIR expects: what the server does, and hjp's code systems.
    "fhir:metadata": Row((), clients_get(200, *TOKEN_CLIENTS, anonymous=200)),
    "fhir:code_system": Row(("code_system",), clients_get(200, *TOKEN_CLIENTS, anonymous=200)),
    "fhir:structure_definition": Row(("extension",), clients_get(200, *TOKEN_CLIENTS, anonymous=200)),
    # POST only (a GET is not a transaction).
    "fhir:transaction": Row((), clients_get(405, *TOKEN_CLIENTS)),
    # Every client may search; each finds only its own organisation's (tested in tests/api/fhir/test_views.py).
    "fhir:task_search": Row((), clients_get(200, *TOKEN_CLIENTS)),
    "fhir:task": Row(("api_referral",), clients_get(200, OWN_HEALTH, OWN_ADVICE)),
    # POST only (cases:write; tested in tests/api/fhir/test_redirect.py).
    "fhir:task_redirect": Row(("api_referral",), clients_get(405, *TOKEN_CLIENTS)),
    "fhir:service_request": Row(("api_referral",), clients_get(200, OWN_HEALTH, OWN_ADVICE)),
    "fhir:consent": Row(("api_consent",), clients_get(200, OWN_HEALTH, OWN_ADVICE)),
    "fhir:patient": Row(("api_patient",), clients_get(200, OWN_HEALTH, OWN_ADVICE)),
    "fhir:unknown": Row(("unknown",), clients_get(404, *TOKEN_CLIENTS, anonymous=404)),
    # Every client lists its own subscriptions; one subscription is its client's alone.
    "fhir:subscriptions": Row((), clients_get(200, *TOKEN_CLIENTS)),
    "fhir:subscription": Row(("api_subscription",), clients_get(200, OWN_HEALTH)),
    # An organisation is served to its own clients and its partnerships' (a search finds only those).
    "fhir:organization_search": Row((), clients_get(200, *TOKEN_CLIENTS)),
    "fhir:organization": Row(("health_org",), clients_get(200, OWN_HEALTH, OWN_ADVICE)),
}
# The same URLs naming what a person of the health organisation referred: its advice organisation's client only.
FHIR_WEB_REFERRAL = {
    "fhir:task": "web_referral",
    "fhir:service_request": "web_referral",
    "fhir:consent": "web_consent",
    "fhir:patient": "web_patient",
}


def test_every_fhir_url_is_in_the_fhir_matrix():
    assert {name for name in url_names() if name.startswith("fhir:")} == set(FHIR_MATRIX)


@pytest.fixture
def fhir_world(referral, referrer_user, health_org, partnership, advice_org):
    from api.fhir.subscriptions import Wanted, subscription_create
    from tests.api.conftest import register, token_for

    own_health = register(health_org)
    api_referral = factories.ReferralFactory(
        referrer=own_health.client.service_user, referring_organisation=health_org, partnership=partnership
    )
    objects = {
        "api_referral": api_referral.pk,
        "api_consent": api_referral.consent.pk,
        "api_patient": api_referral.patient_id,
        "web_referral": referral.pk,
        "web_consent": referral.consent.pk,
        "web_patient": referral.patient_id,
        "code_system": "case-status",
        "extension": "responsible-advisor",
        "health_org": health_org.pk,
        "unknown": "Observation/1",
        "api_subscription": subscription_create(
            client=own_health.client,
            actor=None,
            wanted=Wanted(endpoint="https://hooks.example.org/hjp", content="id-only", reason="", end=None),
        )[0].pk,
    }
    tokens = {
        OWN_HEALTH: token_for(own_health),
        OWN_ADVICE: token_for(register(advice_org)),
        OTHER_HEALTH: token_for(register(factories.OrganisationFactory())),
        OTHER_ADVICE: token_for(register(factories.AdviceOrganisationFactory())),
    }
    return objects, tokens, referrer_user


FHIR_ROWS = sorted(FHIR_MATRIX.items())


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "row"), FHIR_ROWS, ids=[name for name, _ in FHIR_ROWS])
def test_fhir_url_by_client(client, fhir_world, url_name, row):
    objects, tokens, person = fhir_world

    def answers(url) -> dict[str, int]:
        got = {}
        for caller in CLIENTS:
            client.logout()
            headers = {"Authorization": f"Bearer {tokens[caller]}"} if caller in tokens else {}
            if caller == SESSION:
                client.force_login(person)
            response = client.get(url, headers=headers)
            assert response["Content-Type"].startswith("application/fhir+json"), (url, caller)
            got[caller] = response.status_code
        return got

    url = reverse(url_name, args=[objects[kind] for kind in row.args])
    got = answers(url)
    assert got == row.expected, f"GET {url}"
    if url_name in FHIR_WEB_REFERRAL:
        url = reverse(url_name, args=[objects[FHIR_WEB_REFERRAL[url_name]]])
        assert answers(url) == clients_get(200, OWN_ADVICE), f"GET {url}"
    # (A POST-only URL answers a GET 405 whatever it names: its missing object is tested with its POST.)
    for position, _kind in enumerate(row.args if url_name not in ("fhir:unknown", "fhir:task_redirect") else ()):
        args = [objects[k] for k in row.args]
        args[position] = "999999"
        response = client.get(reverse(url_name, args=args), headers={"Authorization": f"Bearer {tokens[OWN_HEALTH]}"})
        assert response.status_code == 404, (url_name, "missing")
