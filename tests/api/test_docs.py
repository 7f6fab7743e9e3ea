"""The OpenAPI schema and its documentation page, served from this installation: nothing from a CDN."""

import re

import yaml
from django.contrib.staticfiles import finders
from django.test import Client


def test_the_schema_is_openapi_3_with_every_operation_and_client_credentials(db):
    response = Client().get("/api/v1/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/referrals/",
        "/api/v1/referrals/{id}/",
        "/api/v1/referrals/{id}/accept/",
        "/api/v1/referrals/{id}/decline/",
        "/api/v1/referrals/{id}/in-progress/",
        "/api/v1/referrals/{id}/close/",
    }
    flow = schema["components"]["securitySchemes"]["clientCredentials"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token/"
    assert set(flow["scopes"]) == {"referrals:read", "referrals:write", "cases:write"}
    assert schema["paths"]["/api/v1/referrals/"]["post"]["security"] == [{"clientCredentials": ["referrals:write"]}]
    assert schema["paths"]["/api/v1/referrals/{id}/accept/"]["post"]["security"] == [
        {"clientCredentials": ["cases:write"]}
    ]


def test_the_docs_page_uses_only_this_installations_files(db):
    response = Client().get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(urls) >= 4  # the stylesheet, the favicon, Swagger UI's two scripts, the page's own script
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
    assert "<script>" not in html  # no inline script: the strict CSP would refuse it
    script = next(url for url in urls if "script" in url and url.startswith("/api/v1/docs/"))
    init = Client().get(script)
    assert init.status_code == 200 and init["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in init.content.decode()
    assert not re.search(r"https?://", init.content.decode())


def test_the_schema_says_accept_names_the_advisor_and_close_takes_a_version(db):
    schema = yaml.safe_load(Client().get("/api/v1/schema/").content)
    components = schema["components"]["schemas"]
    accept = schema["paths"]["/api/v1/referrals/{id}/accept/"]["post"]["requestBody"]
    assert accept["required"] and components["AcceptInputRequest"]["required"] == ["advisor"]
    close = schema["paths"]["/api/v1/referrals/{id}/close/"]["post"]
    assert components["CloseInputRequest"]["properties"]["version"]["type"] == "integer"
    assert "version" not in components["CloseInputRequest"].get("required", [])
    assert "current_version" in close["responses"]["409"]["description"]
    assert "current_version" in components["Error"]["properties"]
    assert components["Referral"]["properties"]["case_version"]["nullable"]
