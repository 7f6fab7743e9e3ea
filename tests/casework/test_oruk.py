"""Open Referral UK: the partnership's service published as ORUK JSON (validated against the ORUK 3.0 schema
subset in tests/support), and partner providers imported from a feed or a file, with a clear message for bad
input and a feed that does not answer."""

import copy
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from casework.models import AdviceProvider
from hjp.audit.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db

SUPPORT = Path(__file__).resolve().parent.parent / "support"
SCHEMA = json.loads((SUPPORT / "oruk_service_list.schema.json").read_text())
FEED = SUPPORT / "oruk_feed.json"


def _validate(document) -> None:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(
        document
    )


def test_the_published_services_are_valid_oruk_and_name_no_patient(
    client, referral, partnership, django_assert_num_queries
):
    factories.PartnershipFactory()  # a second partnership: a second service
    with django_assert_num_queries(3):  # the partnerships with their advice service; their health services; categories
        response = client.get(reverse("oruk:services"))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    document = response.json()
    _validate(document)
    assert document["total_items"] == 2
    service = next(s for s in document["contents"] if partnership.advice_organisation.name in s["name"])
    assert service["organization"]["name"] == partnership.advice_organisation.name
    assert {a["taxonomy_term"]["name"] for a in service["attributes"]} >= {"Benefits"}
    assert referral.patient.family_name not in response.content.decode()
    assert referral.reference not in response.content.decode()
    # The same ids on every read, so a service finder updates rather than duplicates.
    assert client.get(reverse("oruk:services")).json() == document


def test_the_query_count_does_not_grow_with_the_partnerships(client, partnership, django_assert_num_queries):
    for _ in range(6):
        factories.PartnershipFactory(health_organisations=[factories.OrganisationFactory()])
    with django_assert_num_queries(3):
        document = client.get(reverse("oruk:services")).json()
    assert document["total_items"] == 7


def test_the_schema_catches_what_a_service_finder_would_refuse(client, partnership):
    document = client.get(reverse("oruk:services")).json()
    for spoil in (
        lambda d: d["contents"][0].update(status="open"),
        lambda d: d["contents"][0].update(id="42"),
        lambda d: d["contents"][0]["organization"].pop("description"),
        lambda d: d.pop("total_items"),
    ):
        spoilt = copy.deepcopy(document)
        spoil(spoilt)
        with pytest.raises(jsonschema.ValidationError):
            _validate(spoilt)


def _import(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_oruk", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_a_file_and_a_second_run_updates(supervisor_user, advice_org):
    out, err = _import(str(FEED), "--as", supervisor_user.email)
    assert out.strip() == "2 provider(s) added, 0 updated."
    assert "Service 3 has no id or no name" in err
    housing = AdviceProvider.objects.get(name="Chapeltown Housing Advice")
    assert housing.advice_organisation == advice_org
    assert (housing.area, housing.phone, housing.capacity) == ("Leeds", "0113 496 0000", "open")
    assert housing.specialisms == "Housing, Pro bono representation"
    assert housing.how_to_refer.startswith("Email the referral form")
    clinic = AdviceProvider.objects.get(name="Leeds Immigration Law Clinic")
    assert (clinic.capacity, clinic.is_active, clinic.phone) == ("closed", True, "0113 496 0999")
    assert AuditEvent.objects.filter(object_type="casework.adviceprovider", summary="ORUK import").count() == 2

    out, _ = _import(str(FEED), "--as", supervisor_user.email)
    assert out.strip() == "0 provider(s) added, 2 updated."
    assert AdviceProvider.objects.count() == 2


def test_a_provider_kept_by_hand_under_the_same_name_is_taken_over_by_the_feed(supervisor_user, advice_org):
    kept = factories.AdviceProviderFactory(advice_organisation=advice_org, name="Chapeltown Housing Advice")
    _import(str(FEED), "--as", supervisor_user.email)
    kept.refresh_from_db()
    assert kept.oruk_id == "5a1f8c1e-2f4b-4b8e-9a57-0c1d2e3f4a5b" and kept.area == "Leeds"


def test_the_command_refuses_bad_input_clearly(supervisor_user, advisor_user, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("<html>not json</html>")
    with pytest.raises(CommandError, match="That is not JSON"):
        _import(str(bad), "--as", supervisor_user.email)
    bad.write_text('{"contents": "nothing"}')
    with pytest.raises(CommandError, match="No services found"):
        _import(str(bad), "--as", supervisor_user.email)
    with pytest.raises(CommandError, match="Cannot read"):
        _import(str(tmp_path / "missing.json"), "--as", supervisor_user.email)
    with pytest.raises(CommandError, match="not a supervisor"):
        _import(str(FEED), "--as", advisor_user.email)
    assert not AdviceProvider.objects.exists()


class _Feed(BaseHTTPRequestHandler):
    delay = 0.0

    def do_GET(self):
        time.sleep(self.delay)
        body = FEED.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def feed_server(settings):
    settings.ORUK_FEED_ALLOW_PRIVATE_ADDRESSES = True  # the test's feed is on loopback
    servers = []

    def start(delay=0.0):
        handler = type("Handler", (_Feed,), {"delay": delay})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/services"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_supervisor_imports_a_feed_by_its_address(client, supervisor_user, feed_server):
    client.force_login(supervisor_user)
    response = client.post(reverse("casework:provider_import"), {"feed_url": feed_server()}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 provider(s) added, 0 updated." in html and "Service 3 has no id or no name" in html
    assert "Chapeltown Housing Advice" in html and "Closed" in html


def test_a_feed_that_does_not_answer_in_time_gives_a_clear_message(client, supervisor_user, feed_server, settings):
    settings.ORUK_FEED_TIMEOUT_SECONDS = 1
    url = feed_server(delay=3)
    client.force_login(supervisor_user)
    started = time.monotonic()
    response = client.post(reverse("casework:provider_import"), {"feed_url": url})
    assert time.monotonic() - started < 2.5
    assert response.status_code == 400
    html = response.content.decode()
    assert "The feed did not answer within 1 second." in html and url in html  # what was typed is kept
    assert not AdviceProvider.objects.exists()


def test_the_supervisor_uploads_a_file_and_bad_files_are_refused(client, supervisor_user):
    client.force_login(supervisor_user)
    response = client.post(
        reverse("casework:provider_import"), {"feed_file": SimpleUploadedFile("feed.json", b"{not json")}
    )
    assert response.status_code == 400 and "That is not JSON" in response.content.decode()
    response = client.post(reverse("casework:provider_import"), {})
    assert (
        response.status_code == 400
        and "Give either the feed&#x27;s address or a JSON file" in response.content.decode()
    )
    response = client.post(
        reverse("casework:provider_import"), {"feed_file": SimpleUploadedFile("feed.json", FEED.read_bytes())}
    )
    assert response.status_code == 302 and AdviceProvider.objects.count() == 2


class _Moved(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",  # the database
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://10.1.2.3/services",
        "http://[::1]/services",
        "http://localhost/services",
        "file:///etc/passwd",
        "ftp://example.org/services",
    ],
)
def test_the_server_fetches_no_address_off_the_public_internet(client, supervisor_user, url):
    client.force_login(supervisor_user)
    response = client.post(reverse("casework:provider_import"), {"feed_url": url})
    assert response.status_code == 400
    html = response.content.decode()
    assert any(why in html for why in ("not on the public internet", "starting with https://", "Enter a valid URL"))
    assert not AdviceProvider.objects.exists()


def test_a_feed_that_redirects_is_not_followed(client, supervisor_user, settings):
    settings.ORUK_FEED_ALLOW_PRIVATE_ADDRESSES = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Moved)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client.force_login(supervisor_user)
        url = f"http://127.0.0.1:{server.server_address[1]}/services"
        response = client.post(reverse("casework:provider_import"), {"feed_url": url})
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 400 and "The feed moved to http://169.254.169.254/" in response.content.decode()


def test_a_name_that_answers_public_then_private_cannot_make_the_fetch_reach_the_private_address(
    client, supervisor_user, feed_server, settings, monkeypatch
):
    """DNS rebinding: the name answers a public address to the check and this machine to any later look-up. The
    fetch connects to the address it checked, never to the name again, so the feed on loopback is never asked."""
    url = feed_server()
    settings.ORUK_FEED_ALLOW_PRIVATE_ADDRESSES = False
    port = int(url.split(":")[2].split("/")[0])
    public, private = "93.184.215.14", "127.0.0.1"
    answers = iter([public])

    def rebinding_resolver(host, *args, **kwargs):
        address = next(answers, private)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    connected_to = []
    real_connect = socket.create_connection

    def connect(address, *args, **kwargs):
        connected_to.append(address[0])
        if address[0] != private:  # no network in the tests: the public address refuses
            raise ConnectionRefusedError("refused")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_resolver)
    monkeypatch.setattr(socket, "create_connection", connect)
    client.force_login(supervisor_user)
    response = client.post(reverse("casework:provider_import"), {"feed_url": f"http://feeds.example.org:{port}/x"})

    assert connected_to == [public]
    assert response.status_code == 400 and "The feed could not be reached" in response.content.decode()
    assert not AdviceProvider.objects.exists()
