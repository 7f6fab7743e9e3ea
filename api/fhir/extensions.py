"""hjp's own FHIR extensions, each published as a StructureDefinition at its canonical URL
(`<SITE_URL>/fhir/StructureDefinition/<name>`, `codes.extension_url`), so that a client (or a validator) that
follows an extension's URL finds what it means, where it goes and what it holds."""

from dataclasses import dataclass

from api.fhir import codes
from outcomes.models import NoOutcomeReason
from referrals.models import ContactMethod

BASE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/Extension"


@dataclass(frozen=True)
class Part:
    """One sub-extension of a complex extension: its url (a name), value type, whether it must be there."""

    name: str
    value_type: str
    required: bool
    definition: str


@dataclass(frozen=True)
class HjpExtension:
    name: str
    title: str
    definition: str
    context: tuple[str, ...]  # FHIRPath of the elements it may sit on
    value_type: str = ""  # a simple extension's value type (string, code, Coding, date); "" for a complex one
    parts: tuple[Part, ...] = ()

    @property
    def url(self) -> str:
        return codes.extension_url(self.name)


def _codes(choices) -> str:
    return ", ".join(f"{value} ({label})" for value, label in choices)


EXTENSIONS = {
    extension.name: extension
    for extension in (
        HjpExtension(
            "responsible-advisor",
            "Responsible advisor",
            "Moving a Task to accepted names the advisor responsible for the case: the email address of an advisor "
            "or supervisor of the advice service.",
            ("Task",),
            "string",
        ),
        HjpExtension(
            "no-outcome-reason",
            "Why a case closed with no outcome",
            f"Moving a Task to completed when the case recorded no outcome says why: one of {_codes(NoOutcomeReason.choices)}.",
            ("Task",),
            "code",
        ),
        HjpExtension(
            "preferred-contact-method",
            "The patient's preferred contact method",
            f"How the advice service should contact the patient: one of {_codes(ContactMethod.choices)}.",
            ("Patient",),
            "code",
        ),
        HjpExtension(
            "consent-method",
            "How consent was given",
            f"Coded from {codes.system_url('consent-method')}.",
            ("Consent",),
            "Coding",
        ),
        HjpExtension(
            "representative-authority",
            "A representative's authority",
            "When a representative gave consent: their authority (e.g. lasting power of attorney, appointee).",
            ("Consent",),
            "string",
        ),
        HjpExtension(
            "known-deadline",
            "A key date the referrer knows of",
            "A date the advice service must know (a benefit decision letter's date starts the one-month appeal "
            "clock), what kind of date it is and a note.",
            ("ServiceRequest",),
            parts=(
                Part("date", "date", True, "The date."),
                Part(
                    "kind", "Coding", False, f"What the date is, coded from {codes.system_url('known-deadline-kind')}."
                ),
                Part("note", "string", False, "What the referrer says about it."),
            ),
        ),
        HjpExtension(
            "setting",
            "Care setting",
            f"Where the referrer sees the patient, coded from {codes.system_url('setting')}.",
            ("ServiceRequest",),
            "Coding",
        ),
        HjpExtension(
            "expected-discharge-date",
            "Expected discharge date",
            "For an inpatient: when they are expected to leave hospital.",
            ("ServiceRequest",),
            "date",
        ),
        HjpExtension(
            "duplicate-reason",
            "Why the patient is referred again",
            "Why a second open referral of the same patient to the same advice service is made.",
            ("ServiceRequest",),
            "string",
        ),
        HjpExtension(
            "subscription-signing-secret",
            "The subscription's signing secret",
            "In the answer to a Subscription's creation only: the secret whose HMAC-SHA256 of each notification's "
            "body is its Hjp-Signature header.",
            ("Subscription.channel",),
            "string",
        ),
    )
}


def _element(path: str, element_id: str | None = None, **fields) -> dict:
    return {"id": element_id or path, "path": path, **fields}


def _differential(extension: HjpExtension) -> list[dict]:
    elements = [
        _element("Extension", short=extension.title, definition=extension.definition, min=0, max="1"),
    ]
    if extension.parts:
        elements.append(
            _element(
                "Extension.extension",
                slicing={"discriminator": [{"type": "value", "path": "url"}], "rules": "closed"},
                min=1,
            )
        )
        for part in extension.parts:
            slice_id = f"Extension.extension:{part.name}"
            elements += [
                _element(
                    "Extension.extension",
                    slice_id,
                    sliceName=part.name,
                    definition=part.definition,
                    min=1 if part.required else 0,
                    max="1",
                ),
                _element("Extension.extension.url", f"{slice_id}.url", fixedUri=part.name),
                _element(
                    "Extension.extension.value[x]", f"{slice_id}.value[x]", min=1, type=[{"code": part.value_type}]
                ),
            ]
        elements += [
            _element("Extension.url", fixedUri=extension.url),
            _element("Extension.value[x]", min=0, max="0"),
        ]
    else:
        elements += [
            _element("Extension.extension", max="0"),
            _element("Extension.url", fixedUri=extension.url),
            _element("Extension.value[x]", min=1, type=[{"code": extension.value_type}]),
        ]
    return elements


def structure_definition_resource(name: str) -> dict:
    """The StructureDefinition of one of hjp's extensions, as published at its URL (KeyError for no such one)."""
    extension = EXTENSIONS[name]
    return {
        "resourceType": "StructureDefinition",
        "id": extension.name,
        "url": extension.url,
        "name": "".join(part.title() for part in extension.name.split("-")),
        "title": extension.title,
        "status": "active",
        "experimental": False,
        "publisher": "hjp",
        "description": extension.definition,
        "fhirVersion": "4.0.1",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": where} for where in extension.context],
        "type": "Extension",
        "baseDefinition": BASE_EXTENSION,
        "derivation": "constraint",
        "differential": {"element": _differential(extension)},
    }
