"""seed_scale: the bulk history used to measure anonymisation at scale is valid data the app can work on."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from casework.models import Case
from hjp.core.redaction import ErasureReason
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
