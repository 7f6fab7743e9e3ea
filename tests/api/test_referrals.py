"""The REST API's referrals: submitting one (validated as the form is, idempotent), reading and listing them,
and the advice side moving them, through the apps' own services and with audit entries naming the client."""

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import IdempotencyRecord
from casework.models import Case
from hjp.audit.models import AuditEvent
from referrals import services as referral_services
from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.api.conftest import register

LIST = "/api/v1/referrals/"
# The moves cost what the services cost the pages (locks, the transition, the case and its issues, the status
# notice to the referrer, audit entries, the figures to refresh), plus the token, the memberships, the named
# advisor (one query) and the referral read back, and for each change of the Task (the state, then the case
# status) the subscriptions that follow it (one query each, api.fhir.subscriptions): the same whatever the referral
# holds.
ACCEPT_QUERIES = 59
CLOSE_QUERIES = 75


def referral_body(**sections) -> dict:
    """A complete referral as a GP system would send it; `sections` replace fields: patient={"postcode": ...}."""
    body = {
        "patient": {
            "given_name": "Maria",
            "family_name": "Kowalski",
            "date_of_birth": "1958-03-14",
            "nhs_number": "943 476 5919",
            "address": "12 Mill Lane",
            "postcode": "ls6 2ab",
            "phone": "07700 900123",
            "preferred_contact_method": "phone",
            "language": "Polish",
            "interpreter_needed": True,
        },
        "consent": {
            "given_by": "patient",
            "method": "verbal",
            "given_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "share_with_advice_service": True,
            "medical_evidence": True,
            "outcome_feedback": False,
        },
        "referral": {
            "categories": ["benefits", "debt"],
            "description": "PIP refused after assessment.",
            "urgency": "urgent",
            "setting": "primary_care",
            "known_deadline": "2026-11-20",
            "known_deadline_kind": "decision_letter",
            "known_deadline_note": "PIP decision letter",
        },
    }
    body = copy.deepcopy(body)
    for section, fields in sections.items():
        body[section].update(fields)
    return body


@pytest.fixture
def gp_system(health_client, partnership, as_system):
    return as_system(health_client)


def test_a_gp_system_submits_a_referral(gp_system, health_client, partnership):
    response = gp_system.post(LIST, referral_body())

    assert response.status_code == 201, response.json()
    body = response.json()
    referral = Referral.objects.get()
    assert response["Location"] == f"/api/v1/referrals/{referral.pk}/"
    assert (
        body["reference"] == referral.reference and body["status"] == "submitted" and body["fhir_status"] == "requested"
    )
    assert body["patient"]["nhs_number"] == "9434765919" and body["patient"]["postcode"] == "LS6 2AB"
    assert body["categories"] == ["benefits", "debt"]
    assert body["consent"]["share_with_advice_service"] and not body["consent"]["outcome_feedback"]
    assert referral.status == ReferralStatus.SUBMITTED
    assert referral.referrer == health_client.client.service_user
    assert referral.advice_organisation == partnership.advice_organisation
    assert referral.known_deadline_due is not None
    entries = AuditEvent.objects.filter(object_type="referrals.referral", object_id=str(referral.pk))
    assert {entry.action for entry in entries} >= {AuditEvent.Action.CREATE, AuditEvent.Action.TRANSITION}
    assert {str(entry.actor) for entry in entries} == {f"API client: {health_client.client.name}"}


def test_bad_content_is_400_naming_each_field_as_the_form_does_and_nothing_is_made(gp_system):
    response = gp_system.post(
        LIST,
        referral_body(
            patient={"given_name": "", "nhs_number": "943 476 5918", "postcode": "NOT A CODE"},
            consent={"share_with_advice_service": False},
        ),
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["patient.given_name"] == ["Enter the patient's first name"]
    assert "check digit" in errors["patient.nhs_number"][0]
    assert errors["patient.postcode"] == ["Enter a real postcode, like SW1A 1AA"]
    assert "a referral cannot be sent without it" in errors["consent.share_with_advice_service"][0]
    assert not Referral.objects.exists()


def test_what_a_submission_needs_is_named_when_missing(gp_system):
    response = gp_system.post(LIST, {"patient": {}, "consent": {}, "referral": {}})

    assert response.status_code == 400
    errors = response.json()["errors"]
    for field in (
        "patient.given_name",
        "patient.date_of_birth",
        "consent.given_by",
        "consent.given_at",
        "referral.categories",
        "referral.description",
        "referral.setting",
    ):
        assert errors[field], field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"patient": 5, "consent": {}, "referral": {}}, "patient"),
        (referral_body(patient={"date_of_birth": "14/03/1958"}), "patient.date_of_birth"),
        (referral_body(referral={"categories": ["benefits", "astrology"]}), "referral.categories"),
        (referral_body(referral={"urgency": "yesterday"}), "referral.urgency"),
        (referral_body(patient={"given_name": "Ma\x00ria"}), "patient.given_name"),
        (referral_body(referral={"partnership": 2**70}), "referral.partnership"),
        ([1, 2], "non_field_errors"),
    ],
)
def test_a_wrong_type_or_code_is_a_400_naming_the_field(gp_system, body, field):
    response = gp_system.post(LIST, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_body_that_is_not_json_is_a_400(gp_system):
    response = gp_system.client.post(LIST, "{not json", content_type="application/json", headers=gp_system.headers)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


def test_a_second_open_referral_of_the_patient_needs_a_reason(gp_system):
    assert gp_system.post(LIST, referral_body()).status_code == 201

    again = gp_system.post(LIST, referral_body())
    assert again.status_code == 409
    assert "already has an open referral" in again.json()["errors"]["referral.duplicate_reason"][0]
    with_reason = gp_system.post(LIST, referral_body(referral={"duplicate_reason": "A new problem: eviction."}))
    assert with_reason.status_code == 201
    assert Referral.objects.count() == 2


def test_a_retried_post_with_the_same_idempotency_key_makes_one_referral(gp_system):
    body = referral_body()
    first = gp_system.post(LIST, body, **{"Idempotency-Key": "4b9f0c1e-retry"})
    again = gp_system.post(LIST, body, **{"Idempotency-Key": "4b9f0c1e-retry"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert again["Location"] == first["Location"]
    assert Referral.objects.count() == 1


def test_a_retry_after_consent_is_withdrawn_gets_the_referral_as_it_is_now_and_nothing_kept_of_the_patient(
    gp_system,
):
    body = referral_body()
    first = gp_system.post(LIST, body, **{"Idempotency-Key": "after-withdrawal"})
    referral = Referral.objects.get(pk=first.json()["id"])
    given_name = referral.patient.given_name
    assert IdempotencyRecord.objects.get(key="after-withdrawal").response_body == {"id": referral.pk}
    referral_services.consent_withdraw(referral=referral, actor=referral.referrer)

    again = gp_system.post(LIST, body, **{"Idempotency-Key": "after-withdrawal"})
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert given_name not in again.content.decode()
    assert (
        AuditEvent.objects.filter(object_id=str(referral.pk), action=AuditEvent.Action.VIEW, summary="API").count() == 2
    )


def test_the_same_key_with_another_body_is_422(gp_system):
    assert gp_system.post(LIST, referral_body(), **{"Idempotency-Key": "k-1"}).status_code == 201
    other = gp_system.post(LIST, referral_body(patient={"given_name": "Anna"}), **{"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert Referral.objects.count() == 1


def test_a_refused_request_leaves_its_key_free_for_the_corrected_one(gp_system):
    bad = gp_system.post(LIST, referral_body(patient={"postcode": "NOT A CODE"}), **{"Idempotency-Key": "k-2"})
    assert bad.status_code == 400
    assert gp_system.post(LIST, referral_body(), **{"Idempotency-Key": "k-2"}).status_code == 201


def test_keys_are_each_clients_own(gp_system, health_org, partnership, as_system):
    other = as_system(register(health_org, name="second system"))
    assert gp_system.post(LIST, referral_body(), **{"Idempotency-Key": "shared"}).status_code == 201
    reused = other.post(
        LIST, referral_body(patient={"nhs_number": "", "given_name": "Anna"}), **{"Idempotency-Key": "shared"}
    )
    assert reused.status_code == 201
    assert Referral.objects.count() == 2


def test_a_key_older_than_a_day_may_be_used_again(gp_system, health_client, as_system, time_machine):
    assert gp_system.post(LIST, referral_body(), **{"Idempotency-Key": "old"}).status_code == 201
    time_machine.move_to(timezone.now() + timedelta(hours=25))
    fresh = as_system(health_client).post(
        LIST, referral_body(patient={"nhs_number": "", "given_name": "Anna"}), **{"Idempotency-Key": "old"}
    )
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh


def test_the_list_filters_by_state_and_change_and_pages_by_cursor(gp_system, health_client, health_org, partnership):
    made = [
        factories.ReferralFactory(
            referrer=health_client.client.service_user, referring_organisation=health_org, partnership=partnership
        )
        for _ in range(3)
    ]
    Referral.objects.filter(pk=made[0].pk).update(
        status=ReferralStatus.ACCEPTED, updated_at=timezone.now() - timedelta(days=2)
    )
    Referral.objects.filter(pk__in=[r.pk for r in made[1:]]).update(updated_at=timezone.now() - timedelta(days=5))

    accepted = gp_system.get(LIST, {"status": "accepted"}).json()["results"]
    assert [row["reference"] for row in accepted] == [made[0].reference]
    since = (timezone.now() - timedelta(days=3)).isoformat()
    assert [row["reference"] for row in gp_system.get(LIST, {"updated_since": since}).json()["results"]] == [
        made[0].reference
    ]
    from api.pagination import KeysetPagination

    KeysetPagination.page_size, size = 2, KeysetPagination.page_size
    try:
        first = gp_system.get(LIST).json()
        second = gp_system.get(first["next"]).json()
    finally:
        KeysetPagination.page_size = size
    seen = [row["reference"] for row in first["results"] + second["results"]]
    assert sorted(seen) == sorted(r.reference for r in made) and second["next"] is None
    bad = gp_system.get(LIST, {"cursor": "forged"})
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]
    assert gp_system.get(LIST, {"status": "lost"}).status_code == 400


@pytest.fixture
def advice_system(advice_client, as_system):
    return as_system(advice_client)


def moved(response, status):
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == status
    return response.json()


def test_the_advice_service_accepts_records_first_contact_and_closes(
    advice_system, advice_client, sent_referral, advisor_user
):
    base = f"/api/v1/referrals/{sent_referral.pk}"
    assert set(advice_system.get(f"{base}/").json()["moves"]) == {"accepted", "declined", "redirected"}

    moved(advice_system.post(f"{base}/accept/", {"advisor": advisor_user.pk}), "accepted")
    assert Case.objects.get(referral=sent_referral).advisor == advisor_user
    body = moved(
        advice_system.post(
            f"{base}/in-progress/",
            {"first_contact_at": timezone.now().isoformat(), "kind": "call", "text": "Spoke to Maria."},
        ),
        "in_progress",
    )
    assert body["case_status"] == "gathering_evidence"
    refused = advice_system.post(f"{base}/close/", {"closure_reason": "work_completed"})
    assert refused.status_code == 409
    assert "Record at least one outcome" in refused.json()["detail"]
    closed = moved(
        advice_system.post(f"{base}/close/", {"closure_reason": "advice_given", "no_outcome_reason": "advice_only"}),
        "closed",
    )
    assert closed["fhir_status"] == "completed"
    transitions = AuditEvent.objects.filter(action=AuditEvent.Action.TRANSITION, object_id=str(sent_referral.pk))
    assert transitions.count() == 3
    assert {entry.actor for entry in transitions} == {advice_client.client.service_user}


def test_declining_needs_a_coded_reason_and_an_explanation(advice_system, sent_referral):
    url = f"/api/v1/referrals/{sent_referral.pk}/decline/"
    missing = advice_system.post(url, {"reason": "out_of_area"})
    assert missing.status_code == 400 and "explanation" in missing.json()["errors"]
    body = moved(advice_system.post(url, {"reason": "out_of_area", "explanation": "Try Leeds CAB."}), "declined")
    assert body["timeline"][-1]["decline_reason"] == "out_of_area"
    assert body["fhir_status"] == "rejected"


def test_a_move_the_table_refuses_is_409_with_the_reason(advice_system, sent_referral, advisor_user):
    base = f"/api/v1/referrals/{sent_referral.pk}"
    moved(advice_system.post(f"{base}/accept/", {"advisor": advisor_user.email}), "accepted")

    again = advice_system.post(f"{base}/accept/", {"advisor": advisor_user.email})
    assert again.status_code == 409 and again.json()["detail"] == "This referral is already accepted."
    declined = advice_system.post(f"{base}/decline/", {"reason": "other", "explanation": "x"})
    assert declined.status_code == 409
    closed_first = advice_system.post(
        f"{base}/close/", {"closure_reason": "advice_given", "no_outcome_reason": "advice_only"}
    )
    assert closed_first.status_code == 200
    reopened_contact = advice_system.post(
        f"{base}/in-progress/", {"first_contact_at": timezone.now().isoformat(), "kind": "call", "text": "x"}
    )
    assert reopened_contact.status_code == 409


def test_a_referral_without_a_case_cannot_be_closed(advice_system, sent_referral):
    response = advice_system.post(
        f"/api/v1/referrals/{sent_referral.pk}/close/", {"closure_reason": "advice_given", "no_outcome_reason": "other"}
    )
    assert response.status_code == 409 and "accept it first" in response.json()["detail"]


def test_a_health_client_cannot_move_referrals(gp_system, sent_referral):
    response = gp_system.post(f"/api/v1/referrals/{sent_referral.pk}/accept/")
    assert response.status_code == 403
    assert Referral.objects.get().status == ReferralStatus.SUBMITTED


@pytest.mark.parametrize("rows", [1, 12])
def test_the_list_costs_the_same_queries_for_few_and_many_rows(
    gp_system, health_client, health_org, partnership, django_assert_num_queries, rows
):
    for _ in range(rows):
        factories.ReferralFactory(
            referrer=health_client.client.service_user, referring_organisation=health_org, partnership=partnership
        )
    # The token with its client and system account; the account's memberships; the page of referrals (with
    # patients and organisations); their categories; the audit entry. The rate limit counts in the cache.
    with django_assert_num_queries(5):
        response = gp_system.get(LIST)
    assert len(response.json()["results"]) == rows


def test_the_detail_costs_a_fixed_number_of_queries(gp_system, sent_referral, django_assert_num_queries):
    # The token with its client and system account; the memberships; the referral with its patient, consent,
    # organisations and case; its categories; its timeline; its consent's changes; the audit entry.
    with django_assert_num_queries(7):
        response = gp_system.get(f"/api/v1/referrals/{sent_referral.pk}/")
    assert response.status_code == 200


def test_a_client_cannot_refer_to_a_partnership_its_organisation_is_not_in(gp_system):
    elsewhere = factories.PartnershipFactory()
    response = gp_system.post(LIST, referral_body(referral={"partnership": elsewhere.pk}))
    assert response.status_code == 400 and "referral.partnership" in response.json()["errors"]
    assert not Referral.objects.exists()


def test_after_a_withdrawal_of_consent_the_api_shows_no_patient_details_and_no_moves(
    advice_system, sent_referral, health_client, advisor_user
):
    from referrals.services import consent_withdraw

    consent_withdraw(referral=sent_referral, actor=health_client.client.service_user)

    body = advice_system.get(f"/api/v1/referrals/{sent_referral.pk}/").json()
    assert body["status"] == "cancelled" and body["moves"] == []
    assert body["patient"]["removed"].startswith("Details removed")
    assert {value for name, value in body["patient"].items() if name != "removed"} == {None}
    assert sent_referral.patient.family_name not in str(advice_system.get(LIST).json())
    refused = advice_system.post(f"/api/v1/referrals/{sent_referral.pk}/accept/", {"advisor": advisor_user.pk})
    assert refused.status_code == 409


def test_accepting_names_the_advisor_responsible_a_case_worker_of_the_service(
    advice_system, advice_client, sent_referral, advisor_user, supervisor_user
):
    url = f"/api/v1/referrals/{sent_referral.pk}/accept/"
    elsewhere = factories.advisor(factories.AdviceOrganisationFactory())
    for body, says in [
        ({}, "Name the advisor responsible"),
        ({"advisor": advice_client.client.service_user.pk}, "has this user id"),  # the client's own account
        ({"advisor": elsewhere.pk}, "has this user id"),
        ({"advisor": elsewhere.email}, "has this email address"),
        ({"advisor": advisor_user.full_name}, "has this email address"),
        ({"advisor": True}, "user id (an integer) or email address"),
        ({"advisor": 0}, "user id (an integer) or email address"),
    ]:
        refused = advice_system.post(url, body)
        assert refused.status_code == 400, body
        assert list(refused.json()["errors"]) == ["advisor"] and says in refused.json()["errors"]["advisor"][0]
    assert not Case.objects.exists()
    assert Referral.objects.get().status == ReferralStatus.SUBMITTED

    moved(advice_system.post(url, {"advisor": f"  {supervisor_user.email.upper()} "}), "accepted")
    assert Case.objects.get().advisor == supervisor_user


@pytest.mark.parametrize("categories", [1, 4])
def test_accepting_costs_the_same_queries_for_few_and_many_categories(
    advice_system,
    advice_client,
    health_client,
    health_org,
    partnership,
    advisor_user,
    categories,
    django_assert_num_queries,
):
    from referrals.models import ProblemCategory

    referral = factories.ReferralFactory(
        referrer=health_client.client.service_user,
        referring_organisation=health_org,
        partnership=partnership,
        categories=ProblemCategory.objects.order_by("pk")[:categories],
    )
    with django_assert_num_queries(ACCEPT_QUERIES):
        response = advice_system.post(f"/api/v1/referrals/{referral.pk}/accept/", {"advisor": advisor_user.email})
    assert response.status_code == 200 and len(response.json()["categories"]) == categories


@pytest.fixture
def case_in_progress(advice_system, sent_referral, advisor_user):
    base = f"/api/v1/referrals/{sent_referral.pk}"
    moved(advice_system.post(f"{base}/accept/", {"advisor": advisor_user.pk}), "accepted")
    moved(
        advice_system.post(
            f"{base}/in-progress/",
            {"first_contact_at": timezone.now().isoformat(), "kind": "call", "text": "Spoke to Maria."},
        ),
        "in_progress",
    )
    return Case.objects.get(referral=sent_referral)


CLOSE = {"closure_reason": "advice_given", "no_outcome_reason": "advice_only"}


def test_closing_with_a_stale_version_is_409_with_the_current_version_and_closes_nothing(
    advice_system, case_in_progress, advisor_user
):
    url = f"/api/v1/referrals/{case_in_progress.referral_id}"
    read_at = advice_system.get(f"{url}/").json()["case_version"]
    assert read_at == case_in_progress.version
    from casework.services import case_update

    case_update(case=case_in_progress, actor=advisor_user, version=read_at, summary="Rent arrears too.", case_status="")
    current = Case.objects.get(pk=case_in_progress.pk).version

    stale = advice_system.post(f"{url}/close/", {**CLOSE, "version": read_at})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == current and "Someone else changed this case" in stale.json()["detail"]
    assert Case.objects.get(pk=case_in_progress.pk).is_open

    bad = advice_system.post(f"{url}/close/", {**CLOSE, "version": "latest"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["version"]
    closed = moved(advice_system.post(f"{url}/close/", {**CLOSE, "version": current}), "closed")
    assert closed["case_version"] == current + 1


def test_closing_without_a_version_closes_the_case_as_it_is(advice_system, case_in_progress, advisor_user):
    from casework.services import case_update

    case_update(
        case=case_in_progress, actor=advisor_user, version=case_in_progress.version, summary="x", case_status=""
    )
    moved(advice_system.post(f"/api/v1/referrals/{case_in_progress.referral_id}/close/", CLOSE), "closed")


def test_closing_costs_a_fixed_number_of_queries(advice_system, case_in_progress, django_assert_num_queries):
    with django_assert_num_queries(CLOSE_QUERIES):
        response = advice_system.post(
            f"/api/v1/referrals/{case_in_progress.referral_id}/close/", {**CLOSE, "version": case_in_progress.version}
        )
    assert response.status_code == 200
