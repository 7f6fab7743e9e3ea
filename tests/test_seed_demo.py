import pytest
from django.core.management import CommandError, call_command

from hjp.accounts.models import User
from referrals.models import Referral, ReferralStatus


@pytest.mark.django_db
def test_seed_demo_runs_twice_and_covers_every_state(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    first = Referral.objects.count()
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert Referral.objects.count() == first >= 45
    assert "gp@demo.hjp.test" in out and "hjp-demo-password-2026" in out
    assert set(Referral.objects.values_list("status", flat=True)) == set(ReferralStatus.values)
    assert User.objects.filter(email="advisor@demo.hjp.test").exists()


@pytest.mark.django_db
def test_seed_demo_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.exists()
