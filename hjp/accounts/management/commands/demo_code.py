import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from hjp.accounts.demo import DEMO_TOTP_KEY, DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current code of the demo users' authenticator app (its secret is published; DEBUG only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_code only runs with DEBUG on: the demo authenticator exists only in the demo.")
        totp = TOTP(bytes.fromhex(DEMO_TOTP_KEY))
        now = time.time()
        totp.time = now
        left = int(totp.step - (now - totp.t0) % totp.step)
        self.stdout.write(f"{totp.token():06d}")
        self.stderr.write(
            f"The demo users' second-step code for the next {left} s. Each code signs a user in once: "
            f"for the next, wait or use an authenticator app with the secret {DEMO_TOTP_SECRET}."
        )
