import base64

import pytest
from django.test import Client

from api.services import api_client_create
from tests import factories

KIND_SCOPES = {"health": ("referrals:read", "referrals:write"), "advice": ("referrals:read", "cases:write")}


def register(organisation, *, name=None, scopes=None, **kwargs):
    """A registered API client of `organisation` (api_client_create's NewClient: .client and .client_secret),
    with every scope its kind of organisation may hold unless `scopes` says otherwise."""
    scopes = KIND_SCOPES[organisation.kind] if scopes is None else scopes
    return api_client_create(
        actor=None, organisation=organisation, name=name or f"{organisation.name} system", scopes=scopes, **kwargs
    )


def basic_auth(new_client) -> str:
    pair = f"{new_client.client.application.client_id}:{new_client.client_secret}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def token_response(new_client, *, scope: str | None = None, client=None):
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return (client or Client()).post("/oauth/token/", data, headers={"Authorization": basic_auth(new_client)})


def token_for(new_client, **kwargs) -> str:
    response = token_response(new_client, **kwargs)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


class ApiCaller:
    """Django's test client calling the API with a bearer token, as a system would: JSON in, JSON out."""

    def __init__(self, token: str):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path, data=None, **headers):
        return self.client.get(path, data, headers=self.headers | headers)

    def post(self, path, body=None, **headers):
        return self.client.post(path, body or {}, content_type="application/json", headers=self.headers | headers)


@pytest.fixture
def health_client(health_org):
    return register(health_org)


@pytest.fixture
def advice_client(advice_org):
    return register(advice_org)


@pytest.fixture
def as_system():
    """An ApiCaller with a fresh token of the given registered client (and scope, if given)."""

    def caller(new_client, **kwargs):
        return ApiCaller(token_for(new_client, **kwargs))

    return caller


@pytest.fixture
def sent_referral(health_client, health_org, partnership):
    """A submitted referral made through the health organisation's client (its system account the referrer)."""
    return factories.ReferralFactory(
        referrer=health_client.client.service_user, referring_organisation=health_org, partnership=partnership
    )
