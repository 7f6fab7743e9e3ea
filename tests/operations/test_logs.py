"""Structured logs: one access line per request (method, route name, status, duration, user id, request id), a
request id on every line of the request and of the Celery tasks it enqueues, and no patient data anywhere."""

import io
import json
import logging
import logging.config
import os
import re

import pytest
from django.urls import reverse

from hjp.settings.base import logging_config
from tests import factories
from tests.referrals.test_views import referral_post
from tests.support.celery_worker import wait_for
from tests.support.forms import once


@pytest.fixture
def json_log():
    """Every log record of the test, written as production writes it (LOG_FORMAT=json, settings.LOGGING): one JSON
    object a line. Gives the captured text."""
    config = logging_config("json")
    configurator = logging.config.DictConfigurator(config)
    handler = logging.StreamHandler(stream := io.StringIO())
    handler.setFormatter(configurator.configure_formatter(dict(config["formatters"]["json"])))
    handler.addFilter(configurator.configure_filter(dict(config["filters"]["request_id"])))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous_level)


def _lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _access(stream) -> list[dict]:
    return [line for line in _lines(stream) if line["logger"] == "hjp.access"]


@pytest.mark.django_db
def test_each_request_has_one_json_access_line_with_the_route_the_user_id_and_the_request_id(
    client, json_log, referral, referrer_user
):
    client.force_login(referrer_user)
    response = client.get(reverse("referrals:detail", args=[referral.pk]), HTTP_X_REQUEST_ID="lb-7f3a9c.42")

    assert response["X-Request-ID"] == "lb-7f3a9c.42"
    [line] = _access(json_log)
    assert line["duration_ms"] >= 0
    assert {key: value for key, value in line.items() if key not in ("time", "duration_ms", "message")} == {
        "level": "INFO",
        "logger": "hjp.access",
        "method": "GET",
        "route": "referrals:detail",
        "status": 200,
        "user_id": referrer_user.pk,
        "request_id": "lb-7f3a9c.42",
        "process": os.getpid(),
    }
    assert f"/referrals/{referral.pk}/" not in json_log.getvalue()


@pytest.mark.django_db
def test_an_odd_or_missing_request_id_is_replaced_by_a_new_one_on_every_line(client, json_log):
    first = client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id\n<script>")
    second = client.get("/accounts/login/")

    ids = [first["X-Request-ID"], second["X-Request-ID"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids) and ids[0] != ids[1]
    assert [line["request_id"] for line in _access(json_log)] == ids
    assert [line["user_id"] for line in _access(json_log)] == [None, None]  # nobody signed in
    assert "<script>" not in json_log.getvalue()


@pytest.mark.django_db
def test_a_patients_name_and_nhs_number_never_reach_the_logs(as_user, referrer_user, partnership, json_log):
    client = as_user(referrer_user)
    # Refused (a date of birth in the future) and then accepted: both the form shown again and the redirect.
    refused = client.post(
        reverse("referrals:create"),
        referral_post(partnership, **{"patient-date_of_birth_year": "2999", "patient-family_name": "Zbigniewska"}),
    )
    assert refused.status_code == 400
    accepted = client.post(
        reverse("referrals:create"), referral_post(partnership, **{"patient-family_name": "Zbigniewska"})
    )
    assert accepted.status_code == 302
    client.get(reverse("referrals:list") + "?q=Zbigniewska&nhs=9434765919")  # a query string is never logged
    client.get("/referrals/999999/?q=Zbigniewska")  # nor where Django logs a page not found

    logged = json_log.getvalue()
    assert [(line["method"], line["route"], line["status"]) for line in _access(json_log)] == [
        ("POST", "referrals:create", 400),
        ("POST", "referrals:create", 302),
        ("GET", "referrals:list", 200),
        ("GET", "referrals:detail", 404),
    ]
    assert "Not Found: /referrals/999999/" in logged  # Django's own line: the path (ids), not the query
    for patient_detail in ("Zbigniewska", "Maria", "9434765919", "943 476 5919", "12 Mill Lane", "LS6 2AB", "07700"):
        assert patient_detail.lower() not in logged.lower()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_tasks_a_request_enqueues_log_with_its_request_id_in_the_worker(celery_worker, client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    referral = factories.ReferralFactory()
    advisor = factories.advisor(referral.advice_organisation)
    client.force_login(advisor)

    response = client.post(
        reverse("casework:accept", args=[referral.pk]), once(), HTTP_X_REQUEST_ID="accept-request-0001"
    )

    assert response.status_code == 302
    wait_for(
        lambda: re.search(r"\[accept-request-0001\] Task \S+ succeeded", celery_worker.log()),
        timeout=20,
        what="the task's log line",
    )
