"""hjp's own extensions resolve: each URL hjp reads or writes (`<SITE_URL>/fhir/StructureDefinition/<name>`) is
served, public, as an R4 StructureDefinition of an Extension; one that does not exist is an OperationOutcome."""

import json
import re
from pathlib import Path

import pytest
from fhir.resources.R4B.structuredefinition import StructureDefinition

from api.fhir import codes
from api.fhir.extensions import EXTENSIONS
from api.fhir.moves import ADVISOR_EXTENSION, NO_OUTCOME_EXTENSION
from api.fhir.subscriptions import secret_extension_url
from tests.api.fhir.bundles import example_bundle
from tests.api.fhir.test_views import outcome, resource

pytestmark = pytest.mark.django_db
API = Path(__file__).resolve().parents[3] / "api"


def _path(url: str) -> str:
    return url.removeprefix(codes.base_url().removesuffix("/fhir"))


def _used_urls() -> set[str]:
    """Every hjp extension URL in the code (`extension_url("...")`, the submission's `_extension(resource, "...")`),
    the moves' and the subscription's, and the README's example Bundle's."""
    names = {
        match
        for source in API.rglob("*.py")
        for match in re.findall(r'(?:extension_url\(|_extension\(\w+, )"([a-z-]+)"\)', source.read_text())
    }
    urls = {codes.extension_url(name) for name in names | {ADVISOR_EXTENSION, NO_OUTCOME_EXTENSION}}
    urls.add(secret_extension_url())
    prefix = f"{codes.base_url()}/StructureDefinition/"
    urls |= set(re.findall(re.escape(prefix) + r"[a-z-]+", json.dumps(example_bundle())))
    return urls


def test_every_extension_url_hjp_uses_is_published_as_a_structure_definition(client):
    used = _used_urls()
    assert len(used) >= 10
    assert used <= {extension.url for extension in EXTENSIONS.values()}
    for extension in EXTENSIONS.values():
        published = resource(client.get(_path(extension.url)), StructureDefinition)
        assert published["url"] == extension.url and published["type"] == "Extension"
        assert published["kind"] == "complex-type" and published["derivation"] == "constraint"
        elements = {element["id"]: element for element in published["differential"]["element"]}
        assert elements["Extension.url"]["fixedUri"] == extension.url


def test_a_complex_extension_names_its_parts(client):
    published = client.get(_path(codes.extension_url("known-deadline"))).json()
    slices = [e["sliceName"] for e in published["differential"]["element"] if "sliceName" in e]
    assert slices == ["date", "kind", "note"]
    assert published["context"] == [{"type": "element", "expression": "ServiceRequest"}]


def test_an_unknown_structure_definition_is_not_found(client):
    assert outcome(client.get("/fhir/StructureDefinition/made-up"), 404)[0]["code"] == "not-found"
