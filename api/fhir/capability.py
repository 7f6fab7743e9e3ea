"""The CapabilityStatement of `GET /fhir/metadata`: only what `api.fhir.views` does, nothing it does not."""

from api.fhir import codes

FHIR_VERSION = "4.0.1"
SCOPES_NOTE = (
    "OAuth 2.0 client credentials (POST /oauth/token/). Scopes: referrals:read (read and search), "
    "referrals:write (submit a referral Bundle; cancel its Task), cases:write (move Tasks). A client acts with its organisation's "
    "rights only: it sees what its service user would see on the web pages, and every read is audited."
)
TASK_SEARCH = [
    ("owner", "reference", "The advice organisation the Task is with: Organization/<id>."),
    ("status", "token", "Task.status; several separated by commas."),
    ("focus", "reference", "The referral's ServiceRequest: ServiceRequest/<id>."),
    ("_lastUpdated", "date", "When the Task last changed, with the prefixes gt, ge, lt, le (poll for changes)."),
    ("_count", "number", "Tasks a page (default 20, at most 100); the Bundle's next link gives the next page."),
]


def capability_statement(*, published: str) -> dict:
    read = [{"code": "read"}]
    return {
        "resourceType": "CapabilityStatement",
        "url": f"{codes.base_url()}/metadata",
        "name": "HjpFhirServer",
        "title": "hjp: referrals to welfare rights advice",
        "status": "active",
        "experimental": False,
        "date": published,
        "publisher": "hjp",
        "kind": "instance",
        "implementation": {"description": "hjp FHIR R4 interface", "url": codes.base_url()},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Submit a referral as a transaction Bundle (Patient, Consent, ServiceRequest, Task); "
                "follow it through its Task. A withdrawn patient's Patient is redacted (no name, identifier, birth date "
                "or contact; meta.security REDACTED).",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": SCOPES_NOTE,
                },
                "resource": [
                    {
                        "type": "Task",
                        "interaction": [
                            {"code": "read"},
                            {"code": "search-type"},
                            {"code": "update"},
                            {"code": "patch"},
                        ],
                        "versioning": "no-version",
                        "updateCreate": False,
                        "conditionalUpdate": False,
                        "searchParam": [
                            {"name": name, "type": kind, "documentation": documentation}
                            for name, kind, documentation in TASK_SEARCH
                        ],
                        "documentation": "Moving a Task (scope cases:write; referrals:write to cancel or mark "
                        "entered-in-error with a statusReason text): status accepted, rejected (with a "
                        "statusReason coded from the decline-reason CodeSystem), in-progress (the first contact with "
                        "the patient) or completed (a statusReason coded from closure-reason, else work completed); "
                        "businessStatus from case-status. The same transitions as the web pages: a move they refuse "
                        "is refused with 409. POST Task/<id>/$redirect (cases:write) with a Parameters resource "
                        "(provider: the id of a provider in the service's directory; note: for the referrer; share: "
                        "parts given-by, method, said-at, the patient's consent to share with the provider, which "
                        "hands the referral over) redirects a submitted referral as triage's page does.",
                    },
                    {"type": "ServiceRequest", "interaction": read, "conditionalCreate": True},
                    {"type": "Consent", "interaction": read},
                    {"type": "Patient", "interaction": read},
                    {
                        "type": "Organization",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {
                                "name": "identifier",
                                "type": "token",
                                "documentation": f"The ODS code ({codes.ODS_CODE}|<code>, or the code alone).",
                            }
                        ],
                        "documentation": "The organisations the client may see: its own, those in a partnership "
                        "with it, and those named on the referrals it may see (Task.owner, Task.requester, "
                        "ServiceRequest.performer).",
                    },
                    {"type": "CodeSystem", "interaction": read},
                    {
                        "type": "StructureDefinition",
                        "interaction": read,
                        "documentation": "hjp's extensions, each at its canonical URL "
                        "(<base>/StructureDefinition/<name>).",
                    },
                    {
                        "type": "Subscription",
                        "supportedProfile": [
                            "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"
                        ],
                        "interaction": [
                            {"code": "create"},
                            {"code": "read"},
                            {"code": "search-type"},
                            {"code": "delete"},
                        ],
                        "documentation": "Topic-based subscriptions (Subscriptions R5 Backport, R4): criteria is the "
                        "one topic, <base>/SubscriptionTopic/task-changed (a change of a Task the client may see); "
                        "channel rest-hook to an https:// endpoint; payload application/fhir+json with content id-only "
                        "or full-resource. Each notification is signed: Hjp-Signature: sha256=<HMAC-SHA256 of the body "
                        "under the secret returned once at creation>. See the README.",
                    },
                ],
                "interaction": [{"code": "transaction"}],
            }
        ],
    }
