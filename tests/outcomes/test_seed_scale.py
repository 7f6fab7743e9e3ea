"""seed_scale: the bulk history `make bench` measures (and anonymisation at scale) is valid data the app can work
on, in the proportions the README gives, owned in large part by the demo accounts."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from casework.models import Case, CaseNote
from hjp.audit.models import AuditEvent
from hjp.core.redaction import ErasureReason
from hjp.notifications.models import Message
from outcomes.scale import foreign_key_orphans
from referrals.models import Patient, Referral
from referrals.services.retention import anonymise_expired_records, retention_preview

pytestmark = pytest.mark.django_db


def test_seed_scale_makes_a_history_part_of_which_is_past_the_retention_period(settings):
    settings.DEBUG = True
    call_command("seed_scale", "--referrals", "60", stdout=StringIO())
    assert Referral.objects.count() == 60 and Case.objects.exists()
    expired = sum(row.count for row in retention_preview())
    assert 0 < expired < 60
    assert sum(anonymise_expired_records().values()) == expired
    assert Patient.objects.filter(redaction_reason=ErasureReason.RETENTION).count() == expired


def test_seed_scale_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_scale", "--referrals", "5", stdout=StringIO())


def test_seed_scale_writes_a_consistent_history_in_proportion_with_the_demo_accounts_owning_a_share(settings):
    settings.DEBUG = True
    call_command("seed_scale", "--referrals", "400", "--chunk", "150", stdout=StringIO())
    assert Referral.objects.count() == 400
    assert foreign_key_orphans() == {}  # loaded without per-row foreign-key checks: every reference resolves
    assert 0.5 < Case.objects.count() / 400 < 0.7
    assert 8 < CaseNote.objects.count() / 400 < 14
    assert Message.objects.filter(referral_id__isnull=False).count() > 300
    assert AuditEvent.objects.count() > 4 * 400
    assert Referral.objects.filter(referrer__email="gp@demo.hjp.test").count() > 20
    assert Case.objects.filter(advisor__email="advisor@demo.hjp.test", state="in_progress").exists()
    for referral in Referral.objects.select_related("patient", "consent")[:50]:
        referral.patient.full_clean()
        referral.full_clean()
