import pytest
from django.core.management import call_command

from casework.models import AdviceProvider, Case, CaseState, EvidenceRequest
from hjp.accounts.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_the_advisor_and_supervisor_a_realistic_caseload(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=None)
    call_command("seed_demo", stdout=None)  # idempotent

    for email in ("advisor@demo.hjp.test", "supervisor@demo.hjp.test"):
        cases = Case.objects.filter(advisor=User.objects.get(email=email))
        assert {c.state for c in cases} == {CaseState.AWAITING_CONTACT, CaseState.IN_PROGRESS, CaseState.CLOSED}
        working = cases.filter(state=CaseState.IN_PROGRESS)
        assert all(c.notes.exists() and c.appointments.exists() and c.issues.exists() for c in working)
        assert working.filter(deadlines__kind="reconsideration").exists()
    assert Case.objects.count() == Case.objects.values("referral").distinct().count()
    assert EvidenceRequest.objects.filter(state="requested", requested_from__email="gp@demo.hjp.test").exists()
    assert EvidenceRequest.objects.filter(state="answered").exists()
    # Five named only, Northside Law Centre, which uses hjp, and Riverside Advice, which has a FHIR server.
    assert AdviceProvider.objects.count() == 7
    assert AdviceProvider.objects.get(name="Riverside Advice (FHIR)").sends_by_fhir
    assert Case.objects.filter(referral__status="submitted").count() == 0
