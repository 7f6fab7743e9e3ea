from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hjp.accounts.demo import DEMO_PASSWORD, seed_world
from referrals.demo import seed_referrals


class Command(BaseCommand):
    help = "Create the demo partnership, one user per role and about 50 referrals. Safe to run again."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it creates users with a published password.")
        world = seed_world()
        made = seed_referrals(world)
        self.stdout.write(self.style.SUCCESS(f"Demo partnership ready ({made} new referrals)."))
        self.stdout.write(f"Sign in at http://127.0.0.1:8000/ with any of these; the password is {DEMO_PASSWORD}")
        for role, user in world.users.items():
            self.stdout.write(f"  {role:<10} {user.email}")
