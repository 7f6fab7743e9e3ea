"""The codes hjp's FHIR resources carry: SNOMED CT and HL7's own code systems where a concept exists, and hjp's
own CodeSystems (published at their canonical URLs, `/fhir/CodeSystem/<name>`) for what has none.

Every SNOMED CT concept used here was checked against a published copy of the terminology (HL7's
referral-type value set; the SNOMED CT browser): 41920009 |Patient referral for socioeconomic factors
(procedure)|. No SNOMED code is made up: where no concept was verified (the problem categories, the case
statuses, the outcome kinds), hjp's CodeSystem is the code."""

from dataclasses import dataclass

from django.conf import settings

from casework.models import ClosureReason
from hjp.accounts.models import Profession
from outcomes.models import FinancialKind, NonFinancialKind, OutcomeKind
from referrals.models import (
    CaseStatus,
    Consent,
    DeclineReason,
    KnownDeadlineKind,
    ProblemCategory,
    Setting,
)

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"

# The service requested: SNOMED CT's concept, with hjp's own code beside it.
REFERRAL_SNOMED = ("41920009", "Patient referral for socioeconomic factors")
REFERRAL_SERVICE = ("welfare-rights-advice", "Referral to welfare rights advice")
# LOINC 59284-0 "Patient Consent": the consent category FHIR R4's own examples use.
CONSENT_CATEGORY_LOINC = ("59284-0", "Patient Consent")


def base_url() -> str:
    """The FHIR base of this installation (`SITE_URL` + /fhir): canonical URLs do not depend on the host a
    request happened to use."""
    return f"{settings.SITE_URL}/fhir"


def code_system_url(name: str) -> str:
    return f"{base_url()}/CodeSystem/{name}"


def identifier_system(name: str) -> str:
    return f"{base_url()}/Id/{name}"


def extension_url(name: str) -> str:
    return f"{base_url()}/StructureDefinition/{name}"


@dataclass(frozen=True)
class HjpCodeSystem:
    """One of hjp's CodeSystems: its name (the last part of its URL), title, description and concepts."""

    name: str
    title: str
    description: str
    concepts: tuple[tuple[str, str], ...] | None = None  # None: read from a reference list (`concepts_now`)

    @property
    def url(self) -> str:
        return code_system_url(self.name)

    def concepts_now(self) -> list[tuple[str, str]]:
        if self.concepts is not None:
            return list(self.concepts)
        return list(ProblemCategory.objects.order_by("position", "name").values_list("code", "name"))


def _choices(choices) -> tuple[tuple[str, str], ...]:
    return tuple((value, str(label)) for value, label in choices)


# The consent's three scopes (DESIGN.md, Patient and consent), as Consent.provision actions.
SCOPE_SHARE = "share-with-advice-service"
SCOPE_EVIDENCE = "medical-evidence"
SCOPE_OUTCOMES = "outcome-feedback"
CONSENT_SCOPE_FIELDS = {
    SCOPE_SHARE: "share_with_advice_service",
    SCOPE_EVIDENCE: "medical_evidence",
    SCOPE_OUTCOMES: "outcome_feedback",
}

CODE_SYSTEMS = {
    system.name: system
    for system in (
        HjpCodeSystem(
            "referral-service",
            "hjp referral services",
            "The service a referral asks for.",
            (REFERRAL_SERVICE,),
        ),
        HjpCodeSystem(
            "problem-category",
            "hjp problem categories",
            "What the patient needs help with (a reference list admins keep): ServiceRequest.category.",
        ),
        HjpCodeSystem(
            "case-status",
            "hjp case statuses",
            "The finer status of an open case the referrer reads: Task.businessStatus.",
            _choices(CaseStatus.choices),
        ),
        HjpCodeSystem(
            "decline-reason",
            "hjp decline reasons",
            "Why the advice service declined a referral: Task.statusReason of a rejected Task.",
            _choices(DeclineReason.choices),
        ),
        HjpCodeSystem(
            "closure-reason",
            "hjp closure reasons",
            "Why a case closed: Task.statusReason of a completed Task.",
            _choices(ClosureReason.choices),
        ),
        HjpCodeSystem(
            "consent-scope",
            "hjp consent scopes",
            "The three scopes of a patient's consent: Consent.provision.action.",
            (
                (SCOPE_SHARE, "1. Share the referral with the advice service"),
                (SCOPE_EVIDENCE, "2. The advisor may ask the referrer for medical evidence"),
                (SCOPE_OUTCOMES, "3. Outcomes may be reported back to the referrer"),
            ),
        ),
        HjpCodeSystem(
            "consent-method",
            "hjp consent methods",
            "How consent was given.",
            _choices(Consent.Method.choices),
        ),
        HjpCodeSystem(
            "known-deadline-kind",
            "hjp key date kinds",
            "What the key date on a referral is: a decision letter's date starts the appeal clock.",
            _choices(KnownDeadlineKind.choices),
        ),
        HjpCodeSystem(
            "referrer-profession",
            "hjp referrer professions",
            "The referring practitioner's profession: ServiceRequest's requester PractitionerRole.code.",
            _choices(Profession.choices),
        ),
        HjpCodeSystem(
            "setting",
            "hjp care settings",
            "Where the referrer sees the patient.",
            _choices(Setting.choices),
        ),
        HjpCodeSystem(
            "outcome-kind",
            "hjp outcome kinds",
            "The kinds of outcome a case records, and the kinds of financial and other outcomes.",
            _choices(OutcomeKind.choices)
            + tuple((f"financial-{value}", str(label)) for value, label in FinancialKind.choices)
            + tuple((f"non-financial-{value}", str(label)) for value, label in NonFinancialKind.choices),
        ),
    )
}


def system_url(name: str) -> str:
    """The canonical URL of one of hjp's CodeSystems, by name (KeyError for one that does not exist)."""
    return CODE_SYSTEMS[name].url


def coding(name: str, code: str) -> dict:
    """A Coding of hjp's CodeSystem `name`, with its display."""
    system = CODE_SYSTEMS[name]
    display = dict(system.concepts_now() if system.concepts is None else system.concepts).get(code, code)
    return {"system": system.url, "code": code, "display": display}


def code_system_resource(name: str) -> dict:
    """The CodeSystem resource of one of hjp's code systems, as published at its URL."""
    system = CODE_SYSTEMS[name]
    concepts = system.concepts_now()
    return {
        "resourceType": "CodeSystem",
        "id": system.name,
        "url": system.url,
        "name": "".join(part.title() for part in system.name.split("-")),
        "title": system.title,
        "status": "active",
        "experimental": False,
        "publisher": "hjp",
        "description": system.description,
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": [{"code": code, "display": display} for code, display in concepts],
    }
