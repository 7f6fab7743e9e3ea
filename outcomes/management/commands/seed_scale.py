"""`manage.py seed_scale --referrals 100000`: a large, realistic history for measuring hjp at scale (`make bench`).

What it writes, and how, is in outcomes/scale.py. It invents data and gives the demo accounts their published
password and authenticator: it refuses to run without DEBUG, like seed_demo, so it never runs on a live
database by accident. PostgreSQL only (it loads through COPY)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from outcomes.scale import CHUNK, seed_scale_history
from referrals.models import ProblemCategory


class Command(BaseCommand):
    help = (
        "Bulk-load a large history: referrals, cases, notes, outcomes, messages and audit entries, the demo "
        "accounts owning a large share (PostgreSQL, DEBUG only). 100,000 referrals by default; up to 1,000,000."
    )

    def add_arguments(self, parser):
        parser.add_argument("--referrals", type=int, default=100_000, help="How many referrals (default 100,000).")
        parser.add_argument("--years", type=int, default=12, help="Spread the referrals over this many years.")
        parser.add_argument("--seed", type=int, default=2026, help="The random seed (the same seed, the same data).")
        parser.add_argument("--chunk", type=int, default=CHUNK, help="Referrals loaded in one transaction.")

    def handle(self, *args, referrals: int, years: int, seed: int, chunk: int, **options):
        if not settings.DEBUG:
            raise CommandError("seed_scale invents data: it runs only with DEBUG on, never on a live database.")
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_scale loads through PostgreSQL's COPY: set DATABASE_URL to a PostgreSQL database "
                "(on SQLite, `manage.py seed_demo` makes the demo history)."
            )
        if referrals < 1 or years < 1 or chunk < 1:
            raise CommandError("--referrals, --years and --chunk must be at least 1.")
        if not ProblemCategory.objects.filter(code="benefits").exists():
            raise CommandError("Migrate first: the problem categories come with the migrations.")
        seeded = seed_scale_history(
            referrals=referrals, years=years, seed=seed, chunk=chunk, say=lambda line: self.stdout.write(line)
        )
        self.stdout.write(
            self.style.SUCCESS(f"Created {referrals:,} referrals over {years} years in {seeded.seconds:.0f} seconds.")
        )
        for table, count in seeded.rows.items():
            self.stdout.write(f"  {table:<32} {count:>12,}")
        if options["verbosity"] > 1:
            for label, seconds in sorted(seeded.spent.items(), key=lambda item: -item[1]):
                self.stdout.write(f"  {label:<32} {seconds:>10.1f} s")
