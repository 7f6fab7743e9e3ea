import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.support.auth import authenticator_for, totp_code
from tests.support.production import PRODUCTION_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_sign_in_by_email_lands_on_the_role_home(client, referrer_user):
    device = authenticator_for(referrer_user)
    response = client.post(
        reverse("login"), {"username": referrer_user.email.upper(), "password": factories.PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"{reverse('accounts:verify')}?next=%2F"  # then the second step
    response = client.post(
        reverse("accounts:verify"), {"totp-kind": "totp", "totp-code": totp_code(device), "next": "/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("referrals:home")


@pytest.mark.django_db
def test_a_wrong_password_says_so_without_saying_which_part(client, referrer_user):
    response = client.post(reverse("login"), {"username": referrer_user.email, "password": "wrong"})
    assert "do not match an account" in response.content.decode()


@pytest.mark.django_db
def test_repeated_failed_sign_ins_lock_the_account_out(client, referrer_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": referrer_user.email, "password": "wrong"})
    locked = client.post(reverse("login"), {"username": referrer_user.email, "password": factories.PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_passwords_need_at_least_12_characters(client, referrer_user):
    with pytest.raises(ValidationError, match="at least 12"):
        validate_password("Tr0ub4dor&3")
    client.force_login(referrer_user)
    change = reverse("password_change")
    short = client.post(
        change, {"old_password": factories.PASSWORD, "new_password1": "Tr0ub4dor&3", "new_password2": "Tr0ub4dor&3"}
    )
    assert short.status_code == 200 and "at least 12 characters" in short.content.decode()
    referrer_user.refresh_from_db()
    assert referrer_user.check_password(factories.PASSWORD)  # refused: the old password still works
    long_enough = client.post(
        change,
        {
            "old_password": factories.PASSWORD,
            "new_password1": "velvet quartz meadow",
            "new_password2": "velvet quartz meadow",
        },
    )
    assert long_enough["Location"] == reverse("password_change_done")
    referrer_user.refresh_from_db()
    assert referrer_user.check_password("velvet quartz meadow")


@pytest.mark.django_db
def test_sessions_end_after_30_idle_minutes_and_activity_keeps_them_alive(client, referrer_user, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
    client.force_login(referrer_user)
    page = reverse("referrals:list")
    signed_out = f"{reverse('login')}?next={page}"
    for minutes in (29, 58, 87):  # each visit, under 30 minutes after the one before, restarts the clock
        time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes), tick=False)
        assert client.get(page).status_code == 200
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=87 + 31), tick=False)
    response = client.get(page)
    assert response.status_code == 302 and response["Location"] == signed_out


@pytest.mark.django_db
def test_sign_out_is_a_post_and_ends_the_session(client, referrer_user):
    client.force_login(referrer_user)
    page = reverse("referrals:list")
    # A link or an image on another site cannot sign anyone out: a GET is refused and the session stays.
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(page).status_code == 200
    client.post(reverse("logout"))
    response = client.get(page)
    assert response.status_code == 302 and response["Location"] == f"{reverse('login')}?next={page}"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_content_security_policy_with_nonces_on_every_script(client, referral):
    client.force_login(referral.referrer)
    response = client.get(reverse("referrals:create"))
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy
    scripts = re.findall(r"<script[^>]*>", response.content.decode())
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert ' style="' not in response.content.decode()


PRODUCTION_ENV = PRODUCTION_ENVIRONMENT


def _run_manage(*args, env_extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _run_manage("check", env_extra={"DJANGO_SETTINGS_MODULE": "hjp.settings.production"})
    assert result.returncode != 0 and "SECRET_KEY must be set in production" in result.stderr


def test_production_cookies_carry_the_host_prefix_over_https_only_for_the_whole_site_and_this_host():
    printed = (
        "from django.conf import settings as s; "
        "print([s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SESSION_COOKIE_PATH, s.CSRF_COOKIE_PATH, s.SESSION_COOKIE_DOMAIN, s.CSRF_COOKIE_DOMAIN])"
    )
    result = _run_manage("shell", "--no-imports", "-c", printed, env_extra=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['__Host-sessionid', '__Host-csrftoken', True, True, '/', '/', None, None]"


@pytest.mark.django_db
def test_a_permissions_policy_on_every_page_switches_off_what_hjp_never_uses_and_keeps_passkeys(
    client, referrer_user, settings
):
    expected = {
        "camera=()",
        "microphone=()",
        "geolocation=()",
        "payment=()",
        "usb=()",
        "publickey-credentials-get=(self)",
        "publickey-credentials-create=(self)",
    }
    signed_out = [client.get(reverse("login")), client.get(reverse("password_reset")), client.get("/healthz/live")]
    client.force_login(referrer_user)
    signed_in = [client.get(reverse("referrals:list")), client.get("/no-such-page/"), client.get(reverse("home"))]
    assert [r.status_code for r in signed_out + signed_in] == [200, 200, 200, 200, 404, 302]
    for response in signed_out + signed_in:
        assert set(response["Permissions-Policy"].split(", ")) == expected
    settings.SECURE_SSL_REDIRECT = True  # as in production: the redirect to HTTPS carries it too
    redirect = Client().get(reverse("login"))
    assert redirect.status_code == 301 and redirect["Location"].startswith("https://")
    assert set(redirect["Permissions-Policy"].split(", ")) == expected
