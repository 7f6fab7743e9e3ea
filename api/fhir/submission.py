"""A FHIR transaction Bundle (Patient, Consent, ServiceRequest, Task) read as the referral form's answers.

The Bundle's content goes through the web form's own forms (`referrals.forms`: the NHS number's modulus-11
check, the postcode, consent scope 1 required to submit, the contact the preferred method needs, ...) so that
a referral sent from a GP system meets exactly the rules of one typed in, and then through the same service
(`referrals.services.referral_save`). Every problem is reported at once, each as an OperationOutcome issue
with the FHIRPath of what it is about: the form's message, the Bundle's place."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError as PydanticValidationError

from api.fhir import codes
from api.fhir.outcome import FhirError, Issue
from hjp.accounts.models import Profession
from hjp.core.forms import SUBMISSION_TOKEN
from referrals.forms import ConsentForm, PatientForm, ReferralForm
from referrals.models import (
    PROFESSIONAL_REGISTERS,
    Consent,
    ContactMethod,
    KnownDeadlineKind,
    ReferringPractitioner,
    Setting,
    Sex,
    Urgency,
)
from referrals.selectors import partnerships_for_referrer, problem_categories

REQUIRED_RESOURCES = ("Patient", "Consent", "ServiceRequest", "Task")
# Who referred, when the Bundle carries them as resources of their own (ServiceRequest.requester names them).
PRACTITIONER_RESOURCES = ("Practitioner", "PractitionerRole")
SEX = {"female": Sex.FEMALE, "male": Sex.MALE, "other": Sex.ANOTHER, "unknown": Sex.PREFER_NOT_TO_SAY}


@dataclass
class Submission:
    """What the referral form would have posted, cleaned by its forms; `if_none_exist` is the ServiceRequest
    entry's conditional create (FHIR's `If-None-Exist`), if any."""

    patient_data: dict
    consent_data: dict
    referral_data: dict
    if_none_exist: str = ""
    # The resource types in the Bundle's order, for the transaction-response's entries.
    order: tuple[str, ...] = ()
    # Who referred (ReferringPractitioner's fields and the profession named, if any), when the Bundle says.
    practitioner: dict | None = None


@dataclass
class _Reader:
    """Collects the problems of one Bundle, each with its FHIRPath, and the forms' data as they are read."""

    issues: list[Issue] = field(default_factory=list)
    paths: dict[tuple[str, str], str] = field(default_factory=dict)  # (form, field) -> where it came from

    def problem(self, code: str, diagnostics: str, *expression: str) -> None:
        self.issues.append(Issue(code, diagnostics, tuple(expression)))


def _path(loc: tuple) -> str:
    path = "Bundle"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith("function-") and part not in ("__root__", "root"):
            path += f".{part}"
    return path


def _resource_types(document: dict) -> list[tuple[int, str]]:
    entries = document.get("entry")
    return [
        (i, entry["resource"].get("resourceType"))
        for i, entry in enumerate(entries if isinstance(entries, list) else [])
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
    ]


def check_structure(document) -> dict:
    """The document as an R4 Bundle (fhir.resources' model: every element known, of its type), of type
    transaction, with each element in its JSON form (a dateTime a string, however it was sent); otherwise
    FhirError (400) naming each problem."""
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        raise FhirError.one(400, "structure", "Send a FHIR Bundle (resourceType Bundle) of type transaction.", "Bundle")
    try:
        bundle = Bundle.model_validate(document)
    except PydanticValidationError as error:
        raise FhirError(
            400,
            [
                Issue("structure", f"{problem['msg']}", (_path(problem["loc"]),))
                for problem in error.errors(include_url=False)[:50]
            ],
        ) from None
    except (ValueError, TypeError, LookupError):
        # fhir.resources looks an unknown resourceType up and fails: name the entries that hold one.
        raise FhirError(
            400,
            [
                Issue(
                    "not-supported", f"Unknown resource type {kind!r}.", (f"Bundle.entry[{i}].resource.resourceType",)
                )
                for i, kind in _resource_types(document)
                if kind not in REQUIRED_RESOURCES + PRACTITIONER_RESOURCES
            ]
            or [Issue("structure", "This is not a valid FHIR Bundle.", ("Bundle",))],
        ) from None
    if document.get("type") != "transaction":
        raise FhirError.one(400, "invalid", "The Bundle must be of type transaction.", "Bundle.type")
    return json.loads(bundle.model_dump_json(by_alias=True, exclude_none=True))


def _without_nulls(node):
    """The document without its JSON nulls (which fhir.resources lets through in lists and elements): an element
    that is null is an element not given."""
    if isinstance(node, dict):
        return {key: _without_nulls(value) for key, value in node.items() if value is not None}
    if isinstance(node, list):
        return [_without_nulls(value) for value in node if value is not None]
    return node


def _entries(document: dict, reader: _Reader) -> dict[str, tuple[int, dict, dict]]:
    """The one Patient, Consent, ServiceRequest and Task of the Bundle: {type: (index, resource, entry)}."""
    found: dict[str, tuple[int, dict, dict]] = {}
    for index, entry in enumerate(document.get("entry") or []):
        resource = entry.get("resource") or {}
        kind = resource.get("resourceType", "")
        where = f"Bundle.entry[{index}]"
        if kind not in REQUIRED_RESOURCES + PRACTITIONER_RESOURCES:
            reader.problem(
                "not-supported",
                "A referral Bundle holds only a Patient, a Consent, a ServiceRequest and a Task (and the requester's "
                f"Practitioner or PractitionerRole), not a {kind or 'resource without a type'}.",
                f"{where}.resource",
            )
        elif kind in found:
            reader.problem("invalid", f"The Bundle holds more than one {kind}: send one referral a Bundle.", where)
        else:
            method = (entry.get("request") or {}).get("method")
            if method != "POST":
                reader.problem("not-supported", f"Create the {kind} with POST.", f"{where}.request.method")
            found[kind] = (index, resource, entry)
    for kind in REQUIRED_RESOURCES:
        if kind not in found:
            message = {
                "Consent": "The Bundle has no Consent: record the patient's consent (scope 1, to share the referral "
                "with the advice service, is required) before sending a referral.",
            }.get(
                kind, f"The Bundle has no {kind}: a referral needs a Patient, a Consent, a ServiceRequest and a Task."
            )
            reader.problem("required", message, "Bundle.entry")
    return found


def _refers_to(reference: dict | None, entry: dict, kind: str) -> bool:
    target = (reference or {}).get("reference", "")
    return bool(target) and target in {entry.get("fullUrl", ""), f"{kind}/{entry['resource'].get('id', '')}"}


def _extension(resource: dict, name: str) -> tuple[int, dict] | tuple[None, None]:
    url = codes.extension_url(name)
    for index, extension in enumerate(resource.get("extension") or []):
        if extension.get("url") == url:
            return index, extension
    return None, None


def _code_of(coding_holder: dict | None, system_name: str, allowed, where: str, reader: _Reader) -> str:
    """The code of a valueCoding/Coding of hjp's CodeSystem `system_name`, if it is one of `allowed`; else a
    problem named at `where`."""
    coding = coding_holder or {}
    system, code = coding.get("system"), coding.get("code", "")
    if system != codes.system_url(system_name) or code not in allowed:
        reader.problem(
            "code-invalid",
            f"Unknown code {system}|{code}: use one of {codes.system_url(system_name)} ({', '.join(allowed)}).",
            where,
        )
        return ""
    return code


def _patient_data(index: int, patient: dict, reader: _Reader) -> dict:
    base = f"Bundle.entry[{index}].resource"
    data = {}

    def put(name: str, value, path: str) -> None:
        data[name] = value
        reader.paths[("patient", name)] = f"{base}.{path}" if path else base

    name = (patient.get("name") or [{}])[0]
    put("given_name", " ".join(name.get("given") or []), "name[0].given")
    put("family_name", name.get("family", ""), "name[0].family")
    birth = patient.get("birthDate", "")
    parsed = parse_date(birth) if len(birth) == 10 else None
    parts = [str(parsed.day), str(parsed.month), str(parsed.year)] if parsed else ["", "", birth[:4]] if birth else []
    for part, value in zip(("day", "month", "year"), parts or ["", "", ""], strict=True):
        data[f"date_of_birth_{part}"] = value
    reader.paths[("patient", "date_of_birth")] = f"{base}.birthDate"
    nhs_numbers = [
        (i, identifier.get("value", ""))
        for i, identifier in enumerate(patient.get("identifier") or [])
        if identifier.get("system") == codes.NHS_NUMBER
    ]
    if nhs_numbers:
        put("nhs_number", nhs_numbers[0][1], f"identifier[{nhs_numbers[0][0]}].value")
    telecom = patient.get("telecom") or []
    preferred = None
    for system in ("phone", "email"):
        found = [(i, t) for i, t in enumerate(telecom) if t.get("system") == system]
        if found:
            i, t = found[0]
            put(system, t.get("value", ""), f"telecom[{i}].value")
            if t.get("rank") == 1:
                preferred = system
        else:
            reader.paths[("patient", system)] = f"{base}.telecom"
    address = (patient.get("address") or [{}])[0]
    put("address", address.get("text") or "\n".join(address.get("line") or []), "address[0]")
    put("postcode", address.get("postalCode", ""), "address[0].postalCode")
    ext_index, extension = _extension(patient, "preferred-contact-method")
    if extension is not None:
        method = extension.get("valueCode", "")
        where = f"extension[{ext_index}].valueCode"
        if method not in ContactMethod.values:
            reader.problem(
                "code-invalid",
                f"Unknown contact method {method!r}: use one of {', '.join(ContactMethod.values)}.",
                f"{base}.{where}",
            )
        put("preferred_contact_method", method, where)
    else:
        put("preferred_contact_method", preferred or ("letter" if data.get("address") else ""), "telecom")
    gender = patient.get("gender")
    put("sex", SEX.get(gender, "") if gender else "", "gender")
    language = ((patient.get("communication") or [{}])[0].get("language") or {}).get("text", "")
    put("language", language or "English", "communication[0].language")
    return data


def _when(value: str) -> str:
    """A FHIR dateTime as the consent form's input (local time, as typed on the page); "" if not one."""
    parsed = parse_datetime(value or "")
    if parsed is None:
        return "x" if value else ""  # the form says "Enter a real date and time"
    if timezone.is_aware(parsed):
        parsed = timezone.localtime(parsed)
    return datetime.strftime(parsed, "%Y-%m-%dT%H:%M:%S")


def _consent_data(index: int, consent: dict, patient_entry: dict, reader: _Reader) -> dict:
    base = f"Bundle.entry[{index}].resource"
    data = {}

    def put(name: str, value, path: str) -> None:
        data[name] = value
        reader.paths[("consent", name)] = f"{base}.{path}" if path else base

    if consent.get("status") != "active":
        reader.problem(
            "invalid", "The Consent's status must be active: the patient's consent as given.", f"{base}.status"
        )
    if not _refers_to(consent.get("patient"), patient_entry, "Patient"):
        reader.problem("invalid", "The Consent must name the Bundle's Patient (its fullUrl).", f"{base}.patient")
    put("given_at", _when(consent.get("dateTime", "")), "dateTime")
    performer = (consent.get("performer") or [{}])[0]
    if _refers_to(performer, patient_entry, "Patient"):
        put("given_by", Consent.GivenBy.PATIENT, "performer[0]")
    elif performer:
        put("given_by", Consent.GivenBy.REPRESENTATIVE, "performer[0]")
        put("representative_name", performer.get("display", ""), "performer[0].display")
        ext_index, extension = _extension(consent, "representative-authority")
        put(
            "representative_authority",
            (extension or {}).get("valueString", ""),
            f"extension[{ext_index}]" if ext_index is not None else "extension",
        )
    else:
        put("given_by", "", "performer")
    ext_index, extension = _extension(consent, "consent-method")
    where = f"{base}.extension[{ext_index}].valueCoding" if ext_index is not None else f"{base}.extension"
    method = (
        _code_of(extension.get("valueCoding"), "consent-method", Consent.Method.values, where, reader)
        if extension is not None
        else ""
    )
    put("method", method, where.removeprefix(f"{base}."))
    scopes = {name: False for name in codes.CONSENT_SCOPE_FIELDS.values()}
    provisions = (consent.get("provision") or {}).get("provision") or []
    for i, provision in enumerate(provisions):
        for j, action in enumerate(provision.get("action") or []):
            where = f"{base}.provision.provision[{i}].action[{j}]"
            for coding in action.get("coding") or [{}]:
                scope = _code_of(coding, "consent-scope", list(codes.CONSENT_SCOPE_FIELDS), where, reader)
                if scope:
                    scopes[codes.CONSENT_SCOPE_FIELDS[scope]] = provision.get("type") == "permit"
                    reader.paths[("consent", codes.CONSENT_SCOPE_FIELDS[scope])] = where
    for name, value in scopes.items():
        reader.paths.setdefault(("consent", name), f"{base}.provision")
        if value:
            data[name] = "on"
    return data


def _referral_data(index: int, request: dict, patient_entry: dict, partnerships, categories, reader: _Reader) -> dict:
    base = f"Bundle.entry[{index}].resource"
    data = {SUBMISSION_TOKEN: str(uuid.uuid4())}

    def put(name: str, value, path: str) -> None:
        data[name] = value
        reader.paths[("referral", name)] = f"{base}.{path}" if path else base

    if not _refers_to(request.get("subject"), patient_entry, "Patient"):
        reader.problem("invalid", "The ServiceRequest's subject must be the Bundle's Patient.", f"{base}.subject")
    if request.get("intent") not in ("order", "original-order"):
        reader.problem("invalid", "The ServiceRequest's intent must be order.", f"{base}.intent")
    for i, coding in enumerate((request.get("code") or {}).get("coding") or []):
        known = {
            (codes.SNOMED, codes.REFERRAL_SNOMED[0]),
            (codes.system_url("referral-service"), codes.REFERRAL_SERVICE[0]),
        }
        if (coding.get("system"), coding.get("code")) not in known:
            reader.problem(
                "code-invalid",
                f"Unknown service {coding.get('system')}|{coding.get('code')}: hjp takes referrals for welfare rights "
                f"advice (SNOMED CT {codes.REFERRAL_SNOMED[0]}, or {codes.system_url('referral-service')}|"
                f"{codes.REFERRAL_SERVICE[0]}).",
                f"{base}.code.coding[{i}]",
            )
    by_code = {c.code: c.pk for c in categories}
    chosen = []
    for i, category in enumerate(request.get("category") or []):
        for j, coding in enumerate(category.get("coding") or []):
            code = _code_of(coding, "problem-category", list(by_code), f"{base}.category[{i}].coding[{j}]", reader)
            if code:
                chosen.append(by_code[code])
    put("categories", chosen, "category")
    priority = request.get("priority", "routine")
    if priority not in Urgency.values:
        reader.problem("code-invalid", "The priority must be routine or urgent.", f"{base}.priority")
    put("urgency", priority, "priority")
    put("description", "\n\n".join(note.get("text", "") for note in request.get("note") or []), "note")
    put("partnership", _partnership(request, partnerships, base, reader), "performer")
    ext_index, deadline = _extension(request, "known-deadline")
    if deadline is not None:
        parts = {part.get("url"): part for part in deadline.get("extension") or []}
        where = f"extension[{ext_index}]"
        put("known_deadline", (parts.get("date") or {}).get("valueDate", ""), f"{where}.extension")
        kind = parts.get("kind")
        put(
            "known_deadline_kind",
            _code_of(
                kind.get("valueCoding"), "known-deadline-kind", KnownDeadlineKind.values, f"{base}.{where}", reader
            )
            if kind
            else "",
            where,
        )
        put("known_deadline_note", (parts.get("note") or {}).get("valueString", ""), where)
    ext_index, setting = _extension(request, "setting")
    if setting is not None:
        where = f"extension[{ext_index}].valueCoding"
        put(
            "setting", _code_of(setting.get("valueCoding"), "setting", Setting.values, f"{base}.{where}", reader), where
        )
    else:
        put("setting", "", "extension")
    ext_index, discharge = _extension(request, "expected-discharge-date")
    if discharge is not None:
        put("expected_discharge_date", discharge.get("valueDate", ""), f"extension[{ext_index}].valueDate")
    ext_index, again = _extension(request, "duplicate-reason")
    if again is not None:
        put("duplicate_reason", again.get("valueString", ""), f"extension[{ext_index}].valueString")
    return data


def _partnership(request: dict, partnerships, base: str, reader: _Reader):
    """The partnership to refer through: the only one the client's organisation is in, or the one whose advice
    service the ServiceRequest's performer names (Organization/<id>)."""
    performers = request.get("performer") or []
    if not partnerships:
        reader.problem(
            "business-rule",
            "Your organisation refers to no advice service today: only a health organisation in a running "
            "partnership can send referrals.",
            f"{base}.performer",
        )
        return ""
    if not performers:
        if len(partnerships) == 1:
            return partnerships[0].pk
        reader.problem(
            "required",
            "Name the advice service as the ServiceRequest's performer (Organization/<id>): your organisation "
            "refers to more than one.",
            f"{base}.performer",
        )
        return ""
    target = performers[0].get("reference", "")
    for partnership in partnerships:
        if target == f"Organization/{partnership.advice_organisation_id}":
            return partnership.pk
    reader.problem(
        "invalid",
        f"{target or 'That performer'} is not an advice service your organisation refers to.",
        f"{base}.performer[0]",
    )
    return ""


def _contained_or_entry(reference: dict, request: dict, base: str, found: dict, reader: _Reader):
    """The resource a Reference points at, with its path: contained in the ServiceRequest ("#id") or an entry of
    the Bundle (its fullUrl, or Type/id); (None, "") for a logical reference (one to nothing in the Bundle)."""
    target = reference.get("reference", "")
    if target.startswith("#"):
        for i, contained in enumerate(request.get("contained") or []):
            if contained.get("id") == target[1:]:
                return contained, f"{base}.contained[{i}]"
        reader.problem("invalid", f"{target} names nothing the ServiceRequest contains.", f"{base}.requester")
        return None, ""
    for kind in PRACTITIONER_RESOURCES:
        if kind in found and _refers_to(reference, found[kind][2], kind):
            return found[kind][1], f"Bundle.entry[{found[kind][0]}].resource"
    return None, ""


def _person_name(practitioner: dict) -> str:
    name = (practitioner.get("name") or [{}])[0]
    if name.get("text"):
        return name["text"].strip()
    return " ".join([*(name.get("prefix") or []), *(name.get("given") or []), name.get("family", "")]).strip()


def _registration(identifiers: list[dict]) -> tuple[int, dict] | tuple[None, dict]:
    """The professional registration among a practitioner's identifiers (a known register's first), if any."""
    for i, identifier in enumerate(identifiers):
        if identifier.get("system") in PROFESSIONAL_REGISTERS:
            return i, identifier
    return (0, identifiers[0]) if identifiers else (None, {})


def _practitioner_data(index: int, request: dict, found: dict, reader: _Reader) -> dict | None:
    """Who referred, from ServiceRequest.requester: a PractitionerRole or Practitioner (contained, or an entry of
    the Bundle), or a logical reference's display and identifier. None when the Bundle names nobody (the client's
    system account is then the only referrer on record). Checked by ReferringPractitioner's own rules."""
    base = f"Bundle.entry[{index}].resource"
    requester = request.get("requester")
    used: set[str] = set()
    data = None
    if requester and not requester.get("reference", "").startswith("Organization/"):
        data, where = {"name": "", "role": "", "identifier_system": "", "identifier": "", "profession": ""}, {}
        person_ref, person_where = requester, f"{base}.requester"
        resource, path = _contained_or_entry(requester, request, base, found, reader)
        if resource is not None:
            used.add(path)
            kind = resource.get("resourceType")
            if kind == "PractitionerRole":
                for i, code in enumerate(resource.get("code") or []):
                    data["role"] = (
                        data["role"]
                        or code.get("text")
                        or next((c.get("display", "") for c in code.get("coding") or [] if c.get("display")), "")
                    )
                    where["role"] = f"{path}.code[{i}]"
                    for j, coding in enumerate(code.get("coding") or []):
                        if coding.get("system") == codes.system_url("referrer-profession"):
                            data["profession"] = _code_of(
                                coding,
                                "referrer-profession",
                                Profession.values,
                                f"{path}.code[{i}].coding[{j}]",
                                reader,
                            )
                person_ref, person_where = resource.get("practitioner") or {}, f"{path}.practitioner"
                resource, path = _contained_or_entry(person_ref, request, base, found, reader)
                if resource is not None:
                    used.add(path)
            if resource is not None and resource.get("resourceType") != "Practitioner":
                reader.problem(
                    "invalid", "The requester is a Practitioner or a PractitionerRole of one.", f"{path}.resourceType"
                )
                return None
        if resource is not None:
            data["name"], where["name"] = _person_name(resource), f"{path}.name"
            i, identifier = _registration(resource.get("identifier") or [])
            where["identifier"] = f"{path}.identifier[{i or 0}]"
        else:
            data["name"], where["name"] = (person_ref.get("display") or "").strip(), f"{person_where}.display"
            identifier = person_ref.get("identifier") or {}
            where["identifier"] = f"{person_where}.identifier"
        data["identifier_system"] = identifier.get("system", "")
        data["identifier"] = (identifier.get("value") or "").strip().upper()
        where["identifier_system"] = where["identifier"]
        checked = ReferringPractitioner(**{k: v for k, v in data.items() if k != "profession"})
        try:
            checked.full_clean(exclude=["referral"])
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                for message in messages:
                    reader.problem(
                        "required" if name == "name" and not data["name"] else "invalid",
                        message,
                        where.get(name, f"{base}.requester"),
                    )
    for kind in PRACTITIONER_RESOURCES:
        if kind in found and f"Bundle.entry[{found[kind][0]}].resource" not in used:
            reader.problem(
                "invalid",
                f"The Bundle's {kind} is not the ServiceRequest's requester: name it there, or leave it out.",
                f"Bundle.entry[{found[kind][0]}]",
            )
    return data


def _task_checks(index: int, task: dict, found: dict, reader: _Reader) -> None:
    base = f"Bundle.entry[{index}].resource"
    if task.get("status") != "requested":
        reader.problem("invalid", "A new referral's Task has status requested.", f"{base}.status")
    if task.get("intent") != "order":
        reader.problem("invalid", "The Task's intent must be order.", f"{base}.intent")
    if not _refers_to(task.get("focus"), found["ServiceRequest"][2], "ServiceRequest"):
        reader.problem("invalid", "The Task's focus must be the Bundle's ServiceRequest.", f"{base}.focus")
    if not _refers_to(task.get("for"), found["Patient"][2], "Patient"):
        reader.problem("invalid", "The Task must be for the Bundle's Patient.", f"{base}.for")


def _form_issues(form, name: str, reader: _Reader) -> None:
    for field_name, messages in form.errors.items():
        where = reader.paths.get((name, field_name)) or "Bundle"
        for message in messages:
            code = "required" if field_name in form.fields and not form.data.get(field_name) else "invalid"
            reader.problem(code, str(message), where)


def read_submission(document, *, user) -> Submission:
    """The referral a transaction Bundle describes, checked by the web form's forms; FhirError (400 for a
    malformed Bundle, 422 for one that breaks the form's rules) naming every problem otherwise."""
    document = _without_nulls(check_structure(document))
    reader = _Reader()
    found = _entries(document, reader)
    if reader.issues:
        raise FhirError(422 if all(i.code == "required" for i in reader.issues) else 400, reader.issues)
    partnerships = list(partnerships_for_referrer(user))
    categories = list(problem_categories())
    p_index, patient, patient_entry = found["Patient"]
    c_index, consent, _ = found["Consent"]
    s_index, service_request, s_entry = found["ServiceRequest"]
    t_index, task, _ = found["Task"]
    patient_form = PatientForm(_patient_data(p_index, patient, reader), submitting=True)
    consent_form = ConsentForm(_consent_data(c_index, consent, patient_entry, reader), submitting=True)
    referral_form = ReferralForm(
        _referral_data(s_index, service_request, patient_entry, partnerships, categories, reader),
        submitting=True,
        partnerships=partnerships_for_referrer(user),
        categories=problem_categories(),
    )
    _task_checks(t_index, task, found, reader)
    practitioner = _practitioner_data(s_index, service_request, found, reader)
    for form, name in ((patient_form, "patient"), (consent_form, "consent"), (referral_form, "referral")):
        if not form.is_valid():
            _form_issues(form, name, reader)
    if reader.issues:
        raise FhirError(422, reader.issues)
    return Submission(
        patient_data=patient_form.cleaned_data,
        consent_data=consent_form.cleaned_data,
        referral_data=referral_form.cleaned_data,
        if_none_exist=(s_entry.get("request") or {}).get("ifNoneExist", ""),
        order=tuple(kind for _index, kind in sorted((index, kind) for kind, (index, _r, _e) in found.items())),
        practitioner=practitioner,
    )
