"""Schemathesis drives every operation of the OpenAPI schema with generated requests (valid and invalid), as each
kind of client, over HTTP to the live server: no 5xx, and every response is one the schema documents, of the shape it documents."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories
from tests.api.conftest import register, token_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Enough to reach every operation with valid and invalid bodies, headers and parameters, within a CI minute.
EXAMPLES = 60


@pytest.fixture
def no_rate_limit(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "100000/minute"}}


@pytest.mark.parametrize("kind", ["health", "advice"])
@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_every_operation_answers_as_the_schema_says(no_rate_limit, live_server, health_org, partnership, kind, mode):
    referral = factories.ReferralFactory(referring_organisation=health_org, partnership=partnership)
    organisation = health_org if kind == "health" else partnership.advice_organisation
    headers = {"Authorization": f"Bearer {token_for(register(organisation))}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/")
    assert len(list(schema.get_all_operations())) == 7

    @given(case=schema.as_strategy(generation_mode=mode, path_parameters={"id": referral.pk}))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_as_documented(case):
        response = case.call(base_url=live_server.url, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    answers_as_documented()
