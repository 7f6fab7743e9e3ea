"""Open Referral UK: the UK profile of the Human Services Data Specification 3.0 (HSDS), the standard local
authorities' service directories speak. hjp reads partner providers from an ORUK feed or file
(`provider_records`, for `casework.services.providers_import`) and publishes each partnership's advice service
as ORUK JSON (`partnership_services`), so that councils' service finders can list it. Nothing about a patient
is ever published."""

import json
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone

from hjp.accounts.models import Organisation, Partnership
from hjp.core import safe_http
from referrals.models import ProblemCategory

# The most a feed may send (bytes): a local authority's whole directory is well under this.
MAX_FEED_BYTES = 20 * 1024 * 1024
# HSDS service.status values, and whether a provider with that status takes new referrals (None: gone).
STATUS_CAPACITY = {"active": True, "temporarily closed": False, "inactive": False, "defunct": None}
# Our ids in the published feed are UUIDs (HSDS 3.0 asks for them), the same on every read.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://hjp.invalid/open-referral")


class OrukError(Exception):
    """The feed or file cannot be read; the message says why, fit to show a supervisor."""


@dataclass(frozen=True)
class ProviderRecord:
    """One service of a feed, as a provider in the directory would hold it."""

    oruk_id: str
    name: str
    specialisms: str
    area: str
    phone: str
    email: str
    website: str
    how_to_refer: str
    open_to_referrals: bool
    in_use: bool


def fetch_feed(url: str) -> bytes:
    """The body of an ORUK feed's services endpoint, within the timeout and the size limit. Only http(s); the
    address a supervisor typed is fetched by hjp's one rule for outgoing requests (`hjp.core.safe_http`): unless
    ORUK_FEED_ALLOW_PRIVATE_ADDRESSES, a host that resolves to a loopback, private, link-local or otherwise
    non-public address (the cloud's metadata service, the database) is refused, and the connection goes to the
    address checked, not to the name again. A feed is a public directory. Redirects are not followed (each hop
    would need the check again)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OrukError("Give the feed's address starting with https://.")
    try:
        answer = safe_http.request(
            "GET",
            url,
            allow_private=settings.ORUK_FEED_ALLOW_PRIVATE_ADDRESSES,
            timeout=settings.ORUK_FEED_TIMEOUT_SECONDS,
            headers={"Accept": "application/json", "User-Agent": "hjp-oruk/1"},
            max_bytes=MAX_FEED_BYTES,
        )
    except safe_http.PrivateAddress:
        raise OrukError("That address is not on the public internet: give the council's published feed.") from None
    except safe_http.UnsafeAddress:
        raise OrukError("The feed could not be reached: check its address.") from None
    except safe_http.RequestFailed as error:
        if error.timed_out:
            seconds = settings.ORUK_FEED_TIMEOUT_SECONDS
            raise OrukError(f"The feed did not answer within {seconds} second{'s' if seconds != 1 else ''}.") from None
        raise OrukError("The feed could not be reached: check its address.") from None
    if 300 <= answer.status < 400:
        raise OrukError(f"The feed moved to {answer.headers.get('Location', 'another address')}: give that address.")
    if answer.status >= 400:
        raise OrukError(f"The feed answered with an error ({answer.status}).")
    if len(answer.body) > MAX_FEED_BYTES:
        raise OrukError("The feed is too large to import.")
    return answer.body


def parse(raw: bytes | str) -> list[dict]:
    """The services of an ORUK document: an HSDS 3.0 page (`contents`), an ORUK 1 page (`content`), a list of
    services, or one service."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise OrukError("That is not JSON: give an Open Referral UK services feed or file.") from error
    if isinstance(data, dict):
        data = data.get("contents", data.get("content", [data] if "name" in data else None))
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise OrukError("No services found: an Open Referral UK feed lists services under 'contents'.")
    return data


def _text(value, limit: int) -> str:
    return str(value).strip()[:limit] if isinstance(value, str | int | float) else ""


def _names(items, *keys) -> list[str]:
    names = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        for key in keys:
            item = item.get(key) if isinstance(item, dict) else None
        if isinstance(item, dict):
            item = item.get("name") or item.get("description")
        if isinstance(item, str) and item.strip() and item.strip() not in names:
            names.append(item.strip())
    return names


def _first_phone(service: dict) -> str:
    phones = list(service.get("phones") or [])
    for contact in service.get("contacts") or []:
        if isinstance(contact, dict):
            phones += contact.get("phones") or []
    return next((_text(p.get("number"), 30) for p in phones if isinstance(p, dict) and p.get("number")), "")


def provider_records(services: list[dict]) -> tuple[list[ProviderRecord], list[str]]:
    """The services that can be providers, and a line for each one that cannot (no id or name)."""
    records, problems = [], []
    for position, service in enumerate(services, start=1):
        oruk_id, name = _text(service.get("id"), 100), _text(service.get("name"), 200)
        if not oruk_id or not name:
            problems.append(f"Service {position} has no id or no name: left out.")
            continue
        status = _text(service.get("status"), 30).lower() or "active"
        capacity = STATUS_CAPACITY.get(status, True)
        taxonomy = _names(service.get("attributes"), "taxonomy_term") + _names(
            service.get("service_taxonomys"), "taxonomy"
        )
        areas = _names(service.get("service_areas"), "name") or _names(service.get("service_areas"), "description")
        records.append(
            ProviderRecord(
                oruk_id=oruk_id,
                name=name,
                specialisms=", ".join(taxonomy)[:300] or _text(service.get("description"), 300),
                area=", ".join(areas)[:200],
                phone=_first_phone(service),
                email=_text(service.get("email"), 254),
                website=_text(service.get("url"), 200),
                how_to_refer=_text(service.get("application_process"), 4000) or _text(service.get("description"), 4000),
                open_to_referrals=bool(capacity),
                in_use=capacity is not None,
            )
        )
    return records, problems


# --- what hjp publishes ------------------------------------------------------------------------------------------


def _id(kind: str, pk) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}:{pk}"))


def partnership_services(*, base_url: str) -> dict:
    """Every partnership in force today as one ORUK service of its advice organisation, as an HSDS 3.0 page
    (all in one page: a handful of partnerships). Three queries: the partnerships with their advice services,
    their health services, and the problem categories every service helps with."""
    today = timezone.localdate()
    partnerships = list(
        Partnership.objects.filter(Q(end_date__isnull=True) | Q(end_date__gte=today), start_date__lte=today)
        .select_related("advice_organisation")
        .prefetch_related(Prefetch("health_organisations", queryset=Organisation.objects.order_by("name")))
        .order_by("name")
    )
    categories = list(ProblemCategory.objects.all())
    services = [_service(p, categories, base_url) for p in partnerships]
    return {
        "total_items": len(services),
        "total_pages": 1,
        "page_number": 1,
        "size": len(services),
        "first_page": True,
        "last_page": True,
        "empty": not services,
        "contents": services,
    }


def _service(partnership: Partnership, categories: list[ProblemCategory], base_url: str) -> dict:
    advice = partnership.advice_organisation
    health = ", ".join(o.name for o in partnership.health_organisations.all())
    service_id = _id("partnership", partnership.pk)
    return {
        "id": service_id,
        "name": f"{advice.name}: welfare rights advice for patients",
        "description": (
            f"Free, independent welfare rights advice (benefits, debt, housing and more) for patients referred by "
            f"their health professionals at {health or 'partner health services'}, through {partnership.name}."
        ),
        "status": "active",
        "url": base_url,
        "application_process": "Referral by a health professional of a partner health service, with the patient's "
        "consent, through hjp.",
        "fees_description": "Free",
        "organization": {
            "id": _id("organisation", advice.pk),
            "name": advice.name,
            "description": f"{advice.name}, an advice service working in partnership with health services.",
        },
        "attributes": [
            {
                "id": _id(f"attribute:{partnership.pk}", category.pk),
                "link_id": service_id,
                "link_type": "service",
                "link_entity": "service",
                "taxonomy_term_id": _id("category", category.pk),
                "taxonomy_term": {
                    "id": _id("category", category.pk),
                    "code": category.code,
                    "name": category.name,
                    "description": f"Advice about {category.name.lower()}",
                    "vocabulary": "hjp-problem-categories",
                },
            }
            for category in categories
        ],
    }
