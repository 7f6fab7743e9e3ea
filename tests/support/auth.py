"""Signing in, in tests, with both factors: a password and a code from an authenticator app.

`Client` is Django's test client whose `force_login` also passes the second step, as a person does after
typing their password, with the user's authenticator app (set up now where they have none): the session
records the device the way `django_otp.login` does (hjp.accounts.factors.mark_session_verified). Tests of the
second step itself pass `second_factor=False` and sign in with the password only. `totp_code` computes the code
an authenticator app shows, with django-otp's own TOTP, as the browser tests type it."""

import time

from django.test import Client as DjangoClient
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from hjp.accounts.demo import DEMO_TOTP_KEY
from hjp.accounts.factors import mark_session_verified


def authenticator_for(user) -> TOTPDevice:
    """The user's confirmed authenticator app, set up now if they have none. Never the demo users' published
    one, which works only with DEBUG on (the tests run with it off)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).exclude(key=DEMO_TOTP_KEY).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)


def totp_code(device: TOTPDevice | None = None, *, key: bytes | None = None, wait: bool = True) -> str:
    """The code the app shows now; for a device, one it has not accepted yet (django-otp takes each time
    step once, and one step ahead of the clock): the next step's code when this step's was used, or, when
    that was used too, after waiting for the clock to move on."""
    if device is not None:
        device.refresh_from_db()
        key = device.bin_key
    while True:
        totp = TOTP(key, drift=device.drift if device is not None else 0)
        totp.time = time.time()
        now = totp.t()
        step = now if device is None else max(now, device.last_t + 1)
        if step <= now + 1:
            totp.drift += step - now
            return f"{totp.token():06d}"
        assert wait, "every code the device would accept now has been used"
        time.sleep(totp.step - (totp.time - totp.t0) % totp.step + 0.05)


class Client(DjangoClient):
    def force_login(self, user, backend=None, *, second_factor: bool = True):
        super().force_login(user, backend)
        if second_factor:
            session = self.session
            mark_session_verified(session, authenticator_for(user))
            session.save()


def sign_in(client, user, password: str) -> None:
    """Sign in as a person does: the password on the sign-in page, then the code the user's authenticator app
    shows on the second step (set up now where they have none)."""
    from django.urls import reverse

    device = authenticator_for(user)
    response = client.post(reverse("login"), {"username": user.email, "password": password})
    assert response.status_code == 302, "the password was refused"
    response = client.post(reverse("accounts:verify"), {"totp-kind": "totp", "totp-code": totp_code(device)})
    assert response.status_code == 302, "the second step was refused"
