from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from casework.demo import seed_casework
from hjp.accounts.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_world
from outcomes.demo import seed_outcomes, seed_patient_voice, seed_staff_survey
from outcomes.services import figures_rebuild
from referrals.demo import seed_clinics, seed_deprivation_sample, seed_referrals, seed_service_page


class Command(BaseCommand):
    help = (
        "Create the demo partnership, one user per role, about 50 referrals with cases and outcomes, and advice "
        "clinic sessions, the service page for referrers and a few referrers' survey answers. Safe to run again."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it creates users with a published password.")
        world = seed_world()
        seed_deprivation_sample()  # before the referrals, whose deciles it gives
        made = seed_referrals(world)
        cases = seed_casework(world)
        with_outcomes = seed_outcomes(world)
        clinics = seed_clinics(world)
        seed_service_page(world)
        survey_answers = seed_staff_survey(world)
        # The seeders backdate rows with queryset updates, which no receiver sees: count the figures afresh.
        figures_rebuild()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo partnership ready ({made} new referrals, {cases} new cases, {with_outcomes} closed with outcomes, "
                f"{clinics} new advice clinic sessions, {survey_answers} new answers to the referrers' survey)."
            )
        )
        self.stdout.write(f"Sign in at {settings.SITE_URL}/ with any of these; the password is {DEMO_PASSWORD}")
        for role, user in world.users.items():
            self.stdout.write(f"  {role:<10} {user.email}")
        voice_url = seed_patient_voice(world)
        if voice_url:
            self.stdout.write(f"A patient's own link (no sign-in; it works once): {voice_url}")
        self.stdout.write(
            "The second step asks for a code from the demo authenticator app: run `.venv/bin/python manage.py "
            f"demo_code` for the current one, or add the secret {DEMO_TOTP_SECRET} to an authenticator app."
        )
