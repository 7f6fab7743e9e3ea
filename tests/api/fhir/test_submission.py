"""A transaction Bundle read as the referral form's answers, by the form's own rules; every problem named with
where it is, never a 500."""

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.fhir import codes
from api.fhir.outcome import FhirError
from api.fhir.submission import read_submission
from referrals import services
from referrals.models import Consent, ReferralStatus
from tests import factories
from tests.api.fhir.bundles import CONSENT, EXAMPLE, PATIENT, SERVICE_REQUEST, TASK, changed, example_bundle

pytestmark = pytest.mark.django_db


@pytest.fixture
def gp(partnership, health_org):
    return factories.referrer(health_org)


def problems(bundle, user) -> tuple[int, list[tuple[str, str, list]]]:
    with pytest.raises(FhirError) as refused:
        read_submission(bundle, user=user)
    return refused.value.status, [(i.code, i.diagnostics, list(i.expression)) for i in refused.value.issues]


def test_the_readme_example_is_a_referral(gp, partnership):
    submission = read_submission(example_bundle(), user=gp)
    assert submission.patient_data["nhs_number"] == "9434765919"
    assert submission.patient_data["postcode"] == "LS1 1AA"
    assert submission.patient_data["address"] == "1 High Street\nLeeds"
    assert submission.consent_data["share_with_advice_service"] is True
    assert submission.consent_data["method"] == Consent.Method.VERBAL
    assert submission.referral_data["partnership"] == partnership
    assert [c.code for c in submission.referral_data["categories"]] == ["benefits"]
    assert submission.referral_data["urgency"] == "urgent"
    assert submission.if_none_exist == "identifier=https://gp-system.example/referrals|GP-2026-000123"
    referral = services.referral_save(
        actor=gp,
        patient_data=submission.patient_data,
        consent_data=submission.consent_data,
        referral_data=submission.referral_data,
        submit=True,
    )
    assert referral.status == ReferralStatus.SUBMITTED
    assert referral.known_deadline_kind == "decision_letter"
    assert referral.patient.given_name == "Alex"


def test_a_bundle_without_consent_is_refused_saying_so(gp):
    bundle = example_bundle()
    del bundle["entry"][CONSENT]
    status, issues = problems(bundle, gp)
    assert status == 422
    assert issues == [("required", pytest.approx(issues[0][1]), ["Bundle.entry"])]
    assert "no Consent" in issues[0][1]


def test_consent_without_scope_one_is_refused_like_the_form(gp):
    bundle = example_bundle()
    bundle["entry"][CONSENT]["resource"]["provision"]["provision"][0]["type"] = "deny"
    status, issues = problems(bundle, gp)
    assert status == 422
    assert issues == [
        (
            "required",
            "Select ‘Share this referral’ if the patient agreed: a referral cannot be sent without it",
            [f"Bundle.entry[{CONSENT}].resource.provision.provision[0].action[0]"],
        )
    ]


def test_an_nhs_number_failing_modulus_11_is_named_where_it_is(gp):
    bundle = changed(example_bundle(), PATIENT, identifier=[{"system": codes.NHS_NUMBER, "value": "4857773456"}])
    status, issues = problems(bundle, gp)
    assert status == 422
    assert issues == [
        (
            "invalid",
            "Enter a real NHS number: the last digit (the check digit) does not match the others. "
            "Copy it from the patient's record",
            [f"Bundle.entry[{PATIENT}].resource.identifier[0].value"],
        )
    ]


def test_every_problem_is_named_at_once(gp):
    bundle = changed(
        example_bundle(),
        PATIENT,
        identifier=[{"system": codes.NHS_NUMBER, "value": "12345"}],
        address=[{"text": "1 High Street", "postalCode": "NOT A CODE"}],
        name=[{"family": "Example"}],
    )
    bundle["entry"][SERVICE_REQUEST]["resource"]["category"] = [
        {"coding": [{"system": codes.system_url("problem-category"), "code": "astrology"}]}
    ]
    bundle["entry"][TASK]["resource"]["status"] = "accepted"
    status, issues = problems(bundle, gp)
    assert status == 422
    where = {expression[0]: code for code, _message, expression in issues}
    assert where == {
        f"Bundle.entry[{SERVICE_REQUEST}].resource.category[0].coding[0]": "code-invalid",
        f"Bundle.entry[{TASK}].resource.status": "invalid",
        f"Bundle.entry[{PATIENT}].resource.name[0].given": "required",
        f"Bundle.entry[{PATIENT}].resource.identifier[0].value": "invalid",
        f"Bundle.entry[{PATIENT}].resource.address[0].postalCode": "invalid",
        f"Bundle.entry[{SERVICE_REQUEST}].resource.category": "required",
    }


def test_an_unknown_service_code_is_refused(gp):
    bundle = changed(
        example_bundle(), SERVICE_REQUEST, code={"coding": [{"system": codes.SNOMED, "code": "306238000"}]}
    )
    status, issues = problems(bundle, gp)
    assert (status, issues[0][0], issues[0][2]) == (
        422,
        "code-invalid",
        [f"Bundle.entry[{SERVICE_REQUEST}].resource.code.coding[0]"],
    )


def test_another_resource_type_is_not_supported(gp):
    bundle = example_bundle()
    bundle["entry"].append(
        {
            "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
            "request": {"method": "POST", "url": "Observation"},
        }
    )
    status, issues = problems(bundle, gp)
    assert status == 400
    assert issues[0][0] == "not-supported" and issues[0][2] == ["Bundle.entry[4].resource"]


@pytest.mark.parametrize(
    "document",
    [
        [],
        "a string",
        {"resourceType": "Patient"},
        {"resourceType": "Bundle", "type": "transaction", "entry": "not a list"},
        {"resourceType": "Bundle", "type": "collection", "entry": []},
        {"resourceType": "Bundle", "type": "transaction", "entry": [1]},
        {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": "text"}]},
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [{"request": {"method": "DELETE", "url": "Patient/1"}}],
        },
    ],
)
def test_what_is_not_a_transaction_bundle_is_a_structure_problem(gp, document):
    status, issues = problems(document, gp)
    assert status == 400 and issues


def test_a_malformed_resource_is_named_where_it_is(gp):
    bundle = changed(example_bundle(), PATIENT, birthDate="1958-13-45", colour="blue")
    status, issues = problems(bundle, gp)
    assert status == 400
    assert {expression[0] for _code, _message, expression in issues} == {
        f"Bundle.entry[{PATIENT}].resource.birthDate",
        f"Bundle.entry[{PATIENT}].resource.colour",
    }


def test_a_representative_needs_their_authority(gp):
    bundle = copy.deepcopy(example_bundle())
    bundle["entry"][CONSENT]["resource"]["performer"] = [{"display": "Grace Hopper"}]
    status, issues = problems(bundle, gp)
    assert status == 422
    assert issues[0][1].startswith("Enter the representative's authority to consent")


def test_an_unknown_resource_type_is_named_not_a_crash(gp):
    bundle = example_bundle()
    bundle["entry"].append({"resource": {"resourceType": "Foo"}, "request": {"method": "POST", "url": "Foo"}})
    status, issues = problems(bundle, gp)
    assert (status, issues) == (
        400,
        [("not-supported", "Unknown resource type 'Foo'.", ["Bundle.entry[4].resource.resourceType"])],
    )


def _paths(node, prefix=()):
    """Every place in a JSON document, as a tuple of keys and indexes."""
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, (*prefix, key))


EXAMPLE_PATHS = list(_paths(json.loads(EXAMPLE.read_text())))[1:]
ODD_VALUES = [REMOVE := object(), "", "x", 0, -1, 10**30, True, None, [], {}, [{}], {"a": 1}, "2026-02-30", "💥" * 3]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.sampled_from(EXAMPLE_PATHS), st.sampled_from(ODD_VALUES)), min_size=1, max_size=3))
def test_any_changed_bundle_is_a_referral_or_an_operation_outcome_never_a_crash(gp, changes):
    bundle = example_bundle()
    for path, value in changes:
        node = bundle
        try:
            for key in path[:-1]:
                node = node[key]
            if value is REMOVE:
                del node[path[-1]]
            else:
                node[path[-1]] = copy.deepcopy(value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced this place
    try:
        read_submission(bundle, user=gp)
    except FhirError as refused:
        assert refused.status in (400, 422) and refused.issues


def test_json_nulls_are_elements_not_given(gp, partnership):
    bundle = example_bundle()
    bundle["entry"][PATIENT]["resource"]["name"][0]["given"] = [None, "Alex"]
    bundle["entry"][PATIENT]["resource"]["address"][0]["line"] = [None]
    bundle["entry"][PATIENT]["resource"]["address"][0]["text"] = None
    submission = read_submission(bundle, user=gp)
    assert submission.patient_data["given_name"] == "Alex"
    assert submission.patient_data["address"] == ""  # the phone the patient prefers is a way to reach them
    assert submission.order == ("Patient", "Consent", "ServiceRequest", "Task")
