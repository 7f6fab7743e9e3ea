"""The foundation of the API for systems: OAuth 2.0 client credentials, revocation and expiry, scopes, bearer
tokens only (never a session cookie), the rate limit, and audit entries that name the client."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from api.models import ApiClient
from api.services import api_client_revoke
from hjp.accounts.models import Membership, Role
from hjp.audit.models import AuditEvent
from tests import factories
from tests.api.conftest import ApiCaller, basic_auth, register, token_for, token_response

LIST = "/api/v1/referrals/"


def test_client_credentials_give_a_bearer_token_for_an_hour_with_the_clients_scopes(health_org):
    new = register(health_org, scopes=["referrals:read", "referrals:write"])

    response = token_response(new)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == {"referrals:read", "referrals:write"}
    assert "refresh_token" not in body
    assert AccessToken.objects.get().token == ""  # kept hashed only (RFC 9700)
    assert ApiCaller(body["access_token"]).get(LIST).status_code == 200


def test_a_token_holds_at_most_the_clients_scopes(health_org):
    new = register(health_org, scopes=["referrals:read"])

    assert token_response(new, scope="referrals:read").json()["scope"] == "referrals:read"
    refused = token_response(new, scope="referrals:read cases:write")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"


def test_a_wrong_secret_or_another_grant_gets_no_token(health_org):
    new = register(health_org)
    wrong = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(new).replace(basic_auth(new)[-4:], "AAA=")},
    )
    assert wrong.status_code == 401
    password_grant = Client().post(
        "/oauth/token/",
        {"grant_type": "password", "username": "x@example.test", "password": "x"},
        headers={"Authorization": basic_auth(new)},
    )
    assert password_grant.status_code == 400
    assert password_grant.json()["error"] == "unsupported_grant_type"
    assert not AccessToken.objects.exists()


def test_the_secret_is_not_kept_in_clear(health_org):
    new = register(health_org)
    stored = Application.objects.get(pk=new.client.application_id).client_secret
    assert new.client_secret not in stored


def test_an_application_made_by_hand_without_a_client_gets_no_token(db):
    application = Application.objects.create(
        name="by hand",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret="s3cret-s3cret-s3cret",
    )
    response = Client().post(
        "/oauth/token/",
        {
            "grant_type": "client_credentials",
            "client_id": application.client_id,
            "client_secret": "s3cret-s3cret-s3cret",
        },
    )
    assert response.status_code == 401


def test_revoking_a_client_stops_its_tokens_at_once_and_it_gets_no_new_one(health_org):
    new = register(health_org)
    caller = ApiCaller(token_for(new))
    assert caller.get(LIST).status_code == 200

    api_client_revoke(actor=None, client=new.client)

    assert caller.get(LIST).status_code == 401
    assert token_response(new).status_code == 401


def test_a_token_of_a_client_revoked_without_its_tokens_deleted_is_refused(health_org):
    new = register(health_org)
    caller = ApiCaller(token_for(new))
    ApiClient.objects.filter(pk=new.client.pk).update(revoked_at=timezone.now())

    response = caller.get(LIST)

    assert response.status_code == 401
    assert "revoked or expired" in response.json()["detail"]


def test_an_expired_client_gets_no_token_and_its_tokens_stop(health_org):
    new = register(health_org, expires_at=timezone.now() + timedelta(days=1))
    caller = ApiCaller(token_for(new))
    ApiClient.objects.filter(pk=new.client.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert caller.get(LIST).status_code == 401
    assert token_response(new).status_code == 401


def test_an_expired_token_is_refused(health_org):
    new = register(health_org)
    token = token_for(new)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))

    response = ApiCaller(token).get(LIST)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_without_the_scope_is_refused_with_403(health_org):
    new = register(health_org, scopes=["referrals:write"])

    response = ApiCaller(token_for(new)).get(LIST)

    assert response.status_code == 403
    assert "referrals:read" in response.json()["detail"]


def test_narrowing_a_clients_scopes_narrows_its_tokens_at_once(health_org):
    new = register(health_org, scopes=["referrals:read", "referrals:write"])
    caller = ApiCaller(token_for(new))
    ApiClient.objects.filter(pk=new.client.pk).update(allowed_scopes="referrals:write")

    assert caller.get(LIST).status_code == 403


def test_no_token_is_401_with_a_bearer_challenge(db):
    response = Client().get(LIST)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("second_factor", [True, False])
def test_a_signed_in_session_alone_gets_nothing_from_the_api(client, referrer_user, referral, second_factor):
    """A session cookie is not a credential here: no data, no redirect to the second factor, no CSRF question."""
    client.force_login(referrer_user, second_factor=second_factor)

    listed = client.get(LIST)
    detail = client.get(f"/api/v1/referrals/{referral.pk}/")
    posted = client.post(LIST, {}, content_type="application/json")

    assert listed.status_code == detail.status_code == posted.status_code == 401
    assert referral.reference not in listed.content.decode() + detail.content.decode()


def test_the_token_endpoint_is_open_to_a_signed_in_session_without_its_second_factor(client, referrer_user, health_org):
    client.force_login(referrer_user, second_factor=False)
    assert token_response(register(health_org), client=client).status_code == 200


def test_beyond_the_rate_a_client_gets_429_with_retry_after(health_org, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "3/minute"}}
    caller = ApiCaller(token_for(register(health_org)))
    other = ApiCaller(token_for(register(health_org, name="another system")))

    statuses = [caller.get(LIST).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = caller.get(LIST)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert other.get(LIST).status_code == 200  # counted per client


def test_the_clients_reads_are_audited_in_its_name(health_client, sent_referral, as_system):
    caller = as_system(health_client)

    assert caller.get(f"/api/v1/referrals/{sent_referral.pk}/").status_code == 200

    entry = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_id=str(sent_referral.pk))
    assert entry.actor == health_client.client.service_user
    assert str(entry.actor) == f"API client: {health_client.client.name}"
    assert entry.path == f"/api/v1/referrals/{sent_referral.pk}/"
    assert entry.ip_address == "127.0.0.1"


def test_create_api_client_prints_the_id_and_secret_once_and_makes_a_system_account(health_org):
    out = StringIO()
    call_command(
        "create_api_client",
        organisation=health_org.pk,
        name="Riverside EMIS",
        scopes="referrals:read,referrals:write",
        stdout=out,
    )

    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines() if "=" in line)
    client = ApiClient.objects.get(name="Riverside EMIS")
    assert lines["client_id"] == client.application.client_id
    assert client.scopes == {"referrals:read", "referrals:write"}
    assert client.expires_at > timezone.now() + timedelta(days=364)
    user = client.service_user
    assert user.full_name == "API client: Riverside EMIS"
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user).role == Role.REFERRER
    new = type("New", (), {"client": client, "client_secret": lines["client_secret"]})
    assert token_response(new).status_code == 200


def test_an_advice_organisations_client_acts_as_an_advisor(advice_org):
    client = register(advice_org).client
    membership = Membership.objects.get(user=client.service_user)
    assert (membership.role, membership.organisation) == (Role.ADVISOR, advice_org)


def test_create_api_client_refuses_unknown_scopes_and_organisations(health_org):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown scopes: admin"):
        call_command("create_api_client", organisation=health_org.pk, name="x", scopes="admin", stdout=StringIO())
    with pytest.raises(CommandError, match="no organisation"):
        call_command("create_api_client", organisation=0, name="x", scopes="referrals:read", stdout=StringIO())
    assert not ApiClient.objects.exists()


def test_the_client_sees_what_its_organisation_sees_and_nothing_else(health_client, sent_referral, as_system):
    elsewhere = factories.ReferralFactory()
    body = as_system(health_client).get(LIST).json()
    assert [row["reference"] for row in body["results"]] == [sent_referral.reference]
    assert as_system(health_client).get(f"/api/v1/referrals/{elsewhere.pk}/").status_code == 404
