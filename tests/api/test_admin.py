"""Admins register and revoke API clients in the admin."""

from django.contrib.messages import get_messages

from api.models import ApiClient
from tests import factories
from tests.api.conftest import token_response


def test_an_admin_registers_a_client_and_sees_its_secret_once(client, health_org):
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    response = client.post(
        "/admin/api/apiclient/add/",
        {"name": "Riverside EMIS", "organisation": health_org.pk, "scopes": ["referrals:read", "referrals:write"]},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    registered = ApiClient.objects.get()
    assert (registered.organisation, registered.scopes) == (health_org, {"referrals:read", "referrals:write"})
    assert registered.created_by == admin
    (notice,) = [str(m) for m in get_messages(response.wsgi_request) if "Client secret" in str(m)]
    secret = notice.split("Client secret: ")[1].split()[0]
    new = type("New", (), {"client": registered, "client_secret": secret})
    assert token_response(new).status_code == 200
    assert secret in client.get(response["Location"]).content.decode()  # the next page shows it once
    assert secret not in client.get(f"/admin/api/apiclient/{registered.pk}/change/").content.decode()


def test_an_admin_cannot_give_a_health_client_cases_write(client, health_org):
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        "/admin/api/apiclient/add/", {"name": "x", "organisation": health_org.pk, "scopes": ["cases:write"]}
    )

    assert response.status_code == 200
    assert "cannot hold cases:write" in response.content.decode()
    assert not ApiClient.objects.exists()


def test_the_revoke_action_stops_the_client(client, health_client):
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))

    client.post(
        "/admin/api/apiclient/",
        {"action": "revoke", "_selected_action": [health_client.client.pk]},
    )

    assert ApiClient.objects.get().revoked_at is not None
    assert token_response(health_client).status_code == 401
