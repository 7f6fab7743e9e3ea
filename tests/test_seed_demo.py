import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from hjp.accounts.demo import DEMO_TOTP_SECRET
from hjp.accounts.models import Funding, InKindSupport, Membership, Organisation, User
from hjp.audit.models import AuditEvent
from outcomes.demo import SURVEY_ANSWERS
from outcomes.models import CaseStudy, CaseStudyState
from outcomes.staff_survey.models import StaffSurveyResponse
from referrals.clinics.models import ClinicBooking, ClinicSession
from referrals.models import Handover, Patient, Referral, ReferralStatus
from referrals.service_page.models import ServicePage


@pytest.mark.django_db
def test_seed_demo_runs_twice_and_covers_every_state(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    first = Referral.objects.count()
    clinics = (ClinicSession.objects.count(), ClinicBooking.objects.active().count())
    handovers = list(Handover.objects.values_list("to_organisation__name", "state").order_by("pk"))
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert Referral.objects.count() == first >= 45
    assert clinics == (ClinicSession.objects.count(), ClinicBooking.objects.active().count()) == (3, 2)
    # The service page for referrers, and a few answers to the referrers' survey, made once.
    assert ServicePage.objects.get().contacts.startswith("Welfare rights duty line")
    assert StaffSurveyResponse.objects.count() == len(SURVEY_ANSWERS)
    assert "gp@demo.hjp.test" in out and "hjp-demo-password-2026" in out
    assert "manage.py demo_code" in out and DEMO_TOTP_SECRET in out  # how to pass the second step
    assert set(Referral.objects.values_list("status", flat=True)) == set(ReferralStatus.values)
    assert User.objects.filter(email="advisor@demo.hjp.test").exists()
    # A second advice service in the demo: one referral handed over to it and accepted, one waiting in its triage.
    assert handovers == list(Handover.objects.values_list("to_organisation__name", "state").order_by("pk"))
    assert handovers == [("Northside Law Centre", "accepted"), ("Northside Law Centre", "sent")]
    assert "partner@demo.hjp.test" in out
    # The engagement view: a practice champion to sign in as, and the practices' list sizes.
    assert "champion@demo.hjp.test" in out
    assert Membership.objects.filter(user__email="champion@demo.hjp.test", is_champion=True).count() == 1
    assert set(Organisation.objects.exclude(list_size=None).values_list("name", "list_size")) == {
        ("Riverside Surgery", 8400),
        ("Hillview Medical Centre", 6100),
    }
    # Deciles looked up from the postcodes through the sample table, as `load_imd` would with the real files.
    assert set(Patient.objects.values_list("deprivation_decile", flat=True)) <= {1, 2, 3, 6, None}
    assert Patient.objects.filter(deprivation_decile=1).exists()
    # Two funders and in-kind support beside them; one approved story in the funder report.
    assert Funding.objects.count() == 2 and InKindSupport.objects.count() == 2
    assert list(CaseStudy.objects.values_list("state", flat=True)) == [CaseStudyState.INCLUDED]
    # A management command is no entry point with an address: its audit entries say none, and no path.
    assert AuditEvent.objects.exists()
    assert set(AuditEvent.objects.values_list("ip_address", "path").distinct()) == {(None, "")}


@pytest.mark.django_db
def test_seed_demo_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_seed_demo_sends_people_to_the_address_the_server_answers_on(settings, capsys):
    settings.DEBUG = True
    settings.SITE_URL = "http://127.0.0.1:8123"
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "Sign in at http://127.0.0.1:8123/ " in out and ":8000" not in out


def test_make_run_gives_the_seed_and_the_server_the_address_it_serves_on():
    root = Path(__file__).resolve().parents[1]
    plan = subprocess.run(
        ["make", "-n", "run", "HOST=127.0.0.1", "PORT=8123"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    seed = next(line for line in plan.splitlines() if "seed_demo" in line)
    server = next(line for line in plan.splitlines() if "runserver" in line)
    assert 'SITE_URL="http://127.0.0.1:8123"' in seed
    assert 'SITE_URL="http://127.0.0.1:8123"' in server and "runserver 127.0.0.1:8123" in server
