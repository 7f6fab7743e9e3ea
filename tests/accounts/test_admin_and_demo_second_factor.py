"""The admin site needs the second factor; the demo's authenticator, with its published secret, works only in
the demo (DEBUG) and never under production settings."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from hjp.accounts.demo import DEMO_TOTP_KEY, DEMO_TOTP_SECRET, demo_authenticator_add, seed_world
from tests import factories
from tests.support.auth import authenticator_for
from tests.support.production import PRODUCTION_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]
VERIFY = reverse("accounts:verify")


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(is_staff=True, is_superuser=True)


@pytest.mark.django_db
def test_the_admin_opens_only_after_the_second_step(client, admin_user):
    device = authenticator_for(admin_user)
    client.force_login(admin_user, second_factor=False)
    for page in ("/admin/", reverse("admin:accounts_user_changelist"), reverse("admin:audit_auditevent_changelist")):
        assert client.get(page)["Location"].startswith(f"{VERIFY}?next="), page
    client.logout()
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
    assert device.user == admin_user


@pytest.mark.django_db
def test_the_admin_site_itself_refuses_a_staff_user_who_has_not_passed_the_second_factor(client, admin_user, settings):
    """The second wall: without the middleware, django-otp's admin site still treats them as no staff."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "hjp.accounts.middleware.SecondFactorMiddleware"]
    authenticator_for(admin_user)
    client.force_login(admin_user, second_factor=False)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    client.logout()
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_admin_has_no_password_only_sign_in(client):
    response = client.get(f"{reverse('admin:login')}?next=/admin/accounts/")
    assert response.status_code == 302 and response["Location"] == f"{reverse('login')}?next=/admin/accounts/"


@pytest.mark.django_db
def test_the_admin_cannot_remove_or_plant_a_users_factors_outside_the_audited_reset(client, admin_user):
    """django-otp's own device pages would delete a user's authenticator or recovery codes unaudited and untold,
    or plant one with a key of the admin's choosing: they are not in the admin; the reset action is."""
    device = authenticator_for(factories.advisor())
    client.force_login(admin_user)
    for app, model in (("otp_totp", "totpdevice"), ("otp_static", "staticdevice")):
        assert client.get(f"/admin/{app}/{model}/").status_code == 404
        assert client.get(f"/admin/{app}/{model}/add/").status_code == 404
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/delete/").status_code == 404
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    changelist = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "Reset two-step sign-in" in changelist and device.key not in changelist


@pytest.mark.django_db
def test_demo_users_get_the_published_authenticator_and_its_code_signs_them_in(client, settings, capsys):
    settings.DEBUG = True
    world = seed_world()
    seed_world()  # idempotent: one authenticator each
    for user in world.users.values():
        assert list(TOTPDevice.objects.filter(user=user).values_list("key", "confirmed")) == [(DEMO_TOTP_KEY, True)]
    out = io.StringIO()
    call_command("demo_code", stdout=out, stderr=io.StringIO())
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    advisor = world.users["advisor"]
    client.force_login(advisor, second_factor=False)
    response = client.post(VERIFY, {"totp-kind": "totp", "totp-code": code, "next": "/"})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_the_demo_authenticator_is_refused_without_debug(client, settings):
    settings.DEBUG = True
    advisor = factories.advisor()
    demo_authenticator_add(advisor)
    out = io.StringIO()
    call_command("demo_code", stdout=out, stderr=io.StringIO())
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        demo_authenticator_add(factories.advisor())
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_code")
    # One left over in a database that moved from a demo to real use is refused at the second step.
    client.force_login(advisor, second_factor=False)
    response = client.post(VERIFY, {"totp-kind": "totp", "totp-code": out.getvalue().strip(), "next": "/"})
    assert response.status_code == 200 and "published demo authenticator" in response.content.decode()
    assert client.get("/")["Location"].startswith(VERIFY)


def test_production_settings_refuse_the_demo_authenticator():
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG")}
    env.update({**PRODUCTION_ENVIRONMENT, "DEBUG": "true"})
    result = subprocess.run(
        [sys.executable, "manage.py", "demo_code"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "demo_code only runs with DEBUG on" in result.stderr
    assert DEMO_TOTP_SECRET not in result.stdout
